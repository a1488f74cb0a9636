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

    With ``keep_manual``, a written answer the instructor has already graded, in a submission
    that has not changed since, keeps its grade instead of going back to "needs manual grading".
    """
    from nbgrader.preprocessors import SaveAutoGrades

    step = SaveAutoGrades(config=config)
    step.notebook_id = resources["nbgrader"]["notebook"]
    step.assignment_id = resources["nbgrader"]["assignment"]
    step.student_id = resources["nbgrader"]["student"]
    step.gradebook = gradebook
    session = gradebook.db
    session.commit = session.flush  # each cell's commit becomes a flush...
    try:
        for index, cell in enumerate(notebook.cells):
            step.preprocess_cell(cell, resources, index)
    finally:
        del session.commit
    if keep_manual:
        submitted = gradebook.find_submission_notebook(step.notebook_id, step.assignment_id, step.student_id)
        for grade in submitted.grades:
            if grade.cell.cell_type == "markdown" and grade.manual_score is not None:
                grade.needs_manual_grade = False
    session.commit()  # ...and the notebook's grades are committed together


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


def scores(course: Course, assignment: str) -> pd.DataFrame:
    """Points per student and question (one row per student and grade cell)."""
    from nbgrader.api import MissingEntry

    rows = []
    with course.gradebook() as gradebook:
        for student in gradebook.students:
            try:
                submission = gradebook.find_submission(assignment, student.id)
            except MissingEntry:
                continue
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    rows.append({
                        "student": student.id,
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
