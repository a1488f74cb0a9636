"""Every assignment through the real nbgrader command line, driven by the `mildip` command.

For each assignment in exercises/source/, one class is graded: the instructor's solution, the
untouched released notebook, the solution with its answers rounded to the precision each
question asks for (tests/rounded_answers/<assignment>.yaml), and, for every autograded
question, a submission in which only that answer is wrong (the mistakes are in
tests/wrong_answers/<assignment>.yaml).
"""

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import require_sandbox, ROOT, as_submitted, copy_course, mildip, scores

pytestmark = pytest.mark.slow

WRONG = Path(__file__).parent / "wrong_answers"
ROUNDED = Path(__file__).parent / "rounded_answers"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "exercises" / "source").iterdir() if p.is_dir())


def mistakes(assignment):
    with (WRONG / f"{assignment}.yaml").open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def rounded(assignment):
    with (ROUNDED / f"{assignment}.yaml").open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def source_notebook(assignment):
    (path,) = (ROOT / "exercises" / "source" / assignment).glob("*.ipynb")
    return nbformat.read(path, as_version=4)


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
        careful = solution
        for grade_id, code in rounded(assignment).items():
            careful = with_answer(careful, grade_id, answer_of(careful, grade_id) + "\n" + code)
        submissions["rounded"] = careful
        for student, notebook in submissions.items():
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / name)
        result = mildip(course, "grade", assignment)
        assert result.returncode == 0, result.stdout + result.stderr
        self[assignment] = (scores(course, assignment), released)
        return self[assignment]


def answer_of(notebook, grade_id):
    return next(c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


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
def test_answers_rounded_to_the_precision_asked_earn_full_marks(assignment, graded):
    scores, _ = graded[assignment]
    assert rounded(assignment), "tests/rounded_answers must round at least one answer"
    assert autograded(scores, "rounded") == maximum(scores)


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


# --- what students read and see ----------------------------------------------------------------


def hidden_part(source):
    return source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]


def calls(source, *names):
    """Every call of one of ``names`` in ``source``, as an ast.Call."""
    return [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name) and node.func.id in names]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_hidden_comparison_has_a_precision_and_a_hint(assignment):
    for cell in source_notebook(assignment).cells:
        if "### BEGIN HIDDEN TESTS" not in cell.source:
            continue
        hidden = hidden_part(cell.source)
        found = calls(hidden, "expect_close", "expect_same_items")
        assert found, cell.metadata["nbgrader"]["grade_id"]
        for call in found:
            keywords = {k.arg for k in call.keywords}
            assert "hint" in keywords, (cell.metadata["nbgrader"]["grade_id"], ast.unparse(call)[:80])
            if call.func.id == "expect_close":
                assert "digits" in keywords, (cell.metadata["nbgrader"]["grade_id"], ast.unparse(call)[:80])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_autograded_question_states_the_precision_it_wants(assignment):
    notebook = source_notebook(assignment)
    tests = {c.metadata["nbgrader"]["grade_id"] for c in notebook.cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}
    texts = {c.metadata["nbgrader"]["grade_id"].removesuffix("_text"): c.source for c in notebook.cells
             if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_text")}
    for test in tests:
        question = test.removesuffix("_tests")
        hidden = hidden_part(next(c.source for c in notebook.cells
                                  if c.metadata.get("nbgrader", {}).get("grade_id") == test))
        digits = {ast.literal_eval(k.value) for call in calls(hidden, "expect_close")
                  for k in call.keywords if k.arg == "digits"}
        text = " ".join(texts[question].split())
        for d in digits:
            if d == 0:
                assert "whole number" in text, (question, "counts are asked for without saying so")
            else:
                assert re.search(rf"to {d} decimal place", text), (question, d)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_instructions_say_what_the_validate_button_checks(assignment):
    intro = " ".join(source_notebook(assignment).cells[0].source.split())
    assert "**Validate**" in intro and "Success! Your notebook passes all the tests." in intro
    assert "visible checks only" in intro and "hidden tests are still to come" in intro


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_code_the_instructions_tell_students_to_run_works_after_the_setup_cell(assignment):
    import mildip

    notebook = source_notebook(assignment)
    setup = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    snippets = [s for c in notebook.cells if c.cell_type == "markdown"
                for s in re.findall(r"`([^`]*\bdescribe\([^`]*)`", c.source)]
    assert snippets, "the instructions no longer point to the datasets' descriptions"
    namespace = {}
    exec(compile(setup.source, "setup", "exec"), namespace)  # noqa: S102 - the course's own cell
    example = next(name for name in mildip.dataset_names() if name in setup.source)
    for snippet in snippets:
        runnable = snippet.replace('"<name>"', repr(example)).replace("(name)", f"({example!r})")
        compiled = compile(runnable, "instructions", "eval" if "print(" not in runnable else "exec")
        exec(compiled, dict(namespace))  # noqa: S102 - would raise NameError if the setup lacked a name


def all_mistakes(solution, assignment):
    notebook = solution
    for grade_id, mistake in mistakes(assignment).items():
        notebook = with_answer(notebook, grade_id, mistake["code"])
    return notebook


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbgraders_validate_catches_common_mistakes_combined_in_one_line_each(assignment, graded, tmp_path):
    """Validate (the student's button) runs the visible checks: common mistakes do not all pass."""
    from nbgrader.validator import Validator

    _, released = graded[assignment]
    name = notebook_name(assignment)
    solution = as_submitted(source_notebook(assignment), released)
    for label, notebook in {"mistakes": all_mistakes(solution, assignment), "solution": solution}.items():
        folder = tmp_path / label
        folder.mkdir()
        nbformat.write(notebook, folder / name)
        results = Validator().validate(str(folder / name))
        if label == "solution":
            assert "failed" not in results, results.get("failed")
            continue
        assert results.get("failed"), "every visible check passed with all the common mistakes"
        for failure in results["failed"]:
            error = failure["error"].strip()
            assert error.startswith("Check failed: "), error
            assert "\n" not in error and "Traceback" not in error and "checks.py" not in error, error
