"""Releasing an assignment: the student version, with no solutions and no hidden tests."""

from __future__ import annotations

from pathlib import Path

import nbformat

from mildip.errors import CourseError
from mildip.grading.course import Course
from mildip.grading.submission import grade_id


def check_source(course: Course, assignment: str) -> None:
    """Refuse what the grader cannot grade fairly, with a message saying what to change."""
    notebooks = course.source_notebooks(assignment)
    if not notebooks:
        raise CourseError(f"{assignment}: no notebook in {course.source(assignment)}")
    for path in notebooks:
        try:
            source = nbformat.read(path, as_version=4)
        except Exception as error:  # noqa: BLE001
            raise CourseError(f"{path} is not a readable notebook: {error}") from error
        seen = set()
        for cell in source.cells:
            meta = cell.metadata.get("nbgrader", {})
            gid = grade_id(cell)
            if gid in seen:
                raise CourseError(f"{path.name}: the grade id {gid!r} is used twice")
            seen.add(gid)
            if cell.cell_type == "code" and meta.get("grade") and meta.get("solution"):
                raise CourseError(f"{path.name}: {gid} is an autograded answer cell; give the answer its own "
                                  "solution cell and check it in a separate test cell")


def release(course: Course, name: str) -> Path:
    """Generate the student version of an assignment into ``release/<assignment>/``."""
    assignment = course.resolve(name)
    check_source(course, assignment)
    from nbgrader.converters import GenerateAssignment

    course.convert(GenerateAssignment, assignment, ".", force=True, create_assignment=True)
    return course.release_folder(assignment)
