"""Grading a whole class with `mildip grade`: robust to bad submissions, sandboxed, fair.

One class of ps1 submissions mixes well-formed ones with every kind of bad one an instructor
meets (or a student might try). It is graded once, with short limits, and each test checks one
promise: the right status for each, unchanged scores for the good ones, no way for student code
to touch grades, hidden tests or other submissions, and a second run that changes nothing.
"""

import csv
import json
import os
import subprocess
import time

import nbformat
import pytest

from conftest import BIN, ROOT, require_sandbox, as_submitted, copy_course, mildip
from mildip import grading

pytestmark = pytest.mark.slow

ASSIGNMENT = "ps1-nato-burden-sharing"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SOURCE = nbformat.read(ROOT / "exercises" / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
SOLUTION = None  # the released notebook with the solution's answers, set once the class is released
FULL = {"q1_tests": 2.0, "q2_tests": 2.0, "q3_tests": 2.0, "q4_tests": 2.0}
ZERO = dict.fromkeys(FULL, 0.0)


@pytest.fixture(autouse=True, scope="module")
def sandbox_installed():
    require_sandbox()


def answer(grade_id, code, notebook=None):
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook or SOLUTION)))
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code
    return notebook


def without(grade_id):
    notebook = nbformat.from_dict(json.loads(json.dumps(SOLUTION)))
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return notebook


def duplicated(grade_id):
    notebook = nbformat.from_dict(json.loads(json.dumps(SOLUTION)))
    index = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    notebook.cells.insert(index, nbformat.from_dict(json.loads(json.dumps(notebook.cells[index]))))
    return notebook


def bad_kernel():
    notebook = nbformat.from_dict(json.loads(json.dumps(SOLUTION)))
    notebook.metadata["kernelspec"] = {"name": "python-that-does-not-exist", "display_name": "Nope", "language": "python"}
    return notebook


NOISY_CORRECT = '''import warnings
class Noisy(pd.Series):
    @property
    def _constructor(self):
        return Noisy
    def reindex(self, *args, **kwargs):
        warnings.warn("reindex will change in a future version", FutureWarning)
        return super().reindex(*args, **kwargs)
allies_at_2pct = Noisy(spending[spending["share_gdp_pct"] >= 2].groupby("year").size().reindex(range(2014, 2025), fill_value=0))
'''

SWALLOW = '''ip = get_ipython()
def swallow(lines):
    return ["try:\\n"] + ["    " + line for line in lines] + ["\\nexcept BaseException:\\n    pass\\n"]
ip.input_transformers_cleanup.append(swallow)
'''


def build_class(course):
    """{student: notebook or raw bytes or None (empty folder) or (file name, bytes)}."""
    gradebook = course / "gradebook.db"
    source = course / "source" / ASSIGNMENT / NOTEBOOK
    return {
        "alice": SOLUTION,
        "bob": SOLUTION,
        "carol": answer("q1_answer", 'allies_at_2pct = spending[spending["share_gdp_pct"] > 2].groupby("year").size()'),
        "dave-loop": answer("q1_answer", "while True:\n    pass"),
        "erin-stubborn": answer("q1_answer", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
        "frank-memory": answer("q1_answer", "hog = bytearray(6 * 1024**3)"),
        "grace-sysexit": answer("q1_answer", "import sys\nsys.exit()"),
        "heidi-osexit": answer("q1_answer", "import os\nos._exit(1)"),
        "ivan-truncated": json.dumps(SOLUTION)[:5000].encode(),
        "judy-not-a-notebook": b"%PDF-1.4 this is not a notebook",
        "ken-renamed": ("ps1 (1).ipynb", SOLUTION),
        "leo-deleted-test": without("q2_tests"),
        "mia-duplicated-test": duplicated("q3_tests"),
        "nick-edited-test": answer("q4_tests", "pass  # the test is gone", answer("q4_answer", "size_share_corr = 0.5")),
        "olga-gradebook": answer("q1_answer", f"import sqlite3\ncon = sqlite3.connect({str(gradebook)!r})\n"
                                              "con.execute('update grade set auto_score = 99')\ncon.commit()"),
        "pat-lock": answer("q1_answer", f"import sqlite3\ncon = sqlite3.connect({str(gradebook)!r})\n"
                                        "con.execute('begin exclusive')"),
        "quinn-hidden": answer("q1_answer", f"print(open({str(source)!r}).read())"),
        "rita-other-student": answer("q1_answer", f"print(open({str(course / 'submitted' / 'alice' / ASSIGNMENT / NOTEBOOK)!r}).read())"),
        "sam-plant": answer("q1_answer", f"open('pandas.py', 'w').write('raise ImportError')\n"
                                         f"open({str(ROOT / 'pandas.py')!r}, 'w').write('raise ImportError')"),
        "tina-background": answer("q1_answer", "import subprocess\nsubprocess.Popen(['sleep', '317'])"),
        "uma-transformer": answer("q4_answer", "size_share_corr = None",
                                  answer("q3_answer", "new_to_2pct = None",
                                         answer("q2_answer", "change_since_2014 = None",
                                                answer("q1_answer", SWALLOW)))),
        "vic-warning": answer("q1_answer", NOISY_CORRECT),
        "will-kernel": bad_kernel(),
        "xena-empty": None,
    }


LIMITS = ["--jobs", "2", "--cell-timeout", "5", "--notebook-timeout", "60", "--memory", "2"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("class"))
    assert mildip(course, "release", "ps1").returncode == 0
    global SOLUTION
    SOLUTION = as_submitted(SOURCE, nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4))
    for student, content in build_class(course).items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        name = NOTEBOOK
        if isinstance(content, tuple):
            name, content = content
        if content is None:
            continue
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            nbformat.write(content, folder / name)
    started = time.monotonic()
    first = mildip(course, "grade", "ps1", *LIMITS)
    seconds = time.monotonic() - started
    assert first.returncode == 0, first.stdout + first.stderr
    with (course / "grades" / f"{ASSIGNMENT}.csv").open(encoding="utf-8") as f:
        report = {row["student"]: row for row in csv.DictReader(f)}
    os.environ["MILDIP_COURSE"] = str(course)
    try:
        scores = grading.scores(ASSIGNMENT)
    finally:
        del os.environ["MILDIP_COURSE"]
    return course, report, scores, first, seconds


def points(scores, student):
    rows = scores[(scores["student"] == student) & (scores["kind"] == "auto")]
    return dict(zip(rows["question"], rows["auto_score"].fillna(0)))


EXPECTED_STATUS = {
    "alice": "graded", "bob": "graded", "carol": "graded",
    "dave-loop": "timed out", "erin-stubborn": "timed out", "frank-memory": "memory limit",
    "grace-sysexit": "graded", "heidi-osexit": "kernel died",
    "ivan-truncated": "invalid notebook", "judy-not-a-notebook": "invalid notebook",
    "ken-renamed": "graded", "leo-deleted-test": "tampered cells", "mia-duplicated-test": "tampered cells",
    "nick-edited-test": "tampered cells", "olga-gradebook": "graded", "pat-lock": "graded",
    "quinn-hidden": "graded", "rita-other-student": "graded", "sam-plant": "graded",
    "tina-background": "graded", "uma-transformer": "graded", "vic-warning": "graded",
    "will-kernel": "graded", "xena-empty": "missing notebook",
}


def test_every_submission_ends_with_the_right_status_and_a_reason(graded):
    _, report, _, first, _ = graded
    assert {s: r["status"] for s, r in report.items()} == EXPECTED_STATUS
    assert all(r["reason"] for r in report.values())
    for student in EXPECTED_STATUS:
        assert student in first.stdout


def test_good_submissions_keep_their_scores(graded):
    _, _, scores, _, _ = graded
    for student in ("alice", "bob", "ken-renamed", "will-kernel", "grace-sysexit"):
        expected = FULL if student != "grace-sysexit" else dict(FULL, q1_tests=0.0)
        assert points(scores, student) == expected, student
    assert points(scores, "carol") == dict(FULL, q1_tests=0.0)


def test_a_warning_from_a_correct_answer_is_not_a_failure(graded):
    _, _, scores, _, _ = graded
    assert points(scores, "vic-warning") == FULL


def test_an_input_transformer_cannot_rescue_a_notebook_without_answers(graded):
    _, _, scores, _, _ = graded
    assert points(scores, "uma-transformer") == ZERO


def test_limits_cost_only_the_questions_they_interrupt(graded):
    _, report, scores, _, _ = graded
    assert points(scores, "dave-loop") == dict(FULL, q1_tests=0.0)
    assert points(scores, "frank-memory") == dict(FULL, q1_tests=0.0)
    assert "interrupt" in report["erin-stubborn"]["reason"]
    assert "memory" in report["frank-memory"]["reason"]


def test_restored_tests_are_run_and_noted(graded):
    _, report, scores, _, _ = graded
    assert points(scores, "leo-deleted-test") == FULL
    assert points(scores, "mia-duplicated-test") == FULL
    assert points(scores, "nick-edited-test") == dict(FULL, q4_tests=0.0)
    assert "deleted" in report["leo-deleted-test"]["reason"]
    assert "twice" in report["mia-duplicated-test"]["reason"]
    assert "edited" in report["nick-edited-test"]["reason"]


def test_student_code_cannot_reach_grades_hidden_tests_or_other_students(graded):
    course, _, scores, _, _ = graded
    for student in ("olga-gradebook", "pat-lock", "quinn-hidden", "rita-other-student"):
        assert points(scores, student) == dict(FULL, q1_tests=0.0), student
    assert scores["auto_score"].max() <= 2.0
    quinn = (course / "autograded" / "quinn-hidden" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in quinn and "_expected" not in quinn
    rita = (course / "autograded" / "rita-other-student" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8")
    assert "No such file" in rita or "Permission" in rita


def test_nothing_planted_or_left_running_survives(graded):
    _, _, scores, _, _ = graded
    assert not (ROOT / "pandas.py").exists()
    assert points(scores, "tina-background") == dict(FULL, q1_tests=0.0)
    leftover = subprocess.run(["pgrep", "-f", "sleep 317"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""


def test_invalid_and_missing_submissions_are_not_put_in_the_gradebook(graded):
    _, report, scores, _, _ = graded
    for student in ("ivan-truncated", "judy-not-a-notebook", "xena-empty"):
        assert student not in set(scores["student"])
        assert report[student]["score"] == ""
    assert "not found" in report["xena-empty"]["reason"]


def test_a_second_run_grades_nothing_again_and_changes_nothing(graded):
    course, report, scores, _, seconds = graded
    started = time.monotonic()
    again = mildip(course, "grade", "ps1", *LIMITS)
    assert again.returncode == 0
    assert time.monotonic() - started < seconds / 2
    with (course / "grades" / f"{ASSIGNMENT}.csv").open(encoding="utf-8") as f:
        assert {row["student"]: row for row in csv.DictReader(f)} == report


def test_an_interrupted_run_keeps_what_it_graded(tmp_path):
    """Stop `mildip grade` half-way: finished results stay, and the next run grades only the rest."""
    import signal

    course = copy_course(tmp_path)
    assert mildip(course, "release", "ps1").returncode == 0
    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solution = as_submitted(SOURCE, released)
    for index in range(6):
        folder = course / "submitted" / f"s{index}" / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(solution, folder / NOTEBOOK)
    env = dict(os.environ, MILDIP_COURSE=str(course))
    process = subprocess.Popen([str(BIN / "mildip"), "grade", "ps1", "--jobs", "1"], cwd=course, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    report = course / "grades" / f"{ASSIGNMENT}.csv"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if report.is_file() and len(report.read_text(encoding="utf-8").splitlines()) >= 3:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    with report.open(encoding="utf-8") as f:
        kept = {row["student"]: row for row in csv.DictReader(f)}
    assert 2 <= len(kept) < 6
    assert all((course / "autograded" / s / ASSIGNMENT / NOTEBOOK).is_file() for s in kept)

    again = mildip(course, "grade", "ps1", "--jobs", "1")
    assert again.returncode == 0, again.stderr
    with report.open(encoding="utf-8") as f:
        final = {row["student"]: row for row in csv.DictReader(f)}
    assert len(final) == 6
    assert all(final[s]["graded_at"] == kept[s]["graded_at"] for s in kept), "finished results were graded again"
    assert all(row["score"] == "8.0" for row in final.values())
