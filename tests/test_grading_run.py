"""Whole `mildip grade` runs: interrupts, limits that hold for the whole notebook, course-wide
failures, late penalties and tests that call a student's function."""

import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from conftest import BIN, ROOT, as_submitted, copy_course, mildip, points, require_sandbox, scores

ASSIGNMENT = "ps1-nato-burden-sharing"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SOURCE = nbformat.read(ROOT / "exercises" / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
FULL = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in SOURCE.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}
ZERO = dict.fromkeys(FULL, 0.0)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def sandbox_installed():
    require_sandbox()


def released_course(where: Path) -> tuple[Path, nbformat.NotebookNode, nbformat.NotebookNode]:
    course = copy_course(where)
    result = mildip(course, "release", "ps1")
    assert result.returncode == 0, result.stderr
    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    return course, released, as_submitted(SOURCE, released)


def answer(notebook, grade_id, code):
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code
    return notebook


def submit(course, student, notebook, assignment=ASSIGNMENT, name=NOTEBOOK):
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / name)
    return folder


def report(course, assignment=ASSIGNMENT):
    path = course / "grades" / f"{assignment}.csv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def descendants(pid: int) -> set[int]:
    """Every living process started, directly or not, by process ``pid``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """The processes of ``pids`` still running (a zombie has ended)."""
    running = set()
    for pid in pids:
        try:
            state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                         if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if "zombie" not in state:
            running.add(pid)
    return running


def leftovers(pid, started: set[int]):
    """Processes (of those the run had started) and cgroups a grading run left behind."""
    return sorted(alive(started)), [str(p) for p in Path("/sys/fs/cgroup").rglob(f"mildip-{pid}")]


# --- interrupts --------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_stops_at_once_and_keeps_every_finished_result(tmp_path, signum):
    course, _, solution = released_course(tmp_path)
    submit(course, "s0-quick", solution)
    slow = answer(solution, "q1_answer", "import time\ntime.sleep(120)")
    for index in range(1, 5):
        submit(course, f"s{index}-slow", slow)
    env = dict(os.environ, MILDIP_COURSE=str(course), PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    process = subprocess.Popen([str(BIN / "mildip"), "grade", "ps1", "--jobs", "1", "--cell-timeout", "150"],
                               cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while "s0-quick" not in report(course) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert "s0-quick" in report(course), process.communicate()
    time.sleep(2)  # s1-slow is now sleeping in its sandbox
    started_processes = descendants(process.pid)
    assert len(started_processes) >= 3  # bubblewrap and the kernels it started
    process.send_signal(signum)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - started < 5, "the run did not stop within 5 seconds"
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    kept = report(course)
    assert set(kept) == {"s0-quick"} and kept["s0-quick"]["status"] == "graded"
    time.sleep(1)
    assert leftovers(process.pid, started_processes) == ([], []), "sandboxes or cgroups were left behind"


# --- limits that hold for the whole notebook ------------------------------------------------

# Each attack uses a resource hard for a few seconds, then lets the notebook go on, so that its
# later answers can still earn their points: what is checked is that the limits hold and that the
# notebook graded beside it never notices.
SPIN = "import time\nt = time.time()\nwhile time.time() - t < 4:\n    pass\n"
ATTACKS = {
    "a-fork-bomb": "import os, time\nforked = 0\nfor _ in range(10_000):\n    try:\n        if os.fork() == 0:\n"
                   + "".join("            " + line + "\n" for line in SPIN.splitlines())
                   + "            os._exit(0)\n        forked += 1\n    except OSError:\n        break\n"
                   "print('forked', forked)",
    "c-busy-processes": "import subprocess, sys\nprocs = []\nfor _ in range(160):\n    try:\n"
                        f"        procs.append(subprocess.Popen([sys.executable, '-c', {SPIN!r}]))\n"
                        "    except OSError:\n        break\nprint('started', len(procs))\n"
                        "[p.wait() for p in procs]",
    "e-memory-children": "import multiprocessing as mp, time\n"
                         "def hog():\n    block = bytearray(700 * 1024**2)\n"
                         "    for i in range(0, len(block), 4096):\n        block[i] = 1\n    time.sleep(5)\n"
                         "children = [mp.get_context('fork').Process(target=hog) for _ in range(4)]\n"
                         "[c.start() for c in children]\n[c.join(20) for c in children]",
    "g-fill-tmpfs": "import os\nfor where in ('/dev/shm', '/tmp', '.'):\n    try:\n"
                    "        with open(os.path.join(where, 'fill'), 'wb') as f:\n"
                    "            for _ in range(4096):\n                f.write(b'x' * 1024**2)\n"
                    "    except OSError as error:\n        print(where, error.errno)",
    "i-huge-message": "from IPython.display import display\ndisplay({'text/plain': 'x' * 300_000_000}, raw=True)",
}


def peak_memory(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def test_one_notebooks_resources_never_reach_its_neighbours(tmp_path):
    course, _, solution = released_course(tmp_path)
    for name, code in ATTACKS.items():
        submit(course, name, answer(solution, "q1_answer", code))
        submit(course, f"{chr(ord(name[0]) + 1)}-honest", solution)
    env = dict(os.environ, MILDIP_COURSE=str(course), PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    process = subprocess.Popen([str(BIN / "mildip"), "grade", "ps1", "--jobs", "2", "--cell-timeout", "60",
                                "--notebook-timeout", "200", "--memory", "2"],
                               cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, started_processes = 0, set()
    while process.poll() is None:
        peak = max(peak, peak_memory(process.pid))
        started_processes |= descendants(process.pid)
        time.sleep(0.2)
    stdout, stderr = process.communicate()
    assert process.returncode == 0, stdout + stderr
    rows, table = report(course), scores(course, ASSIGNMENT)
    for name in ATTACKS:
        honest = f"{chr(ord(name[0]) + 1)}-honest"
        assert rows[honest]["status"] == "graded" and points(table, honest) == FULL, honest
        assert points(table, name) == dict(FULL, q1_tests=0.0), name
    assert rows["e-memory-children"]["status"] == "memory limit"
    printed = {name: "".join(o.get("text", "") for c in nbformat.read(
        course / "autograded" / name / ASSIGNMENT / NOTEBOOK, as_version=4).cells for o in c.get("outputs", []))
        for name in ("a-fork-bomb", "c-busy-processes")}
    assert 0 < int(printed["a-fork-bomb"].split("forked ")[1].split()[0]) < 64
    assert 0 < int(printed["c-busy-processes"].split("started ")[1].split()[0]) < 64
    assert "output cut" not in rows["b-honest"]["reason"]
    assert peak < 1024**3, f"the grader itself used {peak / 1024**2:.0f} MiB"
    assert not list(Path("/dev/shm").glob("fill")) and not (course / "fill").exists()
    assert leftovers(process.pid, started_processes) == ([], [])


# --- a failure that is the course's, not the students' --------------------------------------


def test_a_course_wide_failure_stops_the_run_and_is_never_exported_as_zero(tmp_path):
    course, _, solution = released_course(tmp_path)
    source_path = course / "source" / ASSIGNMENT / NOTEBOOK
    broken = nbformat.read(source_path, as_version=4)
    setup = next(c for c in broken.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    setup.source = setup.source.replace('load_dataset("nato_members")', 'load_dataset("nato_member_states")')
    nbformat.write(broken, source_path)
    assert mildip(course, "release", "ps1").returncode == 0
    for index in range(6):
        submit(course, f"s{index}", solution)
    result = mildip(course, "grade", "ps1", "--jobs", "1")
    assert result.returncode == 1
    assert "stopped" in result.stderr and "instructor's" in result.stderr and "nato_member_states" in result.stderr
    assert "Traceback" not in result.stderr
    rows = report(course)
    assert 3 <= len(rows) < 6 and all(r["status"] == "course error" and r["score"] == "" for r in rows.values())
    exported = mildip(course, "export", "--status")
    assert exported.returncode == 0, exported.stderr
    with (course / "grades" / "grades.csv").open(encoding="utf-8") as f:
        sheet = {row["student"]: row for row in csv.DictReader(f)}
    for student in rows:
        assert sheet[student][ASSIGNMENT] == ""
        assert sheet[student][f"{ASSIGNMENT} status"].startswith("could not be graded")
        assert "instructor's cell" in sheet[student][f"{ASSIGNMENT} status"]


# --- late penalties from nbgrader's configuration ----------------------------------------


def test_late_penalties_in_the_course_configuration_apply(tmp_path):
    from nbgrader.api import Gradebook

    course, _, solution = released_course(tmp_path)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as f:
        f.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate="2026-10-01 17:00:00 UTC")
    submit(course, "on-time", solution).joinpath("timestamp.txt").write_text("2026-10-01 16:59:00 UTC")
    submit(course, "late", solution).joinpath("timestamp.txt").write_text("2026-10-02 17:00:00 UTC")
    result = mildip(course, "grade", "ps1")
    assert result.returncode == 0, result.stderr
    rows = report(course)
    assert float(rows["on-time"]["score"]) == sum(FULL.values()) and float(rows["on-time"]["late_seconds"]) == 0
    assert float(rows["late"]["score"]) == 0 and float(rows["late"]["late_seconds"]) == 86400
    assert "late" in rows["late"]["reason"]


# --- a test that calls a student's function ------------------------------------------------


def grade_cell(kind, source, **meta):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "locked": False, "solution": False,
                                 "task": False, **meta}
    return cell


FUNCTIONS = "functions"
FUNCTION_TEST = '''assert double(21) == 42, "double(21) should be 42"
### BEGIN HIDDEN TESTS
import pandas as pd
_result = double(pd.Series([1.5, 2.0], index=["a", "b"]))
assert isinstance(_result, pd.Series) and _result.to_dict() == {"a": 3.0, "b": 4.0}, "double should work on a Series"
### END HIDDEN TESTS'''


def test_a_test_calls_the_students_function_in_the_sandbox_and_gets_back_only_its_result(tmp_path):
    course = copy_course(tmp_path)
    source = nbformat.v4.new_notebook(cells=[
        grade_cell("code", "import pandas as pd", grade_id="setup", locked=True),
        grade_cell("code", "### BEGIN SOLUTION\ndef double(x):\n    return 2 * x\n### END SOLUTION",
                   grade_id="answer", solution=True),
        grade_cell("code", FUNCTION_TEST, grade_id="tests", grade=True, locked=True, points=3),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (course / "source" / FUNCTIONS).mkdir()
    nbformat.write(source, course / "source" / FUNCTIONS / f"{FUNCTIONS}.ipynb")
    assert mildip(course, "release", FUNCTIONS).returncode == 0
    released = nbformat.read(course / "release" / FUNCTIONS / f"{FUNCTIONS}.ipynb", as_version=4)
    students = {
        "right": "def double(x):\n    return 2 * x",
        "wrong": "def double(x):\n    return x + 2",
        "looks-only-visible": "def double(x):\n    return 42",
        "hangs": "def double(x):\n    while True:\n        pass",
        "peeks": "import sys\ndef double(x):\n    frame = sys._getframe(1)\n"
                 "    print(sorted(frame.f_globals))\n    return 2 * x if not isinstance(x, int) else 42",
        "not-a-function": "double = 42",
    }
    for student, code in students.items():
        submit(course, student, answer(released, "answer", code), FUNCTIONS, f"{FUNCTIONS}.ipynb")
    result = mildip(course, "grade", FUNCTIONS, "--cell-timeout", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    table = scores(course, FUNCTIONS)
    earned = {s: points(table, s)["tests"] for s in students}
    assert earned == {"right": 3.0, "wrong": 0.0, "looks-only-visible": 0.0, "hangs": 0.0, "peeks": 3.0,
                      "not-a-function": 0.0}
    graded = (course / "autograded" / "peeks" / FUNCTIONS / f"{FUNCTIONS}.ipynb").read_text(encoding="utf-8")
    assert "_result" not in graded and "BEGIN HIDDEN TESTS" not in graded


# --- where the machine offers no cgroups -----------------------------------------------------


def test_without_cgroups_the_per_process_limits_still_hold(tmp_path, monkeypatch):
    from mildip.grading import autograde, sandbox
    from mildip.grading.course import Course

    course, _, solution = released_course(tmp_path)
    submit(course, "honest", solution)
    submit(course, "hog", answer(solution, "q1_answer", "hog = bytearray(6 * 1024**3)"))
    submit(course, "filler", answer(solution, "q1_answer", "open('big', 'wb').write(b'x' * 700 * 1024**2)"))
    monkeypatch.setattr(sandbox.CgroupLimits, "detect", classmethod(lambda cls: None))
    assert sandbox.limits_in_force().startswith("per process only")
    results = {r.student: r for r in autograde.grade(Course.open(course), "ps1", jobs=2, progress=False,
                                                     limits=sandbox.Limits(memory_bytes=2 * 1024**3))}
    table = scores(course, ASSIGNMENT)
    assert results["honest"].status.value == "graded" and points(table, "honest") == FULL
    assert results["hog"].status.value == "memory limit" and points(table, "hog") == dict(FULL, q1_tests=0.0)
    assert points(table, "filler") == dict(FULL, q1_tests=0.0)
