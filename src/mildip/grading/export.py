"""One grade sheet for the LMS: a row per student, a column per assignment.

Unlike ``nbgrader export``, which prints 0.0 alike for a zero score, a submission that could not
be graded and no submission at all (and leaves out students whose folder was empty), each
assignment has two columns: the score (empty unless there is one) and a status that tells these
cases apart: ``graded``, ``needs manual grading``, ``could not be graded: <reason>`` or
``not submitted``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from mildip.errors import CourseError
from mildip.grading.course import Course
from mildip.grading.results import Status, read_report, report_path


def grade_sheet(course: Course, roster: list[str] | None = None) -> tuple[list[str], list[dict]]:
    """(columns, rows) of the grade sheet."""
    from nbgrader.api import MissingEntry

    assignments = course.assignments()
    students = set(roster or [])
    submitted = course.submitted_root
    if submitted.is_dir():
        students |= {p.name for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")}
    has_gradebook = not course.db_url.startswith("sqlite:///") or Path(course.db_url[len("sqlite:///"):]).exists()
    reports = {a: read_report(report_path(course.grades_dir, a)) for a in assignments}
    rows = []
    with course.gradebook() if has_gradebook else _NoGradebook() as gb:
        if has_gradebook:
            students |= {s.id for s in gb.students}
        for student in sorted(students):
            row = {"student": student}
            for assignment in assignments:
                notebooks = [r for (s, _), r in reports[assignment].items() if s == student]
                failed = [r for r in notebooks if not r.status.recorded]
                troubled = [r for r in notebooks if r.status is not Status.GRADED and r not in failed]
                try:
                    submission = gb.find_submission(assignment, student) if has_gradebook else None
                except MissingEntry:
                    submission = None
                if failed and (submission is None or any(r.status in (Status.COURSE_ERROR, Status.GRADER_ERROR)
                                                          for r in failed)):
                    row[assignment], status = "", "could not be graded: " + "; ".join(r.reason for r in failed)
                elif submission is not None:
                    row[assignment] = f"{submission.score:g}"
                    status = "needs manual grading" if submission.needs_manual_grade else "graded"
                    if failed or troubled:
                        status += " (" + "; ".join(f"{r.notebook}: {r.status.value}" for r in failed + troubled) + ")"
                elif course.submitted(student, assignment).is_dir():
                    row[assignment], status = "", "not graded yet"
                else:
                    row[assignment], status = "", "not submitted"
                row[f"{assignment} status"] = status
            rows.append(row)
    columns = ["student"] + [c for a in assignments for c in (a, f"{a} status")]
    return columns, rows


class _NoGradebook:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def export(course: Course, output: Path | None = None, roster: Path | None = None) -> Path:
    """Write the grade sheet as CSV; return its path."""
    names = None
    if roster is not None:
        if not roster.is_file():
            raise CourseError(f"no roster file {roster}")
        with roster.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            column = next((c for c in (reader.fieldnames or []) if c.lower() in ("student", "id", "student_id")), None)
            if column is None:
                raise CourseError(f"{roster}: no 'student' (or 'id') column")
            names = [row[column].strip() for row in reader if row[column].strip()]
    columns, rows = grade_sheet(course, names)
    output = output or course.grades_dir / "grades.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return output
