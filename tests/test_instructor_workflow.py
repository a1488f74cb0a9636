"""The instructor's path with the real nbgrader: release, collect, grade, grade by hand, feedback,
export for the LMS, item analysis; and the command line and make targets around it."""

import csv
import io
import json
import os
import re
import shutil
import stat
import subprocess
import zipfile
from datetime import datetime, timedelta, timezone

import nbformat
import pytest

from conftest import BIN, ROOT, as_submitted, copy_course, mildip, require_sandbox

pytestmark = pytest.mark.slow

ASSIGNMENT = "ps1-nato-burden-sharing"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
STEM = ASSIGNMENT
DUE = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

# Canvas user ids of the class (the ids are what Canvas's file names and exports carry).
ALICE, BOB, CAROL, DAN, ANNA_MUELLER, ANNA_MOELLER, FRANK = "12345", "23456", "34567", "45678", "56789", "67890", "78901"
HUB_STUDENT = "jdoe"  # collected from a plain folder with nbgrader's timestamp.txt

ROSTER = f"""Student,ID,SIS User ID,SIS Login ID,Section,{ASSIGNMENT} (501),Problem Set 9 (777),Current Score,Final Score
    Points Possible,,,,,14.00,10.00,(read only),(read only)
"Smith, Alice",{ALICE},S001,asmith,Section A,,,,
"Jones, Bob",{BOB},S002,bjones,Section A,,,,
"Lee, Carol",{CAROL},S003,clee,Section B,,,,
"Kim, Dan",{DAN},S004,dkim,Section B,,,,
"Müller, Anna",{ANNA_MUELLER},S005,amuller,Section A,,,,
"Möller, Anna",{ANNA_MOELLER},S006,amoller,Section A,,,,
"Never, Frank",{FRANK},S007,fnever,Section B,,,,
"""


@pytest.fixture(autouse=True, scope="module")
def sandbox_installed():
    require_sandbox()


def notebook_bytes(notebook):
    return nbformat.writes(notebook).encode()


def gradebook_of(course):
    from mildip.grading.course import Course

    return Course.open(course).gradebook()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("workflow"))
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as f:
        f.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    assert mildip(course, "release", "ps1").returncode == 0
    with gradebook_of(course) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE.replace(tzinfo=None))
    return course


@pytest.fixture(scope="module")
def notebooks(course):
    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solution = as_submitted(nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4), released)
    wrong = nbformat.from_dict(json.loads(json.dumps(solution)))
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q4_answer":
            cell.source = 'y = spending[spending["year"] == 2024]\nsize_share_corr = y["gdp_usd_m"].corr(y["share_gdp_pct"])'
    return {"solution": solution, "released": released, "wrong": wrong}


@pytest.fixture(scope="module")
def canvas_zip(tmp_path_factory, notebooks):
    """A Canvas 'Download Submissions' zip: files named as Canvas names them, and the usual debris."""
    path = tmp_path_factory.mktemp("lms") / "submissions.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"smithalice_{ALICE}_678901_{NOTEBOOK}", notebook_bytes(notebooks["solution"]))
        # a resubmission: the later upload (higher attachment id) is late and renamed by Canvas
        archive.writestr(f"jonesbob_LATE_{BOB}_789012_{ASSIGNMENT}-1.ipynb", notebook_bytes(notebooks["wrong"]))
        archive.writestr(f"jonesbob_{BOB}_700000_{NOTEBOOK}", notebook_bytes(notebooks["released"]))
        archive.writestr(f"leecarol_{CAROL}_890123_{NOTEBOOK}", b'{"cells": [')
        archive.writestr(f"kimdan_{DAN}_901234_Untitled.ipynb", notebook_bytes(notebooks["released"]))
        archive.writestr(f"kimdan_{DAN}_901235_essay.docx", b"PK\x03\x04 not a notebook")
        # two students whose names differ only by an accent
        archive.writestr(f"mülleranna_{ANNA_MUELLER}_901300_{NOTEBOOK}", notebook_bytes(notebooks["solution"]))
        archive.writestr(f"mölleranna_{ANNA_MOELLER}_901301_{NOTEBOOK}", notebook_bytes(notebooks["wrong"]))
        link = zipfile.ZipInfo(f"smithalice_{ALICE}_999999_{NOTEBOOK}")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "../../gradebook.db")
        archive.writestr(f"../outside_{ALICE}_1_{NOTEBOOK}", notebook_bytes(notebooks["wrong"]))
        archive.writestr(f"__MACOSX/._smithalice_{ALICE}_678901_{NOTEBOOK}", b"\x00\x05\x16\x07")
        archive.writestr("readme.txt", b"downloaded from the LMS")
    return path


@pytest.fixture(scope="module")
def roster(tmp_path_factory):
    path = tmp_path_factory.mktemp("roster") / "canvas-export.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def collected(course, canvas_zip, roster, notebooks, tmp_path_factory):
    result = mildip(course, "collect", "ps1", str(canvas_zip), "--roster", str(roster))
    assert result.returncode == 0, result.stderr
    # a student collected from a hub (nbgrader's layout), two hours after the due date
    hub = tmp_path_factory.mktemp("hub")
    folder = hub / HUB_STUDENT / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(notebooks["solution"], folder / NOTEBOOK)
    (folder / "timestamp.txt").write_text(f"{(DUE + timedelta(hours=2)).strftime('%Y-%m-%d %H:%M:%S.%f')} UTC")
    hub_result = mildip(course, "collect", "ps1", str(hub))
    assert hub_result.returncode == 0, hub_result.stderr
    (course / "submitted" / "empty-erin" / ASSIGNMENT).mkdir(parents=True)
    return result.stdout


@pytest.fixture(scope="module")
def graded(course, collected):
    result = mildip(course, "grade", "ps1", "--jobs", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def grade_by_hand(course, student, points, comment):
    with gradebook_of(course) as gb:
        grade = gb.find_grade("q5_answer", STEM, ASSIGNMENT, student)
        grade.manual_score, grade.needs_manual_grade = points, False
        gb.find_comment("q5_answer", STEM, ASSIGNMENT, student).manual_comment = comment
        gb.db.commit()


def manual_state(course, student):
    with gradebook_of(course) as gb:
        grade = gb.find_grade("q5_answer", STEM, ASSIGNMENT, student)
        comment = gb.find_comment("q5_answer", STEM, ASSIGNMENT, student)
        return grade.manual_score, grade.needs_manual_grade, comment.manual_comment


@pytest.fixture(scope="module")
def hand_graded(course, graded):
    grade_by_hand(course, ALICE, 3.0, "Uses two results; name a limitation.")
    grade_by_hand(course, ANNA_MUELLER, 4.0, "Excellent.")
    grade_by_hand(course, ANNA_MOELLER, 2.0, "Too short.")
    return True


# --- collect ---------------------------------------------------------------------------------


def test_collect_keys_students_by_canvas_user_id_and_keeps_names_for_display(course, collected):
    submitted = course / "submitted"
    for student in (ALICE, CAROL, DAN, ANNA_MUELLER, ANNA_MOELLER, BOB):
        assert (submitted / student / ASSIGNMENT / NOTEBOOK).is_file(), student
    # two names that differ by an accent stay two students, each with their own work
    assert (submitted / ANNA_MUELLER / ASSIGNMENT / NOTEBOOK).read_bytes() != \
        (submitted / ANNA_MOELLER / ASSIGNMENT / NOTEBOOK).read_bytes()
    with (course / "grades" / "students.csv").open(encoding="utf-8") as f:
        names = {row["student"]: row["name"] for row in csv.DictReader(f)}
    assert names[ANNA_MUELLER] == "Müller, Anna" and names[ANNA_MOELLER] == "Möller, Anna"
    assert names[ALICE] == "Smith, Alice"
    assert f"{ALICE} (Smith, Alice)" in collected


def test_collect_keeps_the_latest_upload_and_canvas_late_flag(course, collected):
    bob = nbformat.read(course / "submitted" / BOB / ASSIGNMENT / NOTEBOOK, as_version=4)
    assert any("corr(y[" in cell.source for cell in bob.cells)  # the later (higher attachment id) upload
    with (course / "grades" / f"{ASSIGNMENT}-submissions.csv").open(encoding="utf-8") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert rows[BOB]["late"] == "yes" and rows[ALICE]["late"] == "no"
    assert "(marked late by the LMS)" in collected.split(BOB)[1].splitlines()[0]


def test_collect_writes_nbgraders_timestamp_from_the_download(course, collected):
    stamp = (course / "submitted" / HUB_STUDENT / ASSIGNMENT / "timestamp.txt").read_text().strip()
    from nbgrader.utils import parse_utc

    assert parse_utc(stamp) == (DUE + timedelta(hours=2)).replace(tzinfo=None)


def test_collect_takes_only_regular_files_and_never_writes_outside(course, collected, canvas_zip):
    assert "essay.docx: not a notebook" in collected
    assert "__MACOSX" in collected and "system file" in collected
    assert "readme.txt" in collected
    assert "999999" in collected and "not a regular file" in collected
    assert "unsafe path" in collected
    assert not (canvas_zip.parent.parent / f"outside_{ALICE}_1_{NOTEBOOK}").exists()
    assert not any(p.is_symlink() for p in (course / "submitted").rglob("*"))
    alice = nbformat.read(course / "submitted" / ALICE / ASSIGNMENT / NOTEBOOK, as_version=4)
    assert not any("corr(y[" in cell.source for cell in alice.cells)  # not replaced by the outside file


def test_collect_rejects_a_file_that_is_not_a_zip(course, tmp_path):
    bogus = tmp_path / "grades.pdf"
    bogus.write_bytes(b"%PDF-1.4")
    result = mildip(course, "collect", "ps1", str(bogus))
    assert result.returncode == 1
    assert "neither a folder nor a zip file" in result.stderr
    assert "Traceback" not in result.stderr


def test_collect_reads_a_moodle_download_without_merging_accented_names(tmp_path, notebooks):
    course = copy_course(tmp_path)
    download = tmp_path / "moodle.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr(f"Anna Müller_1001_assignsubmission_file_/{NOTEBOOK}", notebook_bytes(notebooks["solution"]))
        archive.writestr(f"Anna Möller_1002_assignsubmission_file_/my work.ipynb", notebook_bytes(notebooks["wrong"]))
        archive.writestr("Anna Möller_1002_assignsubmission_onlinetext_/onlinetext.html", b"<p>hi</p>")
        archive.writestr(f"Participant_1003_assignsubmission_file_{NOTEBOOK}", notebook_bytes(notebooks["released"]))
    result = mildip(course, "collect", "ps1", str(download))
    assert result.returncode == 0, result.stderr
    for student in ("1001", "1002", "1003"):
        assert (course / "submitted" / student / ASSIGNMENT / NOTEBOOK).is_file()
    with (course / "grades" / "students.csv").open(encoding="utf-8") as f:
        names = {row["student"]: row["name"] for row in csv.DictReader(f)}
    assert names == {"1001": "Anna Müller", "1002": "Anna Möller", "1003": "Participant 1003"}
    assert "onlinetext.html: not a notebook" in result.stdout


def test_collect_refuses_links_in_a_folder(tmp_path, notebooks):
    course = copy_course(tmp_path)
    download = tmp_path / "download"
    (download / "alice").mkdir(parents=True)
    (download / "alice" / NOTEBOOK).symlink_to(course / "source" / ASSIGNMENT / NOTEBOOK)
    nbformat.write(notebooks["solution"], download / "bob.ipynb")
    result = mildip(course, "collect", "ps1", str(download))
    assert result.returncode == 1  # nothing could be placed
    assert "not a regular file" in result.stdout and "placed 0 submission(s)" in result.stdout
    assert not (course / "submitted").exists() or not any((course / "submitted").rglob("*.ipynb"))


# --- grade ---------------------------------------------------------------------------------------


def rows(output):
    """{student: line} of the table `mildip grade` prints."""
    found = {}
    for line in output.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3 and not re.match(r"^\d+ notebook\(s\)", line):
            found[parts[0]] = line
    return found


def test_grade_reports_each_student(graded):
    lines = rows(graded)
    assert "graded" in lines[ALICE] and "10/14" in lines[ALICE] and "written answers to grade" in lines[ALICE]
    assert "8/14" in lines[BOB] and "marked late by the LMS" in lines[BOB]
    assert "10/14" in lines[ANNA_MUELLER] and "8/14" in lines[ANNA_MOELLER]
    assert "invalid notebook" in lines[CAROL]
    assert "missing notebook" in lines["empty-erin"]
    assert "0/14" in lines[DAN]


def test_late_penalties_apply_to_a_timestamp_kept_by_collect(course, graded):
    line = rows(graded)[HUB_STUDENT]
    assert "0/14" in line and "late penalty 10" in line and "hours late" in line
    with (course / "grades" / f"{ASSIGNMENT}.csv").open(encoding="utf-8") as f:
        report = {row["student"]: row for row in csv.DictReader(f)}
    assert float(report[HUB_STUDENT]["late_seconds"]) == pytest.approx(7200, abs=1)


def test_the_grade_table_shows_current_totals_with_manual_grades(course, hand_graded):
    result = mildip(course, "grade", "ps1")  # nothing changed: nothing is graded again
    assert result.returncode == 0, result.stderr
    lines = rows(result.stdout)
    assert "13/14" in lines[ALICE] and "written answers to grade" not in lines[ALICE]
    assert "14/14" in lines[ANNA_MUELLER]
    assert "written answers to grade" in lines[BOB]


# --- feedback ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def feedback(course, hand_graded):
    result = mildip(course, "feedback", "ps1")
    assert result.returncode == 0, result.stderr
    pages = {p.parts[-3]: p.read_text(encoding="utf-8") for p in (course / "feedback").glob(f"*/{ASSIGNMENT}/*.html")}
    return result.stdout, pages


def test_feedback_says_awaiting_grading_for_unread_answers_and_warns(feedback):
    output, pages = feedback
    assert "warning:" in output and BOB in output and "awaiting grading" in output
    assert ALICE not in output.split("warning:")[1]
    bob = pages[BOB]
    assert "awaiting grading (4.0 points)" in bob and "Score so far" in bob
    assert "Written response</a> (Score: 0.0 / 4.0)" not in bob
    alice = pages[ALICE]
    assert "Written response</a> (Score: 3.0 / 4.0)" in alice and "awaiting grading" not in alice
    assert "Uses two results; name a limitation." in alice


def test_feedback_shows_results_but_never_hidden_tests(course, feedback):
    _, pages = feedback
    assert {ALICE, BOB, DAN, ANNA_MUELLER, ANNA_MOELLER} <= set(pages)
    source = nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    hidden = [line.strip() for cell in source.cells for line in
              cell.source.split("### BEGIN HIDDEN TESTS")[-1].split("### END HIDDEN TESTS")[0].splitlines()
              if "### BEGIN HIDDEN TESTS" in cell.source and line.strip()]
    assert hidden
    for student, page in pages.items():
        assert "BEGIN HIDDEN TESTS" not in page, student
        for line in hidden:
            assert line not in page, (student, line)
    assert "does not match the value recomputed from the data" in pages[BOB]
    assert "Spearman" in pages[BOB]  # the hint, in the student's terms


def test_feedback_pages_load_nothing_from_the_network(feedback):
    _, pages = feedback
    for student, page in pages.items():
        assert "x-mathjax-config" not in page and "cdnjs" not in page and "MathJax.Hub" not in page, student
        assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", page), student


# --- export ---------------------------------------------------------------------------------------


def read_csv(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def canvas_file(course, roster, feedback):
    result = mildip(course, "export", "--lms", "canvas", "--roster", str(roster))
    assert result.returncode == 0, result.stderr
    return result.stdout, read_csv(course / "grades" / "canvas-grades.csv")


def test_canvas_export_has_canvas_import_columns(canvas_file):
    _, rows_ = canvas_file
    header, points = rows_[0], rows_[1]
    # app/models/gradebook_importer.rb: Student and ID first, Section last of the student columns,
    # an assignment column as "Title (id)" matches Canvas's assignment, then a Points Possible row
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{ASSIGNMENT} (501)"]
    assert "Points Possible" in points[0] and points[5] == "14.00"
    assert not any("Problem Set 9" in c or "Current Score" in c for c in header)


def test_canvas_export_matches_the_roster_by_id_and_merges_nobody(canvas_file):
    output, rows_ = canvas_file
    students = {row[1]: row for row in rows_[2:]}
    assert len(students) == len(rows_) - 2 == 7  # every roster row once, in Canvas's own id
    assert students[ALICE][:5] == ["Smith, Alice", ALICE, "S001", "asmith", "Section A"]
    assert students[ALICE][5] == "13"
    assert students[ANNA_MUELLER][5] == "14" and students[ANNA_MOELLER][5] == "10"
    assert students[DAN][5] == "0"                       # a graded zero is a grade
    assert students[BOB][5] == ""                        # written answer not read yet: no grade
    assert students[CAROL][5] == ""                      # could not be graded: never a grade
    assert students[FRANK][5] == ""                      # never submitted
    assert "written answers not graded yet" in output and BOB in output
    assert HUB_STUDENT in output and "not in the Canvas export" in output
    assert "marked late by Canvas" in output and BOB in output.split("marked late by Canvas")[1]


def test_canvas_export_scales_to_canvas_points(course, feedback, tmp_path):
    roster = tmp_path / "roster-28.csv"
    roster.write_text(ROSTER.replace(",14.00,", ",28.00,"), encoding="utf-8")
    result = mildip(course, "export", "--lms", "canvas", "--roster", str(roster), "--output", str(tmp_path / "c.csv"))
    assert result.returncode == 0, result.stderr
    students = {row[1]: row for row in read_csv(tmp_path / "c.csv")[2:]}
    assert students[ALICE][5] == "26" and "scaled from 14 points to Canvas's 28" in result.stdout


def test_moodle_worksheet_keeps_moodles_columns_and_fills_grades(course, feedback, tmp_path):
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
        "Last modified (submission),Last modified (grade),Feedback comments\n"
        f"Participant {ALICE},Alice Smith,a@example.org,Submitted,,100.00,Yes,-,-,\n"
        f"Participant {BOB},Bob Jones,b@example.org,Submitted,,100.00,Yes,-,-,\n"
        "Participant 99999,Zoe Extra,z@example.org,No submission,,100.00,Yes,-,-,\n", encoding="utf-8")
    result = mildip(course, "export", "--lms", "moodle", "--assignment", "ps1", "--roster", str(worksheet))
    assert result.returncode == 0, result.stderr
    rows_ = read_csv(course / "grades" / f"moodle-{ASSIGNMENT}.csv")
    assert rows_[0] == read_csv(worksheet)[0]
    by_id = {row[0]: dict(zip(rows_[0], row)) for row in rows_[1:]}
    assert set(by_id) == {f"Participant {ALICE}", f"Participant {BOB}", "Participant 99999"}
    alice = by_id[f"Participant {ALICE}"]
    assert float(alice["Grade"]) == pytest.approx(100 * 13 / 14, abs=0.01)
    assert datetime.fromisoformat(alice["Last modified (grade)"]).tzinfo is not None
    assert by_id[f"Participant {BOB}"]["Grade"] == ""      # still to grade by hand
    assert "scaled from 14 points to Moodle's Maximum Grade 100" in result.stdout


def test_plain_export_lists_released_assignments_only_with_statuses_when_asked(course, roster, feedback):
    result = mildip(course, "export", "--roster", str(roster))
    assert result.returncode == 0, result.stderr
    plain = read_csv(course / "grades" / "grades.csv")
    assert plain[0] == ["student", "name", ASSIGNMENT]   # ps2-ps5 were never released
    result = mildip(course, "export", "--roster", str(roster), "--status")
    assert result.returncode == 0, result.stderr
    with (course / "grades" / "grades.csv").open(encoding="utf-8") as f:
        rows_ = {row["student"]: row for row in csv.DictReader(f)}
    status = f"{ASSIGNMENT} status"
    assert rows_[ALICE][ASSIGNMENT] == "13" and rows_[ALICE][status] == "graded"
    assert rows_[ALICE]["name"] == "Smith, Alice"
    assert rows_[DAN][ASSIGNMENT] == "0" and rows_[DAN][status] == "graded"
    assert rows_[BOB][status] == "needs manual grading (late)"
    assert rows_[CAROL][ASSIGNMENT] == "" and rows_[CAROL][status].startswith("could not be graded: ")
    assert rows_["empty-erin"][status].startswith("could not be graded: ")
    assert rows_[FRANK][ASSIGNMENT] == "" and rows_[FRANK][status] == "not submitted"
    assert rows_[HUB_STUDENT][ASSIGNMENT] == "0" and rows_[HUB_STUDENT][status] == "needs manual grading (late)"


# --- manual grades survive regrading -------------------------------------------------------------


@pytest.fixture(scope="module")
def regraded(course, canvas_file, hand_graded):
    before = {s: manual_state(course, s) for s in (ALICE, ANNA_MUELLER, ANNA_MOELLER)}
    forced = mildip(course, "grade", "ps1", "--force", "--jobs", "2")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    after_force = {s: manual_state(course, s) for s in before}
    path = course / "source" / ASSIGNMENT / NOTEBOOK
    source = nbformat.read(path, as_version=4)
    source.cells[0].source += "\n\nThe due date is in the course calendar."
    nbformat.write(source, path)
    edited = mildip(course, "grade", "ps1", "--jobs", "2")
    assert edited.returncode == 0, edited.stdout + edited.stderr
    after_edit = {s: manual_state(course, s) for s in before}
    return before, after_force, forced.stdout, after_edit, edited.stdout


@pytest.mark.slow
def test_grade_force_keeps_manual_scores_and_comments(regraded):
    before, after_force, output, _, _ = regraded
    assert after_force == before
    assert before[ALICE] == (3.0, False, "Uses two results; name a limitation.")
    assert "13/14" in rows(output)[ALICE] and "written answers to grade" not in rows(output)[ALICE]


@pytest.mark.slow
def test_editing_the_source_keeps_manual_scores_and_comments(regraded):
    before, _, _, after_edit, output = regraded
    assert after_edit == before
    assert "graded" in rows(output)[ALICE] and "13/14" in rows(output)[ALICE]


# --- item analysis ------------------------------------------------------------------------------------


def test_item_analysis_report(course, feedback):
    result = mildip(course, "report", "ps1")
    assert result.returncode == 0, result.stderr
    page = (course / "grades" / f"{ASSIGNMENT}-report.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 7  # totals, full marks, one per question
    for question in ("q1_tests", "q2_tests", "q3_tests", "q4_tests", "q5_answer", "q6_tests"):
        assert question in page
    assert "Total scores (out of 14" in page
    assert "corrected item-total correlation" in " ".join(page.split()) and "discrimination" in page
    assert "awaiting grading" in page
    table_ = page.split("<table", 2)[2].split("</table>")[0]
    assert not re.search(r"<td>\d+\.0</td>", table_), "counts must be integers"
    q5 = re.search(r"<td>q5_answer</td>(.*?)</tr>", table_, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", q5)
    # kind, max, students, graded, awaiting: Dan's untouched answer counts 0 automatically; Bob's and
    # the hub student's wait
    assert cells[:5] == ["written (by hand)", "4", "6", "4", "2"]
    assert "does not match the value recomputed from the data" in page
    assert "http" not in page.split("<svg")[0]


# --- the command line and make ----------------------------------------------------------------------


def test_cli_help_shows_no_raw_markup():
    commands = ["release", "collect", "grade", "feedback", "export", "report", "scores", "formgrader"]
    for args in [["--help"]] + [[c, "--help"] for c in commands]:
        result = subprocess.run([str(BIN / "mildip"), *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (args, result.stderr)
        for markup in ("``", ":mod:", ":class:", ":func:", "**", "`"):
            assert markup not in result.stdout, (args, markup)


def test_mildip_works_without_the_venv_on_path(tmp_path):
    course = copy_course(tmp_path)
    env = dict(os.environ, PATH="/usr/bin:/bin", MILDIP_COURSE=str(course))
    result = subprocess.run([str(BIN / "mildip"), "release", "ps1"], cwd=course, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "alembic" not in result.stderr
    assert (course / "gradebook.db").is_file() and (course / "release" / ASSIGNMENT / NOTEBOOK).is_file()


def test_an_assignment_with_no_submissions_says_so_and_changes_nothing(tmp_path):
    course = copy_course(tmp_path)
    before = sorted(p.relative_to(course) for p in course.rglob("*"))
    result = mildip(course, "grade", "ps2")
    assert result.returncode == 1
    assert "no submissions of ps2-bilateral-relations" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.relative_to(course) for p in course.rglob("*")) == before


def make(*args, course):
    env = dict(os.environ, MILDIP_COURSE=str(course))
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], env=env, capture_output=True,
                          text=True, timeout=600)


def test_make_targets_quote_paths_and_pass_arguments_through(tmp_path, canvas_zip):
    course = copy_course(tmp_path / "course-for-make")
    awkward = tmp_path / "submissions (1) 'Canvas'.zip"
    shutil.copy(canvas_zip, awkward)
    result = make("collect", "A=ps1", f"FROM={awkward}", course=course)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (course / "submitted" / ALICE / ASSIGNMENT / NOTEBOOK).is_file()
    result = make("grade", "A=ps1", "ARGS=--help", course=course)
    assert result.returncode == 0 and "--force" in result.stdout and "--jobs" in result.stdout
    result = make("export", "ARGS=--lms canvas --help", course=course)
    assert result.returncode == 0 and "--roster" in result.stdout
    result = make("report", course=course)
    assert result.returncode != 0 and "name the assignment" in result.stderr


def test_canvas_file_names_are_read_as_canvas_writes_them(tmp_path, notebooks):
    course = copy_course(tmp_path)
    download = tmp_path / "canvas.zip"
    with zipfile.ZipFile(download, "w") as archive:
        # Canvas keeps underscores and letters of any script in the sortable name; anonymous
        # grading leaves the name out and writes anon_<id>
        archive.writestr(f"van_der_berg_1111_2222_{NOTEBOOK}", notebook_bytes(notebooks["solution"]))
        archive.writestr(f"LATE_anon_x7Kq2_3333_{NOTEBOOK}", notebook_bytes(notebooks["solution"]))
        archive.writestr(f"żółćjan_4444_5555_My_Notebook_2_final.ipynb", notebook_bytes(notebooks["solution"]))
    result = mildip(course, "collect", "ps1", str(download))
    assert result.returncode == 0, result.stderr
    with (course / "grades" / f"{ASSIGNMENT}-submissions.csv").open(encoding="utf-8") as f:
        found = {row["student"]: row for row in csv.DictReader(f)}
    assert set(found) == {"1111", "anon_x7Kq2", "4444"}
    assert found["1111"]["name"] == "van_der_berg" and found["4444"]["name"] == "żółćjan"
    assert found["anon_x7Kq2"]["late"] == "yes" and found["anon_x7Kq2"]["name"] == ""
    assert found["4444"]["file"] == "My_Notebook_2_final.ipynb"


@pytest.mark.parametrize("content", [
    "",                                                     # empty
    "name,email\nAlice,a@example.org\n",                    # neither an LMS file nor a 'student' column
    "student\nx\nx\n",                                      # an id twice
    "Identifier,Full name,Grade\nBob,Bob Jones,\n",         # a Moodle worksheet with a broken identifier
])
def test_a_bad_roster_is_a_one_line_error(tmp_path, content):
    course = copy_course(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text(content, encoding="utf-8")
    for args in (["export", "--roster", str(roster)], ["export", "--lms", "canvas", "--roster", str(roster)],
                 ["collect", "ps1", str(tmp_path), "--roster", str(roster)]):
        result = mildip(course, *args)
        assert result.returncode == 1, (args, result.stdout)
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert str(roster) in result.stderr


@pytest.mark.parametrize("kind", ["COURSE", "GRADER"])
def test_a_course_or_grader_error_never_becomes_a_grade(tmp_path, kind):
    from types import SimpleNamespace

    from mildip.grading.course import Course
    from mildip.grading.export import _standing
    from mildip.grading.results import Kind, Note, Result

    course = Course.open(copy_course(tmp_path))
    failed = Result(ALICE, ASSIGNMENT, STEM, [Note(Kind[kind], "the instructor's cell setup failed")])
    # an earlier submission with scores is still in the gradebook: it must not be exported either
    earlier = SimpleNamespace(score=12.0, late_submission_penalty=0.0, max_score=14.0, needs_manual_grade=False)
    cell = _standing(course, ALICE, ASSIGNMENT, {(ALICE, STEM): failed}, earlier)
    assert cell.score is None and not cell.final
    assert cell.status.startswith("could not be graded: ") and "setup failed" in cell.status
