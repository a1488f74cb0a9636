"""A hostile class graded with `mildip grade`: every notebook earns what its answers deserve.

One class of ps1 submissions mixes honest ones with every kind of attack and accident an
instructor meets: blank notebooks that try to earn marks by reaching the checks, killing the
kernel, escaping the sandbox, reading secrets, breaking the run for everyone. It is graded once,
with short limits, and the tests assert the scores, not only the statuses: an attack earns
exactly the points its answers deserve, honest neighbours keep theirs, and no secret of the
grader, no hidden test and no other student's work appears in any output or feedback.
"""

import csv
import json
import os
import socket
import subprocess
import threading
import time

import nbformat
import pytest

from conftest import ROOT, as_submitted, copy_course, mildip, points, require_sandbox, scores

pytestmark = pytest.mark.slow

ASSIGNMENT = "ps1-nato-burden-sharing"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SOURCE = nbformat.read(ROOT / "exercises" / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
TESTS = [c.metadata["nbgrader"]["grade_id"] for c in SOURCE.cells
         if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
FULL = {grade_id: float(c.metadata["nbgrader"]["points"]) for c in SOURCE.cells
        for grade_id in [c.metadata.get("nbgrader", {}).get("grade_id")] if grade_id in TESTS}
ZERO = dict.fromkeys(FULL, 0.0)
SECRET_ENV = "mildip-secret-token-7f3a"
SECRET_HOME = "mildip-home-secret-91c2"
SECRET_ZIP = "mildip-lms-download-44d8"
LIMITS = ["--jobs", "2", "--cell-timeout", "5", "--notebook-timeout", "60", "--memory", "2"]


@pytest.fixture(autouse=True, scope="module")
def sandbox_installed():
    require_sandbox()


def first_answer() -> str:
    return next(c.metadata["nbgrader"]["grade_id"] for c in SOURCE.cells
                if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")


def copy(notebook):
    return nbformat.from_dict(json.loads(json.dumps(notebook)))


def answer(notebook, grade_id, code):
    notebook = copy(notebook)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code
    return notebook


def without(notebook, grade_id):
    notebook = copy(notebook)
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return notebook


def duplicated(notebook, grade_id):
    notebook = copy(notebook)
    index = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    notebook.cells.insert(index, copy(notebook.cells[index]))
    return notebook


def with_cell(notebook, code, metadata=None, cell_type="code", at=2):
    notebook = copy(notebook)
    cell = nbformat.v4.new_code_cell(code) if cell_type == "code" else nbformat.v4.new_markdown_cell(code)
    if metadata is not None:
        cell.metadata["nbgrader"] = metadata
    notebook.cells.insert(at, cell)
    return notebook


# Answers of the right shape whose values are wrong: visible checks pass, every hidden test fails.
WRONG_VALUES = '''import pandas as pd
allies_at_2pct = pd.Series(0, index=range(2014, 2025))
change_since_2014 = pd.Series(0.0, index=sorted(spending["country"].astype(str).unique()))
new_to_2pct = []
size_share_corr = 0.5
revision_2024 = pd.Series(0.0, index=sorted(spending["country"].astype(str).unique()))
fell_below_2pct = []
'''

ATTACKS_ON_CHECKS = {
    # patching what the tests call
    "patch-comparisons": "import numpy as np, math\n"
                         "np.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)\n"
                         "math.isclose = lambda *a, **k: True\n",
    "patch-checks": "import mildip.checks as checks\n"
                    "for _n in checks.__all__:\n"
                    "    if _n.startswith('expect'):\n"
                    "        setattr(checks, _n, lambda *a, **k: None)\n"
                    "checks._fail = lambda message: None\n",
    "patch-builtins": "import builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})\n"
                      "builtins.__mildip_guard__ = lambda *a: '{\"payload\": \"{}\", \"mac\": \"\"}'\n",
    # re-patching after any restore
    "background-thread": "import threading, time, mildip.checks as checks\n"
                         "def _keep():\n"
                         "    while True:\n"
                         "        checks.expect_close = lambda *a, **k: None\n"
                         "        time.sleep(0.001)\n"
                         "threading.Thread(target=_keep, daemon=True).start()\n",
    "profile-hook": "import sys, mildip.checks as checks\n"
                    "sys.setprofile(lambda f, e, a: setattr(checks, 'expect_close', lambda *a, **k: None))\n",
    # publishing a fake result into the test cells' outputs (nbgrader reads "2" as 2 points)
    "fake-outputs": "from IPython.display import display\nip = get_ipython()\n"
                    "ip.events.register('post_run_cell', lambda result: display(2))\n"
                    "ip.events.register('pre_run_cell', lambda info: print('2'))\n",
    # rewriting later cells
    "transformer": "ip = get_ipython()\n"
                   "def _swallow(lines):\n"
                   "    return ['try:\\n'] + ['    ' + line for line in lines] + ['\\nexcept BaseException:\\n    pass\\n']\n"
                   "ip.input_transformers_cleanup.append(_swallow)\n",
    # breaking the channel answers come through
    "break-capture": "import mildip.grading.kernel as k\nk.capture = lambda names, limit: None\n",
    # the data loader pointed at a student-made copy where the wrong answers are right
    "fake-data": "import os, shutil, pathlib, pandas as pd, mildip.datasets as d\n"
                 "fake = pathlib.Path.cwd() / 'fake'\nshutil.copytree(str(d.data_locations()[-1].folder), fake)\n"
                 "csv = fake / 'nato_defence_expenditure.csv'\n"
                 "t = pd.read_csv(csv, dtype=str, keep_default_na=False)\nt['share_gdp_pct'] = '0.5'\n"
                 "t.to_csv(csv, index=False)\nos.environ['MILDIP_DATA'] = str(fake)\n",
    # an answer object that reads the expected value from the checking frame
    "frame-reader": "import sys\n"
                    "class Sneaky(pd.Series):\n"
                    "    @property\n"
                    "    def _constructor(self):\n"
                    "        return Sneaky\n"
                    "    def __getattribute__(self, name):\n"
                    "        for depth in range(1, 12):\n"
                    "            try:\n"
                    "                f = sys._getframe(depth)\n"
                    "            except ValueError:\n"
                    "                break\n"
                    "            if isinstance(f.f_locals.get('expected'), pd.Series):\n"
                    "                return getattr(f.f_locals['expected'], name)\n"
                    "        return super().__getattribute__(name)\n"
                    "allies_at_2pct = Sneaky(0, index=range(2014, 2025))\n",
}


def listener(path):
    """A Unix socket on the host that records every connection: nothing in a sandbox may reach it."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(5)
    server.settimeout(0.2)
    connections, done = [], threading.Event()

    def accept():
        while not done.is_set():
            try:
                connections.append(server.accept())
            except (socket.timeout, OSError):
                continue

    threading.Thread(target=accept, daemon=True).start()
    return done, connections


def build_class(course, solution, released, secrets):
    """{student: notebook, raw bytes, None (empty folder) or (file name, content)}."""
    gradebook = course / "gradebook.db"
    source = course / "source" / ASSIGNMENT / NOTEBOOK
    q1 = first_answer()
    students = {
        # honest controls
        "alice": solution,
        "bob": solution,
        "carol-wrong-q1": answer(solution, q1, 'allies_at_2pct = spending[spending["share_gdp_pct"] > 2]'
                                               '.groupby("year").size()'),
        "ken-renamed": ("ps1 (1).ipynb", solution),
        "vic-warning": answer(solution, q1, "import warnings\nwarnings.warn('reindex will change', FutureWarning)\n"
                                            + next(c.source for c in solution.cells
                                                   if c.metadata.get("nbgrader", {}).get("grade_id") == q1)),
        "will-kernel": nbformat.from_dict(dict(copy(solution), metadata={
            "kernelspec": {"name": "python-that-does-not-exist", "display_name": "Nope", "language": "python"}})),
        # killing the kernel or running out of time
        "dave-loop": answer(solution, q1, "while True:\n    pass"),
        "erin-stubborn": answer(solution, q1, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                              "while True:\n    pass"),
        "heidi-osexit": answer(solution, q1, "import os\nos._exit(0)"),
        "grace-sysexit": answer(solution, q1, "import sys\nsys.exit()"),
        "frank-memory": answer(solution, q1, "hog = bytearray(6 * 1024**3)"),
        # broken or tampered notebooks
        "ivan-truncated": json.dumps(solution)[:5000].encode(),
        "judy-not-a-notebook": b"%PDF-1.4 this is not a notebook",
        "leo-deleted-test": without(solution, "q2_tests"),
        "mia-duplicated-test": duplicated(solution, "q3_tests"),
        "nick-edited-test": answer(answer(solution, "q4_tests", "pass  # the test is gone"), "q4_answer",
                                   "size_share_corr = 0.5"),
        "olive-string-metadata": with_cell(solution, "x = 1", metadata="oops"),
        "paul-list-grade-id": with_cell(solution, "y = 2", metadata={"grade_id": ["q1_tests"], "grade": True,
                                                                     "points": 99}),
        "rex-fake-test-cell": with_cell(solution, "z = 3", metadata={"grade_id": "extra_tests", "grade": True,
                                                                     "points": 50, "locked": True}),
        "sue-timestamp": solution,
        "xena-empty": None,
        # reaching what the sandbox hides
        "olga-gradebook": answer(solution, q1, f"import sqlite3\ncon = sqlite3.connect({str(gradebook)!r})\n"
                                               "con.execute('update grade set auto_score = 99')\ncon.commit()"),
        "pat-lock": answer(solution, q1, f"import sqlite3\ncon = sqlite3.connect({str(gradebook)!r})\n"
                                         "con.execute('begin exclusive')"),
        "quinn-hidden": answer(solution, q1, f"print(open({str(source)!r}).read())"),
        "quentin-project-copy": answer(solution, q1, f"print(open({str(ROOT / 'exercises' / 'source' / ASSIGNMENT / NOTEBOOK)!r}).read())"),
        "rita-other-student": answer(solution, q1, f"print(open({str(course / 'submitted' / 'alice' / ASSIGNMENT / NOTEBOOK)!r}).read())"),
        "sam-plant": answer(solution, q1, "open('pandas.py', 'w').write('raise ImportError')\n"
                                          f"open({str(ROOT / 'pandas.py')!r}, 'w').write('raise ImportError')"),
        "tina-background": answer(solution, q1, "import subprocess\nsubprocess.Popen(['sleep', '317'])"),
        "env-reader": answer(solution, q1, "import os\nprint(dict(os.environ))\n"
                                           "print(open('/proc/1/environ', 'rb').read())"),
        "home-reader": answer(solution, q1, f"print(open({str(secrets['home'] / 'secret.txt')!r}).read())"),
        "zip-reader": answer(solution, q1, f"print(open({str(secrets['zip'])!r}, 'rb').read())"),
        "socket-escape": answer(solution, q1, "import socket\ns = socket.socket(socket.AF_UNIX)\n"
                                              f"s.connect({str(secrets['socket'])!r})\ns.sendall(b'GRADE 12')"),
        "socket-scan": answer(solution, q1, "import glob, socket\nfor p in glob.glob('/run/**', recursive=True) + "
                                            "glob.glob('/tmp/**', recursive=True):\n"
                                            "    try:\n        socket.socket(socket.AF_UNIX).connect(p)\n"
                                            "        print('connected', p)\n    except OSError:\n        pass"),
        "html-script": with_cell(with_cell(solution, "from IPython.display import HTML, display\n"
                                                     "display(HTML('<b>bold</b><script>alert(\"xss\")</script>'))"),
                                 "My answer <script>alert('xss')</script><img src=x onerror=alert(1)>",
                                 cell_type="markdown", at=3),
        "big-output": answer(solution, q1, "for i in range(2000):\n    print('x' * 1000)\n"
                             + next(c.source for c in solution.cells
                                    if c.metadata.get("nbgrader", {}).get("grade_id") == q1)),
    }
    for name, attack in ATTACKS_ON_CHECKS.items():
        students[f"blank-{name}"] = answer(released, q1, attack + WRONG_VALUES)
    return students


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    where = tmp_path_factory.mktemp("class")
    course = copy_course(where)
    assert mildip(course, "release", "ps1").returncode == 0
    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solution = as_submitted(SOURCE, released)
    home = where / "instructor-home"
    home.mkdir()
    (home / "secret.txt").write_text(SECRET_HOME)
    downloads = where / "downloads"
    downloads.mkdir()
    (downloads / "submissions.zip").write_text(SECRET_ZIP)
    stop_listening, connections = listener(where / "multiplexer.sock")
    secrets = {"home": home, "zip": downloads / "submissions.zip", "socket": where / "multiplexer.sock"}
    for student, content in build_class(course, solution, released, secrets).items():
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
    (course / "submitted" / "sue-timestamp" / ASSIGNMENT / "timestamp.txt").write_text("2026-" * 2_000_000)
    # a submission that is a link to the source notebook, and one with a link to the gradebook
    linked = course / "submitted" / "link-to-source" / ASSIGNMENT
    linked.mkdir(parents=True)
    (linked / NOTEBOOK).symlink_to(course / "source" / ASSIGNMENT / NOTEBOOK)
    (course / "submitted" / "alice" / ASSIGNMENT / "gradebook.db").symlink_to(course / "gradebook.db")
    (course / "submitted" / "bob" / ASSIGNMENT / os.fsdecode(b"data-\xff.csv")).write_text("a,b\n1,2\n")
    os.mkdir(os.fsencode(course / "submitted") + b"/bad-\xff-name")

    env = {"CANVAS_API_TOKEN": SECRET_ENV, "HOME": str(home)}
    started = time.monotonic()
    first = mildip(course, "grade", "ps1", *LIMITS, env=env)
    seconds = time.monotonic() - started
    stop_listening.set()
    assert first.returncode == 0, first.stdout + first.stderr
    with (course / "grades" / f"{ASSIGNMENT}.csv").open(encoding="utf-8") as f:
        report = {row["student"]: row for row in csv.DictReader(f)}
    feedback = mildip(course, "feedback", "ps1", env=env)
    assert feedback.returncode == 0, feedback.stderr
    return course, report, scores(course, ASSIGNMENT), first, seconds, connections


EXPECTED = {
    # student: (status, points)
    "alice": ("graded", FULL),
    "bob": ("graded", FULL),
    "carol-wrong-q1": ("graded", dict(FULL, q1_tests=0.0)),
    "ken-renamed": ("graded", FULL),
    "vic-warning": ("graded", FULL),
    "will-kernel": ("graded", FULL),
    "dave-loop": ("timed out", dict(FULL, q1_tests=0.0)),
    "erin-stubborn": ("timed out", ZERO),
    "heidi-osexit": ("kernel died", ZERO),
    "grace-sysexit": ("graded", dict(FULL, q1_tests=0.0)),
    "frank-memory": ("memory limit", dict(FULL, q1_tests=0.0)),
    "leo-deleted-test": ("tampered cells", FULL),
    "mia-duplicated-test": ("tampered cells", FULL),
    "nick-edited-test": ("tampered cells", dict(FULL, q4_tests=0.0)),
    "olive-string-metadata": ("graded", FULL),
    "paul-list-grade-id": ("graded", FULL),
    "rex-fake-test-cell": ("graded", FULL),
    "sue-timestamp": ("graded", FULL),
    "olga-gradebook": ("graded", dict(FULL, q1_tests=0.0)),
    "pat-lock": ("graded", dict(FULL, q1_tests=0.0)),
    "quinn-hidden": ("graded", dict(FULL, q1_tests=0.0)),
    "quentin-project-copy": ("graded", dict(FULL, q1_tests=0.0)),
    "rita-other-student": ("graded", dict(FULL, q1_tests=0.0)),
    "sam-plant": ("graded", dict(FULL, q1_tests=0.0)),
    "tina-background": ("graded", dict(FULL, q1_tests=0.0)),
    "env-reader": ("graded", dict(FULL, q1_tests=0.0)),
    "home-reader": ("graded", dict(FULL, q1_tests=0.0)),
    "zip-reader": ("graded", dict(FULL, q1_tests=0.0)),
    "socket-escape": ("graded", dict(FULL, q1_tests=0.0)),
    "socket-scan": ("graded", dict(FULL, q1_tests=0.0)),
    "html-script": ("graded", FULL),
    "big-output": ("graded", FULL),
    **{f"blank-{name}": ("graded", ZERO) for name in ATTACKS_ON_CHECKS},
}
NOT_GRADED = {
    "ivan-truncated": "invalid notebook",
    "judy-not-a-notebook": "invalid notebook",
    "xena-empty": "missing notebook",
    "link-to-source": "invalid notebook",
    "bad-\\xff-name": "invalid notebook",
}


def test_every_notebook_earns_exactly_what_its_answers_deserve(graded):
    _, _, table, _, _, _ = graded
    earned = {student: points(table, student) for student in EXPECTED}
    assert earned == {student: expected for student, (_, expected) in EXPECTED.items()}


def test_every_submission_ends_with_the_right_status_and_a_reason(graded):
    _, report, _, first, _, _ = graded
    assert {s: r["status"] for s, r in report.items()} == {**{s: st for s, (st, _) in EXPECTED.items()},
                                                           **NOT_GRADED}
    assert all(r["reason"] for r in report.values())
    for student in EXPECTED:
        assert student in first.stdout


def test_a_test_that_did_not_run_earns_nothing_and_says_why(graded):
    course, _, _, _, _, _ = graded
    for student in ("heidi-osexit", "erin-stubborn"):
        notebook = nbformat.read(course / "autograded" / student / ASSIGNMENT / NOTEBOOK, as_version=4)
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in TESTS:
                (error,) = [o for o in cell.outputs if o.output_type == "error"]
                assert error.ename == "TestNotRun" and "not run" in error.evalue, student


def test_blank_notebooks_cannot_reach_the_checks(graded):
    _, report, _, _, _, _ = graded
    assert "could not be read" in report["blank-break-capture"]["reason"]


def test_restored_and_ignored_cells_are_noted(graded):
    _, report, _, _, _, _ = graded
    assert "deleted" in report["leo-deleted-test"]["reason"]
    assert "twice" in report["mia-duplicated-test"]["reason"]
    assert "edited" in report["nick-edited-test"]["reason"]
    assert "interrupt" in report["erin-stubborn"]["reason"]
    assert "memory" in report["frank-memory"]["reason"]
    assert "symbolic link" in report["link-to-source"]["reason"]
    assert "UTF-8" in report["bad-\\xff-name"]["reason"]
    assert "output cut" in report["big-output"]["reason"]


def every_output(course):
    """All text the grader wrote for students: graded notebooks and feedback pages."""
    pages = [p.read_text(encoding="utf-8", errors="replace") for p in (course / "feedback").rglob("*.html")]
    notebooks = [p.read_text(encoding="utf-8", errors="replace") for p in (course / "autograded").rglob("*.ipynb")]
    return pages, notebooks


def test_no_secret_hidden_test_or_other_students_work_appears_anywhere(graded):
    course, _, _, first, _, connections = graded
    pages, notebooks = every_output(course)
    assert len(pages) >= len(EXPECTED) - 1
    hidden = [line.strip() for cell in SOURCE.cells if "### BEGIN HIDDEN TESTS" in cell.source
              for line in cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].splitlines()
              if line.strip()]
    assert hidden
    for text in pages + notebooks + [first.stdout, first.stderr]:
        for secret in (SECRET_ENV, SECRET_HOME, SECRET_ZIP, "BEGIN HIDDEN TESTS", *hidden):
            assert secret not in text
    assert connections == [], "a sandboxed notebook reached a Unix socket on the host"


def test_scripts_are_removed_from_graded_notebooks_and_feedback(graded):
    course, _, _, _, _, _ = graded
    page = next((course / "feedback" / "html-script").rglob("*.html")).read_text(encoding="utf-8")
    notebook = nbformat.read(course / "autograded" / "html-script" / ASSIGNMENT / NOTEBOOK, as_version=4)
    rendered = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    rendered += [json.dumps(o.get("data", {})) for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert any("My answer" in text for text in rendered) and any("<b>bold</b>" in text for text in rendered)
    for text in [page, *rendered]:
        assert "<script>alert" not in text and "<img src=x onerror" not in text


def test_output_is_capped_per_notebook(graded):
    course, _, _, _, _, _ = graded
    size = (course / "autograded" / "big-output" / ASSIGNMENT / NOTEBOOK).stat().st_size
    assert size < 3_000_000


def test_nothing_planted_or_left_running_survives(graded):
    _, _, _, _, _, _ = graded
    assert not (ROOT / "pandas.py").exists()
    leftover = subprocess.run(["pgrep", "-f", "sleep 317"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""


def test_gradebook_holds_only_graded_notebooks(graded):
    _, report, table, _, _, _ = graded
    for student in NOT_GRADED:
        assert student not in set(table["student"])
        assert report[student]["score"] == ""
    assert table["auto_score"].max() <= max(FULL.values())


def test_a_second_run_grades_nothing_again_and_changes_nothing(graded):
    course, report, _, _, seconds, _ = graded
    started = time.monotonic()
    again = mildip(course, "grade", "ps1", *LIMITS)
    assert again.returncode == 0, again.stderr
    assert time.monotonic() - started < seconds / 2
    with (course / "grades" / f"{ASSIGNMENT}.csv").open(encoding="utf-8") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert rows == report
