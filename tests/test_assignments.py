"""Every assignment through the real nbgrader command line, driven by the `mildip` command.

For each assignment in exercises/source/, one class is graded: the instructor's solution, the
untouched released notebook, and, for every autograded question, a submission in which only
that answer is wrong (the mistakes are in tests/wrong_answers/<assignment>.yaml).
"""

import json
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import require_sandbox, ROOT, as_submitted, copy_course, mildip, scores

pytestmark = pytest.mark.slow

WRONG = Path(__file__).parent / "wrong_answers"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "exercises" / "source").iterdir() if p.is_dir())


def mistakes(assignment):
    with (WRONG / f"{assignment}.yaml").open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def notebook_name(assignment):
    (path,) = (ROOT / "exercises" / "source" / assignment).glob("*.ipynb")
    return path.name


def with_answer(notebook, grade_id, source):
    changed = nbformat.from_dict(json.loads(json.dumps(notebook)))
    cell = next(c for c in changed.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = source
    return changed


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory):
    require_sandbox()
    return copy_course(tmp_path_factory.mktemp("course"))


class GradedClasses(dict):
    """Releases and grades an assignment's class the first time a test asks for it."""

    def __init__(self, course):
        super().__init__()
        self.course = course

    def __missing__(self, assignment):
        course, name = self.course, notebook_name(assignment)
        result = mildip(course, "release", assignment)
        assert result.returncode == 0, result.stderr
        released = nbformat.read(course / "release" / assignment / name, as_version=4)
        solution = as_submitted(nbformat.read(course / "source" / assignment / name, as_version=4), released)
        submissions = {"solution": solution, "released": released}
        for grade_id, mistake in mistakes(assignment).items():
            submissions[f"wrong_{grade_id}"] = with_answer(solution, grade_id, mistake["code"])
        for student, notebook in submissions.items():
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / name)
        result = mildip(course, "grade", assignment)
        assert result.returncode == 0, result.stdout + result.stderr
        self[assignment] = (scores(course, assignment), released)
        return self[assignment]


@pytest.fixture(scope="module")
def graded(course_copy):
    """{assignment: (scores, released notebook)}, graded on first use."""
    return GradedClasses(course_copy)


def autograded(scores, student):
    rows = scores[(scores["student"] == student) & (scores["kind"] == "auto")]
    return dict(zip(rows["question"], rows["auto_score"].fillna(0)))


def maximum(scores):
    rows = scores[(scores["student"] == "solution") & (scores["kind"] == "auto")]
    return dict(zip(rows["question"], rows["max_score"]))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_autograded_question_has_a_wrong_answer_to_catch(assignment, graded):
    scores, _ = graded[assignment]
    tests = {m["test"] for m in mistakes(assignment).values()}
    assert tests == set(maximum(scores)), "tests/wrong_answers must cover every autograded question"
    assert len(tests) >= 4


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_earns_full_marks(assignment, graded):
    scores, _ = graded[assignment]
    assert autograded(scores, "solution") == maximum(scores)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_earns_zero(assignment, graded):
    scores, _ = graded[assignment]
    released = scores[scores["student"] == "released"]
    assert released["auto_score"].fillna(0).sum() == 0


@pytest.mark.parametrize(
    "assignment,grade_id",
    [(a, g) for a in ASSIGNMENTS for g in sorted(mistakes(a))],
)
def test_one_wrong_answer_loses_exactly_that_questions_points(assignment, grade_id, graded):
    scores, _ = graded[assignment]
    question = mistakes(assignment)[grade_id]["test"]
    assert autograded(scores, f"wrong_{grade_id}") == dict(maximum(scores), **{question: 0.0})


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_written_answers_are_left_for_the_instructor(assignment, graded):
    scores, _ = graded[assignment]
    written = scores[(scores["student"] == "solution") & (scores["kind"] == "manual")]
    assert len(written) >= 1
    assert written["needs_manual_grade"].all()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_hides_solutions_and_hidden_tests(assignment, graded):
    _, released = graded[assignment]
    text = "\n".join(cell.source for cell in released.cells)
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert "rubric" not in text.lower()
    stubs = [c for c in released.cells if c.cell_type == "code" and "raise NotImplementedError()" in c.source]
    assert len(stubs) >= 4
    assert all(not cell.get("outputs") for cell in released.cells)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_checks_report_without_claiming_all_tests_passed(assignment, graded, course_copy):
    scores, _ = graded[assignment]
    path = course_copy / "autograded" / "solution" / assignment / notebook_name(assignment)
    printed = "".join(o.get("text", "") for c in nbformat.read(path, as_version=4).cells for o in c.get("outputs", []))
    assert printed.count("Visible checks passed") == len(maximum(scores))
    assert "all tests passed" not in printed.lower()


def test_cli_reports_an_unknown_assignment_without_a_traceback(course):
    result = mildip(course, "release", "ps9")
    assert result.returncode == 1
    assert "no assignment called 'ps9'" in result.stderr
    assert "Traceback" not in result.stderr
