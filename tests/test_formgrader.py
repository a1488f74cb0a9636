"""`mildip formgrader`, as the README tells the instructor to start it, shows the course's
assignments and mildip's grades (nbgrader's formgrader reads the course's own configuration)."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import nbformat
import pytest

from conftest import BIN, ROOT, as_submitted, copy_course, mildip, require_sandbox

ASSIGNMENT = "ps1-nato-burden-sharing"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_formgrader_shows_the_course_and_mildips_grades(tmp_path):
    require_sandbox()
    course = copy_course(tmp_path)
    assert mildip(course, "release", "ps1").returncode == 0
    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solution = as_submitted(nbformat.read(ROOT / "exercises" / "source" / ASSIGNMENT / NOTEBOOK, as_version=4),
                            released)
    (course / "submitted" / "ann" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(solution, course / "submitted" / "ann" / ASSIGNMENT / NOTEBOOK)
    assert mildip(course, "grade", "ps1").returncode == 0

    port, token = free_port(), "mildip-test-token"
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    env.pop("MILDIP_COURSE", None)
    # started from the course folder, with no --course: the way the README says to start it
    server = subprocess.Popen([str(BIN / "mildip"), "formgrader", "--no-browser", f"--port={port}",
                               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
                               "--ServerApp.root_dir=" + str(course), *(["--allow-root"] if os.geteuid() == 0 else [])],
                              cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}/formgrader/api"
        deadline = time.monotonic() + 120
        assignments = None
        while time.monotonic() < deadline:
            try:
                assignments = get(f"{base}/assignments", token)
                break
            except OSError:
                time.sleep(1)
        assert assignments is not None, "formgrader did not answer"
        names = {a["name"]: a for a in assignments}
        assert ASSIGNMENT in names and names[ASSIGNMENT]["num_submissions"] == 1
        (submission,) = get(f"{base}/submissions/{ASSIGNMENT}", token)
        assert submission["student"] == "ann" and submission["needs_manual_grade"]
        assert submission["score"] == sum(c.metadata["nbgrader"]["points"] for c in released.cells
                                          if c.metadata.get("nbgrader", {}).get("grade")
                                          and c.cell_type == "code")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
