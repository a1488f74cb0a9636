"""Instructor source notebooks are clean and well-formed for nbgrader."""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "exercises" / "source").glob("*/*.ipynb"))


def test_there_is_at_least_one_assignment():
    assert SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_source_notebook_is_clean(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: stored outputs"
            assert cell.execution_count is None, f"{path.name}: stored execution count"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_every_graded_question_has_points_and_a_hidden_test(path):
    notebook = nbformat.read(path, as_version=4)
    meta = [c.metadata["nbgrader"] for c in notebook.cells if "nbgrader" in c.metadata]
    ids = [m["grade_id"] for m in meta]
    assert len(ids) == len(set(ids)), "duplicate grade_id"
    tests = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert len(tests) >= 4
    for cell in tests:
        assert cell.metadata["nbgrader"]["points"] > 0
        assert "### BEGIN HIDDEN TESTS" in cell.source
    manual = [c for c in notebook.cells
              if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")]
    assert manual, "no manually graded written answer"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_every_name_a_test_reads_has_one_owner(path):
    """The grader gives a test the student's value only for names the solution cells define and no
    cell of the instructor's does; anything else comes from the instructor's own cells. A name
    both define would be ambiguous, and a name neither defines could never be found."""
    import builtins

    from mildip.grading.evaluate import bound_names, needed_names
    from mildip.grading.submission import is_locked_code, is_solution, is_test

    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    instructor = set().union(*(bound_names(c.source) for c in code if is_locked_code(c) or is_test(c)))
    student = set().union(*(bound_names(c.source) for c in code if is_solution(c)))
    for cell in code:
        if not (is_test(cell) or is_locked_code(cell)):
            continue
        read = needed_names(cell.source)
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        assert not (read & instructor & student), f"{grade_id} reads names both sides define"
        assert read <= instructor | student | set(dir(builtins)), f"{grade_id} reads undefined names"
