"""Scores into nbgrader's gradebook, and out of it, with nbgrader's own preprocessors.

Only the grading process writes here, after a notebook has run: nothing in a student's
sandbox can reach the gradebook. Points are decided by nbgrader (``SaveAutoGrades`` and its
``determine_grade``) from the test cells' outputs, which the grader wrote from the tests'
verdicts; late penalties are nbgrader's ``AssignLatePenalties`` with the course's
configuration (``LateSubmissionPlugin.penalty_method`` and the due date in the gradebook).
"""

from __future__ import annotations

import pandas as pd

from mildip.grading.course import Course


def save_auto_grades(gradebook, notebook, resources, config, keep_manual: bool) -> None:
    """nbgrader's SaveAutoGrades through an open gradebook, committing once per notebook.

    nbgrader keeps every manual score and comment; it marks each cell with a manual score as
    needing review again. With ``keep_manual`` (the submitted file has not changed since it was
    last graded) a cell graded by hand keeps its state instead: a written answer always, a test
    cell whose score was overridden by hand as long as its automatic score is unchanged.
    """
    from nbgrader.preprocessors import SaveAutoGrades

    step = SaveAutoGrades(config=config)
    step.notebook_id = resources["nbgrader"]["notebook"]
    step.assignment_id = resources["nbgrader"]["assignment"]
    step.student_id = resources["nbgrader"]["student"]
    step.gradebook = gradebook
    session = gradebook.db
    submitted = _submitted_notebook(gradebook, step)
    before = {g.name: (g.auto_score, g.needs_manual_grade) for g in submitted.grades} if submitted else {}
    session.commit = session.flush  # each cell's commit becomes a flush...
    try:
        for index, cell in enumerate(notebook.cells):
            step.preprocess_cell(cell, resources, index)
    finally:
        del session.commit
    submitted = gradebook.find_submission_notebook(step.notebook_id, step.assignment_id, step.student_id)
    if keep_manual:
        for grade in submitted.grades:
            if grade.manual_score is None:
                continue
            was_auto, was_waiting = before.get(grade.name, (None, True))
            if grade.cell.cell_type == "markdown" or grade.auto_score == was_auto:
                grade.needs_manual_grade = was_waiting  # graded by hand, and nothing it depends on changed
    session.commit()  # ...and the notebook's grades are committed together


def _submitted_notebook(gradebook, step):
    from nbgrader.api import MissingEntry

    try:
        return gradebook.find_submission_notebook(step.notebook_id, step.assignment_id, step.student_id)
    except MissingEntry:
        return None


def record(course: Course, gradebook, assignment: str, student: str, notebook_name: str, notebook,
           timestamp, keep_manual: bool) -> tuple[float, float, float]:
    """Write one graded notebook's scores; return (score after any late penalty, max score, seconds late)."""
    from nbgrader.preprocessors import AssignLatePenalties

    gradebook.update_or_create_student(student)
    gradebook.update_or_create_submission(assignment, student, timestamp=timestamp)
    resources = {"nbgrader": {"db_url": course.db_url, "assignment": assignment, "notebook": notebook_name,
                              "student": student}}
    save_auto_grades(gradebook, notebook, resources, course.config, keep_manual)
    AssignLatePenalties(config=course.config).preprocess(notebook, resources)
    gradebook.db.expire_all()  # AssignLatePenalties wrote through its own connection
    submitted = gradebook.find_submission_notebook(notebook_name, assignment, student)
    late = gradebook.find_submission(assignment, student).total_seconds_late
    score = submitted.score - (submitted.late_submission_penalty or 0)
    return score, submitted.max_score, float(late or 0)


def in_gradebook(course: Course, assignment: str) -> bool:
    from nbgrader.api import MissingEntry

    try:
        with course.gradebook() as gradebook:
            gradebook.find_assignment(assignment)
        return True
    except MissingEntry:
        return False


def _notebooks(gradebook, assignment: str):
    """(student id, submitted notebook) for every submission of ``assignment`` in the gradebook."""
    from nbgrader.api import MissingEntry

    for student in gradebook.students:
        try:
            submission = gradebook.find_submission(assignment, student.id)
        except MissingEntry:
            continue
        for notebook in submission.notebooks:
            yield student.id, notebook


def scores(course: Course, assignment: str) -> pd.DataFrame:
    """Points per student and question (one row per student and grade cell)."""
    rows = []
    with course.gradebook() as gradebook:
        for student, notebook in _notebooks(gradebook, assignment):
            for grade in notebook.grades:
                rows.append({
                    "student": student,
                    "notebook": notebook.name,
                    "question": grade.name,
                    "kind": "manual" if grade.cell.cell_type == "markdown" else "auto",
                    "auto_score": grade.auto_score,
                    "manual_score": grade.manual_score,
                    "max_score": grade.max_score,
                    "needs_manual_grade": grade.needs_manual_grade,
                })
    return pd.DataFrame(rows, columns=["student", "notebook", "question", "kind", "auto_score", "manual_score",
                                       "max_score", "needs_manual_grade"])


def totals(course: Course, assignment: str) -> dict[tuple[str, str], dict]:
    """{(student, notebook): score (after the late penalty), max_score, penalty, waiting} as the
    gradebook holds them now, manual grades included."""
    found = {}
    with course.gradebook() as gradebook:
        for student, notebook in _notebooks(gradebook, assignment):
            penalty = float(notebook.late_submission_penalty or 0)
            found[student, notebook.name] = {
                "score": max(0.0, float(notebook.score or 0) - penalty),
                "max_score": float(notebook.max_score or 0),
                "penalty": penalty,
                "waiting": bool(notebook.needs_manual_grade),
            }
    return found
