"""Shared fixtures: the repository's paths, the book built for the tests and a scratch nbgrader course."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BUILD = [str(BIN / "jupyter-book"), "build", ".", "--warningiserror", "--nitpick", "--keep-going"]
#: Where the tests build the book: a folder of this test run's own, never the working tree's
#: _build/ (which `make book` owns). Execution is still cached in _build/.jupyter_cache, as
#: _config.yml says, so unchanged chapters are not executed again.
#: One folder per test run, named after the process that runs it: pytest-xdist's workers are
#: children of the controller, which removes the folder at the end (:func:`pytest_sessionfinish`).
RUN = os.getppid() if "PYTEST_XDIST_WORKER" in os.environ else os.getpid()
BOOK_OUTPUT = Path(tempfile.gettempdir()) / f"mildip-test-book-{RUN}"
SITE = BOOK_OUTPUT / "_build" / "html"


def run(command: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run a command with the virtualenv's bin first on PATH (nbgrader needs its alembic)."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built_book():
    """Build the book into SITE once per test run (test_book and test_browser share it).

    ``make test`` runs the test files on several workers (pytest-xdist, ``--dist loadfile``): the
    first worker to ask builds, under a lock, and records the result; the others read it. The
    build starts from an empty output folder, so that no stale page is tested; the folder is
    removed when the run ends (:func:`pytest_sessionfinish`).
    """
    import fcntl

    BOOK_OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    record = BOOK_OUTPUT.with_name(BOOK_OUTPUT.name + ".json")
    with open(BOOK_OUTPUT.with_name(BOOK_OUTPUT.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.is_file():
            shutil.rmtree(BOOK_OUTPUT, ignore_errors=True)
            result = run([*BUILD, "--path-output", str(BOOK_OUTPUT)], cwd=ROOT, timeout=1800)
            record.write_text(json.dumps([result.args, result.returncode, result.stdout, result.stderr]))
    return subprocess.CompletedProcess(*json.loads(record.read_text()))


def pytest_sessionfinish(session):
    """The book built for this run goes when the run ends (in the controller, after every worker)."""
    if not hasattr(session.config, "workerinput"):
        for path in (BOOK_OUTPUT, *(BOOK_OUTPUT.with_name(BOOK_OUTPUT.name + suffix) for suffix in (".json", ".lock"))):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def require_sandbox() -> None:
    """Skip (or, under CI, fail) when bubblewrap, which grading needs, is not installed."""
    if shutil.which("bwrap") is None:
        message = "grading runs notebooks in a bubblewrap sandbox: install it with `apt-get install bubblewrap`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def copy_course(where: Path) -> Path:
    """A copy of the course's nbgrader folder (config and sources only) in ``where/course``."""
    target = where / "course"
    target.mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", target)
    shutil.copytree(ROOT / "exercises" / "source", target / "source")
    return target


def mildip(course: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the `mildip` command on the course in ``course`` (``env``: extra environment)."""
    env = dict(os.environ, MILDIP_COURSE=str(course), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               **(env or {}))
    return subprocess.run([str(BIN / "mildip"), *args], cwd=course, env=env, capture_output=True, text=True,
                          timeout=900)


@pytest.fixture
def course(tmp_path) -> Path:
    """A scratch copy of the course (config and sources only)."""
    return copy_course(tmp_path)


def as_submitted(solution, released):
    """The released notebook with the solution's answers filled in: what a good student submits."""
    import json

    import nbformat

    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    notebook = nbformat.from_dict(json.loads(json.dumps(released)))
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def scores(course: Path, assignment: str):
    """The gradebook's points per student and question for ``assignment`` of ``course``."""
    from mildip.grading.course import Course
    from mildip.grading.gradebook import scores as table

    return table(Course.open(course), assignment)


def points(table, student: str) -> dict:
    """{test cell: autograded points} of one student; a question never graded counts 0."""
    rows = table[(table["student"] == student) & (table["kind"] == "auto")]
    return dict(zip(rows["question"], rows["auto_score"].fillna(0)))
