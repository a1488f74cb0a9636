"""The class hub end to end: real Unix users, PAM, JupyterHub, nbgrader's exchange, a real browser.

As root on Linux, a throw-away hub (hub/trial.py) is stood up with ``hub/hub.py up`` for a
roster of an instructor and three students. The instructor releases ps1; each student logs in
through the hub's login page in Debian's Chromium (Playwright), fetches ps1 from the Assignments
tab, edits an answer, saves and submits; the instructor collects from the exchange (a forged and a
linked entry planted by a student are refused), grades in the sandbox and returns feedback,
which a student fetches and opens. Students cannot read each other's work, the course or the
exchange's inbound folder, and have no formgrader; the instructor's formgrader shows the grades.
``hub down`` keeps users and their work; at the end every user, file and process the test made is
removed, and the test checks that nothing is left.

The roster checks run anywhere. The hub test skips, with a message, when not root or not on Linux
or without Chromium, npm's configurable-http-proxy or a system Python; under
``CI=true`` that is a failure instead.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import requests

from conftest import ROOT

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ASSIGNMENT = "ps1-nato-burden-sharing"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
RIGHT = ('in_2024 = spending[spending["year"] == 2024]\n'
         'size_share_corr = in_2024["gdp_usd_m"].corr(in_2024["share_gdp_pct"], method="spearman")\n'
         "size_share_corr")
WRONG = "size_share_corr = 0.5\nsize_share_corr"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"hub_{name}", ROOT / "hub" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


hub_script = _load("hub")


# --- the roster: every malformed roster gets one line, and nothing is changed ------------------


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ("user,password,role\na,b,student\n", "no username column"),
    ("username,password\nteach,x\n", "no role column"),
    ("username,password,role\nteach,x,instructor\nAlice Smith,y,student\n", "line 3: 'Alice Smith' is not a valid"),
    ("username,password,role\nteach,x,instructor\nalice,y,pupil\n", "line 3: role 'pupil'"),
    ("username,password,role\nteach,x,instructor\nalice,y,student\nalice,z,student\n", "line 4: alice is already"),
    ("username,password,role\nalice,y,student\n", "exactly one instructor"),
    ("username,password,role\na,x,instructor\nb,y,instructor\nc,z,student\n", "exactly one instructor"),
    ("username,password,role\nteach,x,instructor\n", "no students"),
    ("username,password,role\nteach,x,instructor,extra\nalice,y,student\n", "line 2: more values"),
])
def test_a_malformed_roster_is_refused_with_one_line(tmp_path, text, message):
    with pytest.raises(hub_script.HubError) as error:
        hub_script.read_roster(write(tmp_path, text))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_good_roster_is_read_with_roles_and_lines(tmp_path):
    members = hub_script.read_roster(write(tmp_path, "Username, Password ,Role\nteach,x,Instructor\n\nalice,y,student\n"))
    assert [(m.username, m.role, m.line) for m in members] == [("teach", "instructor", 2), ("alice", "student", 4)]


def test_system_accounts_and_new_users_without_password_are_refused(tmp_path):
    path = write(tmp_path, "username,password,role\nroot,x,instructor\nalice,y,student\n")
    with pytest.raises(hub_script.HubError, match="line 2: root is a system account"):
        hub_script.check_accounts(path, hub_script.read_roster(path))
    path = write(tmp_path, "username,password,role\nmdtnobodyhere,,instructor\nalice,y,student\n")
    with pytest.raises(hub_script.HubError, match="new user and needs a password"):
        hub_script.check_accounts(path, hub_script.read_roster(path))


def test_the_hub_command_says_in_one_line_what_is_wrong(tmp_path):
    missing = subprocess.run([sys.executable, "hub/hub.py", "up", "--roster", str(tmp_path / "none.csv")],
                             cwd=ROOT, capture_output=True, text=True)
    assert missing.returncode == 1
    expected = "must be started by root" if os.geteuid() != 0 else "no roster at"
    assert expected in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
    assert "Traceback" not in missing.stderr


def test_a_non_root_user_is_told_to_use_sudo(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(hub_script.HubError, match="run it with sudo"):
        hub_script.check_host()


def test_without_an_exchange_collect_needs_a_path(course):
    from conftest import mildip

    result = mildip(course, "collect", "ps1")
    assert result.returncode == 1
    assert "no exchange" in result.stderr and "Traceback" not in result.stderr


def test_a_course_has_an_exchange_when_nbgrader_configures_one(course):
    from mildip.grading import exchange
    from mildip.grading.course import Course

    assert not exchange.configured(Course.open(course))
    with open(course / "nbgrader_config.py", "a") as f:
        f.write('\nc.Exchange.root = "/srv/somewhere/exchange"\n')
    assert exchange.configured(Course.open(course))


# --- the hub, end to end --------------------------------------------------------------------------


def unavailable(message: str):
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def trial():
    if not sys.platform.startswith("linux"):
        unavailable("the class hub runs on Linux only")
    if os.geteuid() != 0:
        unavailable("the class hub test runs as root (it creates Unix users and starts JupyterHub): "
                    "run `sudo make test`")
    if not CHROMIUM.is_file():
        unavailable(f"no Chromium at {CHROMIUM}: `apt-get install chromium`")
    if not (ROOT / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        unavailable("configurable-http-proxy is not installed: `apt-get install npm`, then `npm ci`")
    if not Path("/usr/bin/python3").is_file():
        unavailable("the student environment is built from Debian's Python: `apt-get install python3`")
    if shutil.which("bwrap") is None:
        unavailable("grading needs bubblewrap: `apt-get install bubblewrap`")
    trial_module = _load("trial")
    hub = trial_module.TrialHub(ROOT, students=3)
    try:
        hub.up()
        # the class arrives at once: everyone's server starts together (the browser logins follow)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda name: hub.log_in(name, requests.Session()), [hub.instructor, *hub.students]))
        yield hub
    finally:
        left = hub.close()
        assert not left, f"the hub test left things behind: {left}"


def in_a_browser(steps):
    """Run ``steps(browser)`` with Debian's Chromium, in a thread of its own: Playwright's sync API
    refuses a thread where an asyncio loop is running, which libraries used by earlier tests can leave."""
    from playwright.sync_api import sync_playwright

    def run():
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                steps(chromium)
            finally:
                chromium.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()


def log_in(browser, trial, name: str):
    """A fresh browser context, logged in through the hub's login page, in the user's JupyterLab."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(120_000)
    page = context.new_page()
    page.goto(f"{trial.url}/hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", trial.passwords[name])
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_selector(".jp-LabShell")
    assert f"/user/{name}/lab" in page.url
    return context, page


def open_assignments(page):
    page.click(".lm-MenuBar-itemLabel:text('Nbgrader')")
    page.click(".lm-Menu-itemLabel:text('Assignment List')")
    page.wait_for_selector("#released_assignments_list .list_item, #fetched_assignments_list .list_item")


def work_on_ps1(page, answer: str) -> None:
    """Fetch ps1 from the Assignments tab, answer question 4 in the notebook, save and submit."""
    open_assignments(page)
    page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT).get_by_role(
        "button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).first
    fetched.locator("a.assignment-notebooks-link").click()
    page.locator("#fetched_assignments_list .nested_list_item a", has_text=ASSIGNMENT).first.click()
    cell = page.locator(".jp-Notebook .jp-CodeCell").filter(has_text="NotImplementedError").filter(
        has_text="size_share_corr").first
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(answer)
    page.keyboard.press("Control+s")
    page.wait_for_selector(".jp-mod-dirty", state="detached")
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Assignments").click()
    fetched.get_by_role("button", name="Submit").click()
    page.wait_for_selector(f"#submitted_assignments_list .list_item:has-text('{ASSIGNMENT}')")


def saved_answer(path: Path) -> str:
    """The student's answer to question 4 in the notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    return next(c.source for c in notebook.cells if "size_share_corr" in c.source and "expect" not in c.source
                and c.metadata.get("nbgrader", {}).get("solution"))


@pytest.mark.slow
def test_a_class_works_through_the_hub(trial):
    in_a_browser(lambda browser: a_class_works_through_the_hub(trial, browser))


def a_class_works_through_the_hub(trial, browser):
    from playwright.sync_api import expect

    instructor, (alice, bob, carol) = trial.instructor, trial.students

    # homes are private; the student environment and the exchange are where nbgrader wants them
    for name in [instructor, alice, bob, carol]:
        assert trial.home(name).stat().st_mode & 0o777 == 0o700
    assert trial.exchange.stat().st_mode & 0o7777 == 0o1777
    inbound = trial.exchange / "military-diplomacy" / "inbound"
    assert inbound.stat().st_uid == trial.home(instructor).stat().st_uid

    # 1. the instructor releases ps1: it goes to the exchange too, without solutions
    release = trial.as_user(instructor, "mildip", "release", "ps1")
    assert release.returncode == 0, release.stderr
    assert "published" in release.stdout
    outbound = trial.exchange / "military-diplomacy" / "outbound" / ASSIGNMENT / NOTEBOOK
    assert "BEGIN SOLUTION" not in outbound.read_text() and "HIDDEN TESTS" not in outbound.read_text()

    # 2. each student logs in, fetches, edits, saves and submits in the browser
    for name, answer in [(alice, RIGHT), (bob, WRONG), (carol, RIGHT)]:
        context, page = log_in(browser, trial, name)
        work_on_ps1(page, answer)
        assert saved_answer(trial.home(name) / ASSIGNMENT / NOTEBOOK) == answer
        context.close()

    # 3. a student plants entries in the inbound folder: one claiming to be a classmate's, later than
    #    the real one, and a link to the instructor's source notebook; neither is collected
    forged = inbound / f"{bob}+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+forged"
    assert trial.as_user(alice, "mkdir", str(forged)).returncode == 0
    assert trial.as_user(alice, "cp", str(trial.home(alice) / ASSIGNMENT / NOTEBOOK), str(forged)).returncode == 0
    linked = inbound / f"{alice}+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+linked"
    assert trial.as_user(alice, "ln", "-s", str(trial.course / "source" / ASSIGNMENT), str(linked)).returncode == 0

    # 4. the instructor collects from the exchange, grades and returns feedback
    collect = trial.as_user(instructor, "mildip", "collect", "ps1")
    assert collect.returncode == 0, collect.stderr
    assert "collected 3 submission(s)" in collect.stdout
    assert f"claims to be {bob}'s but belongs to {alice}" in collect.stdout
    assert "a symbolic link" in collect.stdout
    for name in (alice, bob, carol):
        submitted = trial.course / "submitted" / name / ASSIGNMENT
        assert (submitted / "timestamp.txt").read_text().startswith("20")  # nbgrader's time of submission
        assert "2099" not in (submitted / "timestamp.txt").read_text()
    assert saved_answer(trial.course / "submitted" / bob / ASSIGNMENT / NOTEBOOK) == WRONG

    grade = trial.as_user(instructor, "mildip", "grade", "ps1", "--jobs", "2")
    assert grade.returncode == 0, grade.stdout + grade.stderr
    assert "3 notebook(s): 3 graded" in grade.stdout, grade.stdout
    scores = trial.as_user(instructor, "mildip", "scores", "ps1")
    table = pd.read_csv(io.StringIO(scores.stdout))
    q4 = table[(table["kind"] == "auto") & (table["question"] == "q4_tests")].set_index("student")["auto_score"]
    assert q4.to_dict() == {alice: 2, bob: 0, carol: 2}

    feedback = trial.as_user(instructor, "mildip", "feedback", "ps1")
    assert feedback.returncode == 0, feedback.stderr
    assert "returned feedback on ps1-nato-burden-sharing to 3 student(s)" in feedback.stdout

    # 5. a student fetches the feedback from the Assignments tab and opens it
    context, page = log_in(browser, trial, alice)
    open_assignments(page)
    page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).get_by_role(
        "button", name="Fetch Feedback").click()
    page.locator("#submitted_assignments_list a", has_text="view feedback").first.click()
    page.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html").dblclick()
    body = page.frame_locator(".jp-HTMLViewer iframe").first.locator("body")
    expect(body).to_contain_text(f"{ASSIGNMENT} (Score: 2.0 / 14.0)", timeout=60_000)  # the frame loads late
    text = body.inner_text()
    assert "HIDDEN TESTS" not in text and "_shares" not in text

    # 6. a student has no formgrader; the instructor's, in its own tab, shows the course and grades
    assert page.goto(f"{trial.url}/user/{alice}/formgrader").status == 404
    context.close()
    context, page = log_in(browser, trial, instructor)
    assert page.goto(f"{trial.url}/user/{instructor}/formgrader").status == 200
    page.wait_for_selector(f"text={ASSIGNMENT}")
    page.goto(f"{trial.url}/user/{instructor}/formgrader/gradebook/{ASSIGNMENT}/{ASSIGNMENT}")
    page.wait_for_selector("text=Submission #1")
    page.click("text=Show All Names")
    page.wait_for_selector(f"text={alice}")
    expect(page.locator("body")).to_contain_text("2 / 14")
    context.close()


@pytest.mark.slow
def test_students_see_only_their_own_files(trial):
    alice, bob = trial.students[:2]
    denied = {
        "a classmate's home": ["ls", str(trial.home(bob))],
        "a classmate's notebook": ["cat", str(trial.home(bob) / ASSIGNMENT / NOTEBOOK)],
        "the course folder": ["ls", str(trial.course)],
        "the instructor's source notebook": ["cat", str(trial.course / "source" / ASSIGNMENT / NOTEBOOK)],
        "the gradebook": ["cat", str(trial.course / "gradebook.db")],
        "the exchange's inbound folder": ["ls", str(trial.exchange / "military-diplomacy" / "inbound")],
        "the exchange's feedback folder": ["ls", str(trial.exchange / "military-diplomacy" / "feedback")],
        "the hub's own state": ["ls", str(trial.prefix / "hub")],
    }
    for what, command in denied.items():
        result = trial.as_user(alice, *command)
        assert result.returncode != 0 and "Permission denied" in result.stderr, f"{alice} could read {what}"
    # what students need is readable: the student environment and the released assignment
    assert trial.as_user(alice, "python", "-c", "import mildip, scipy, nbgrader").returncode == 0
    assert trial.as_user(alice, "ls", str(trial.exchange / "military-diplomacy" / "outbound")).returncode == 0


@pytest.mark.slow
def describe_process(pid: int) -> str:
    """A process's state, parent and command line (and its parent's), for a failure message."""
    try:
        state, parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
        line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:120]
        above = Path(f"/proc/{parent}/cmdline").read_bytes().replace(b"\0", b" ")[:120]
    except (OSError, ValueError):
        return "ended"
    return f"state {state}, {line!r}, parent {parent} {above!r}"


def test_hub_down_keeps_users_and_their_work(trial):
    result = trial.hub("down")
    assert result.returncode == 0, result.stderr
    assert "hub stopped" in result.stdout
    still = {pid: describe_process(pid) for pid in trial.processes()}
    assert not still, f"users' processes still run after hub down: {still}\n{result.stdout}"
    for name in trial.students:
        assert (trial.home(name) / ASSIGNMENT / NOTEBOOK).is_file()
    assert (trial.course / "gradebook.db").is_file()
    again = trial.hub("down")
    assert again.returncode == 0 and "no hub is running" in again.stdout
