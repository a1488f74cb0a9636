"""Feedback for students: their answers, each check's result and message, never hidden tests.

The graded notebooks feedback is made from hold each test cell as students received it and
outputs written by the grader from the tests' verdicts, so no hidden test and no expected
value can appear in feedback.
"""

from __future__ import annotations

from pathlib import Path

from mildip.errors import CourseError
from mildip.grading.course import Course


def feedback(course: Course, name: str) -> Path:
    """Feedback HTML for every graded student into ``feedback/<student>/<assignment>/``."""
    assignment = course.resolve(name)
    graded = course.root / course.coursedir.autograded_directory
    if not any(graded.glob(f"*/{assignment}")):
        raise CourseError(f"{assignment}: nothing graded yet; run `mildip grade {name}` first")
    from nbgrader.converters import GenerateFeedback

    course.convert(GenerateFeedback, assignment, force=True)
    return course.root / course.coursedir.feedback_directory
