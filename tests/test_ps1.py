"""Problem set 1 through the real nbgrader command line, driven by the `mildip` command.

One class is graded once for the whole module: the instructor's solution, the untouched
released notebook, and one submission per autograded question in which only that answer is
wrong.
"""

import json
import os
import shutil

import nbformat
import pytest

from conftest import BIN, ROOT, run
from mildip import grading

ASSIGNMENT = "ps1-nato-burden-sharing"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"

# A plausible mistake for each autograded question, and the test cell that must catch it.
WRONG_ANSWERS = {
    "q1_answer": ("q1_tests", 'allies_at_2pct = spending[spending["share_gdp_pct"] > 2].groupby("year").size()'),
    "q2_answer": ("q2_tests", 'w = spending.pivot(index="country", columns="year", values="share_gdp_pct")\n'
                              "change_since_2014 = (w[2023] - w[2014]).sort_values(ascending=False)"),
    "q3_answer": ("q3_tests", 'w = spending.pivot(index="country", columns="year", values="share_gdp_pct")\n'
                              "new_to_2pct = list(w.index[w[2024] >= 2].astype(str))"),
    "q4_answer": ("q4_tests", 'y = spending[spending["year"] == 2024]\n'
                              'size_share_corr = y["gdp_usd_m"].corr(y["share_gdp_pct"])'),
}


def with_answer(notebook, grade_id, source):
    changed = nbformat.from_dict(json.loads(json.dumps(notebook)))
    cell = next(c for c in changed.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = source
    return changed


def mildip(course, *args):
    env_course = dict(os.environ, MILDIP_COURSE=str(course))
    os.environ.update(env_course)
    try:
        return run([str(BIN / "mildip"), *args], cwd=course)
    finally:
        os.environ.pop("MILDIP_COURSE", None)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("ps1") / "course"
    course.mkdir()
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source", course / "source")

    result = mildip(course, "release", "ps1")
    assert result.returncode == 0, result.stderr
    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solution = nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)

    submissions = {"solution": solution, "released": released}
    for grade_id, (_, source) in WRONG_ANSWERS.items():
        submissions[f"wrong_{grade_id}"] = with_answer(solution, grade_id, source)
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / NOTEBOOK)

    result = mildip(course, "grade", "ps1")
    assert result.returncode == 0, result.stdout + result.stderr
    os.environ["MILDIP_COURSE"] = str(course)
    try:
        scores = grading.scores("ps1")
    finally:
        del os.environ["MILDIP_COURSE"]
    return course, scores, released


def auto_points(scores, student):
    rows = scores[(scores["student"] == student) & ~scores["needs_manual_grade"]]
    rows = rows[rows["question"] != "q5_answer"]
    return dict(zip(rows["question"], rows["auto_score"]))


def max_points(scores):
    rows = scores[(scores["student"] == "solution") & (scores["question"] != "q5_answer")]
    return dict(zip(rows["question"], rows["max_score"]))


def test_solution_earns_full_autograded_marks(graded):
    _, scores, _ = graded
    assert len(max_points(scores)) >= 4
    assert auto_points(scores, "solution") == max_points(scores)


def test_released_notebook_earns_zero(graded):
    _, scores, _ = graded
    released = scores[scores["student"] == "released"]
    assert released["auto_score"].fillna(0).sum() == 0


@pytest.mark.parametrize("grade_id", sorted(WRONG_ANSWERS))
def test_one_wrong_answer_loses_exactly_that_questions_points(graded, grade_id):
    _, scores, _ = graded
    question = WRONG_ANSWERS[grade_id][0]
    expected = dict(max_points(scores), **{question: 0.0})
    assert auto_points(scores, f"wrong_{grade_id}") == expected


def test_written_answer_is_left_for_the_instructor(graded):
    _, scores, _ = graded
    written = scores[(scores["student"] == "solution") & (scores["question"] == "q5_answer")]
    assert written["needs_manual_grade"].all()
    assert written["max_score"].iloc[0] > 0


def test_released_notebook_hides_solutions_and_hidden_tests(graded):
    _, _, released = graded
    text = "\n".join(cell.source for cell in released.cells)
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert "_expected" not in text
    assert "rubric" not in text.lower()
    stubs = [c for c in released.cells if c.cell_type == "code" and "raise NotImplementedError()" in c.source]
    assert len(stubs) == 4
    assert all(not cell.get("outputs") for cell in released.cells)


def test_visible_checks_report_without_claiming_all_tests_passed(graded):
    course, _, _ = graded
    graded_solution = nbformat.read(course / "autograded" / "solution" / ASSIGNMENT / NOTEBOOK, as_version=4)
    printed = "".join(
        output.get("text", "") for cell in graded_solution.cells for output in cell.get("outputs", [])
    )
    assert printed.count("Visible checks passed") == 4
    assert "Hidden tests will also be run" in printed
    assert "all tests passed" not in printed.lower()


def test_cli_reports_an_unknown_assignment_without_a_traceback(course):
    result = mildip(course, "release", "ps9")
    assert result.returncode == 1
    assert "no assignment called 'ps9'" in result.stderr
    assert "Traceback" not in result.stderr
