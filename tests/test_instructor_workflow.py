"""The instructor's path with the real nbgrader CLI: release, collect, grade, feedback, export, report."""

import csv
import json
import os
import zipfile

import nbformat
import pytest

from conftest import require_sandbox, as_submitted, copy_course, mildip

pytestmark = pytest.mark.slow

ASSIGNMENT = "ps1-nato-burden-sharing"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


@pytest.fixture(autouse=True, scope="module")
def sandbox_installed():
    require_sandbox()


def notebook_bytes(notebook):
    return nbformat.writes(notebook).encode()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("workflow"))
    assert mildip(course, "release", "ps1").returncode == 0
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
    """A Canvas 'Download submissions' zip: one file per submission, plus the usual debris."""
    path = tmp_path_factory.mktemp("lms") / "submissions.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"smithalice_12345_678901_{NOTEBOOK}", notebook_bytes(notebooks["solution"]))
        archive.writestr(f"jonesbob_LATE_23456_789012_{ASSIGNMENT}-1.ipynb", notebook_bytes(notebooks["wrong"]))
        archive.writestr(f"jonesbob_23456_700000_{NOTEBOOK}", notebook_bytes(notebooks["released"]))
        archive.writestr(f"leecarol_34567_890123_{NOTEBOOK}", b'{"cells": [')
        archive.writestr("kimdan_45678_901234_Untitled.ipynb", notebook_bytes(notebooks["released"]))
        archive.writestr("kimdan_45678_901235_essay.docx", b"PK\x03\x04 not a notebook")
        archive.writestr(f"__MACOSX/._smithalice_12345_678901_{NOTEBOOK}", b"\x00\x05\x16\x07")
        archive.writestr("readme.txt", b"downloaded from the LMS")
    return path


@pytest.fixture(scope="module")
def collected(course, canvas_zip):
    result = mildip(course, "collect", "ps1", str(canvas_zip))
    assert result.returncode == 0, result.stderr
    (course / "submitted" / "empty-erin" / ASSIGNMENT).mkdir(parents=True)
    return result.stdout


@pytest.fixture(scope="module")
def graded(course, collected):
    result = mildip(course, "grade", "ps1", "--jobs", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_collect_places_an_lms_zip_in_nbgraders_layout(course, collected):
    submitted = course / "submitted"
    assert (submitted / "smithalice" / ASSIGNMENT / NOTEBOOK).is_file()
    assert (submitted / "leecarol" / ASSIGNMENT / NOTEBOOK).is_file()
    # a notebook under another name is still the submission
    assert (submitted / "kimdan" / ASSIGNMENT / NOTEBOOK).is_file()
    # of a resubmission, the latest is kept
    bob = nbformat.read(submitted / "jonesbob" / ASSIGNMENT / NOTEBOOK, as_version=4)
    assert any("corr(y[" in cell.source for cell in bob.cells)


def test_collect_reports_what_it_could_not_place(collected):
    assert "placed 4 submission(s)" in collected
    assert "essay.docx: not a notebook" in collected
    assert "__MACOSX" in collected and "system file" in collected
    assert "readme.txt" in collected


def test_collect_rejects_a_file_that_is_not_a_zip(course, tmp_path):
    bogus = tmp_path / "grades.pdf"
    bogus.write_bytes(b"%PDF-1.4")
    result = mildip(course, "collect", "ps1", str(bogus))
    assert result.returncode == 1
    assert "neither a folder nor a zip file" in result.stderr
    assert "Traceback" not in result.stderr


def test_grade_reports_each_student(graded):
    lines = {line.split()[0]: line for line in graded.splitlines()[1:] if line.strip()}
    assert "graded" in lines["smithalice"] and "10/14" in lines["smithalice"]
    assert "8/14" in lines["jonesbob"]
    assert "invalid notebook" in lines["leecarol"]
    assert "missing notebook" in lines["empty-erin"]


def test_feedback_shows_results_but_never_hidden_tests(course, graded):
    result = mildip(course, "feedback", "ps1")
    assert result.returncode == 0, result.stderr
    pages = {p.parts[-3]: p.read_text(encoding="utf-8") for p in (course / "feedback").glob(f"*/{ASSIGNMENT}/*.html")}
    assert {"smithalice", "jonesbob", "kimdan"} <= set(pages)
    source = nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    hidden = [line.strip() for cell in source.cells for line in
              cell.source.split("### BEGIN HIDDEN TESTS")[-1].split("### END HIDDEN TESTS")[0].splitlines()
              if "### BEGIN HIDDEN TESTS" in cell.source and line.strip()]
    assert hidden
    for student, page in pages.items():
        assert "BEGIN HIDDEN TESTS" not in page, student
        for line in hidden:
            assert line not in page, (student, line)
    assert "is not the expected value" in pages["jonesbob"]


def test_export_tells_apart_graded_zero_ungradable_and_not_submitted(course, graded, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name\nsmithalice,Alice\nnever-frank,Frank\n", encoding="utf-8")
    result = mildip(course, "export", "--roster", str(roster))
    assert result.returncode == 0, result.stderr
    with (course / "grades" / "grades.csv").open(encoding="utf-8") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"smithalice", "jonesbob", "leecarol", "kimdan", "empty-erin", "never-frank"}
    columns = list(next(iter(rows.values())))
    assert columns[:3] == ["student", "ps1-nato-burden-sharing", "ps1-nato-burden-sharing status"]
    assert all(f"{a} status" in columns for a in os.listdir(course / "source"))
    ps1 = "ps1-nato-burden-sharing"
    assert rows["smithalice"][ps1] == "10" and rows["smithalice"][f"{ps1} status"] == "needs manual grading"
    assert rows["jonesbob"][ps1] == "8"
    assert rows["kimdan"][ps1] == "0" and rows["kimdan"][f"{ps1} status"] == "graded"
    assert rows["leecarol"][ps1] == "" and rows["leecarol"][f"{ps1} status"].startswith("could not be graded: ")
    assert rows["empty-erin"][f"{ps1} status"].startswith("could not be graded: ")
    assert rows["never-frank"][ps1] == "" and rows["never-frank"][f"{ps1} status"] == "not submitted"
    assert rows["smithalice"]["ps2-bilateral-relations status"] == "not submitted"


def test_item_analysis_report_has_plots_and_failure_messages(course, graded):
    result = mildip(course, "report", "ps1")
    assert result.returncode == 0, result.stderr
    page = (course / "grades" / f"{ASSIGNMENT}-report.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 5
    for question in ("q1_tests", "q2_tests", "q3_tests", "q4_tests", "q5_answer", "q6_tests"):
        assert question in page
    assert "is not the expected value" in page
    assert "http" not in page.split("<svg")[0]
