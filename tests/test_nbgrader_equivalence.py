"""Problem set 1 graded by the real `nbgrader autograde` command and by `mildip grade`.

Plain nbgrader is the reference: on well-formed submissions (the solution, the untouched
released notebook, and one wrong answer per question) it must give the expected marks, and
`mildip grade`, with all its isolation, must give exactly the same score for every grade cell.
"""

import json

import nbformat
import pytest
import yaml

from conftest import BIN, ROOT, as_submitted, copy_course, mildip, require_sandbox, run, scores

pytestmark = pytest.mark.slow

ASSIGNMENT = "ps1-nato-burden-sharing"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
MISTAKES = yaml.safe_load((ROOT / "tests" / "wrong_answers" / f"{ASSIGNMENT}.yaml").read_text(encoding="utf-8"))


def submit(course, student, notebook):
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / NOTEBOOK)


def class_of(course):
    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solution = as_submitted(nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4), released)
    submit(course, "solution", solution)
    submit(course, "released", released)
    for grade_id, mistake in MISTAKES.items():
        wrong = nbformat.from_dict(json.loads(json.dumps(solution)))
        for cell in wrong.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                cell.source = mistake["code"]
        submit(course, f"wrong_{grade_id}", wrong)


def grades(course):
    table = scores(course, ASSIGNMENT)
    # a written answer awaiting its grade has no automatic score (None, not NaN, so it compares)
    return {(r.student, r.question): (None if r.auto_score != r.auto_score else r.auto_score)
            for r in table.itertuples()}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    require_sandbox()
    results = {}
    for grader in ("nbgrader", "mildip"):
        course = copy_course(tmp_path_factory.mktemp(grader))
        result = run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force"], cwd=course)
        assert result.returncode == 0, result.stderr
        class_of(course)
        if grader == "nbgrader":
            result = run([str(BIN / "nbgrader"), "autograde", ASSIGNMENT, "--force"], cwd=course)
        else:
            result = mildip(course, "grade", "ps1")
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        results[grader] = grades(course)
    return results


def test_real_nbgrader_gives_the_solution_full_marks_the_release_zero_and_costs_each_mistake(both):
    reference = both["nbgrader"]
    tests = sorted({q for (_, q) in reference if q.endswith("_tests")})
    assert all(reference["solution", q] == 2.0 for q in tests)
    assert all(reference["released", q] == 0.0 for q in tests)
    for grade_id, mistake in MISTAKES.items():
        lost = [q for q in tests if reference[f"wrong_{grade_id}", q] == 0.0]
        assert lost == [mistake["test"]], grade_id


def test_mildip_grade_gives_exactly_nbgraders_scores(both):
    assert both["mildip"] == both["nbgrader"]
