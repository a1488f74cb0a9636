"""The instructor's steps, run through nbgrader's own command line.

The course directory is ``exercises/`` (``$MILDIP_COURSE`` overrides it). Assignments may be
named by a unique prefix: ``ps1`` means ``ps1-nato-burden-sharing``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd


from mildip.errors import CourseError as GradingError  # noqa: E402  (kept for the callers below)


def course_dir() -> Path:
    override = os.environ.get("MILDIP_COURSE")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "exercises"


def assignments(course: Path | None = None) -> list[str]:
    source = (course or course_dir()) / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def resolve(name: str, course: Path | None = None) -> str:
    """The full assignment name for ``name`` or a unique prefix of it."""
    known = assignments(course)
    if name in known:
        return name
    matches = [a for a in known if a.startswith(name + "-") or a.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    listing = ", ".join(known) or "none"
    if not matches:
        raise GradingError(f"no assignment called {name!r}; the assignments are: {listing}")
    raise GradingError(f"{name!r} could mean {', '.join(matches)}; give more of the name")


def nbgrader(*args: str, course: Path | None = None) -> str:
    """Run ``nbgrader ARGS`` in the course directory; return its output or raise GradingError."""
    course = course or course_dir()
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    command = [str(Path(bin_dir) / "nbgrader"), *args]
    result = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise GradingError(f"`nbgrader {' '.join(args)}` failed (exit {result.returncode}):\n{tail}")
    return output


def release(name: str, course: Path | None = None) -> Path:
    """Generate the student version of an assignment into ``release/<assignment>/``."""
    course = course or course_dir()
    assignment = resolve(name, course)
    nbgrader("generate_assignment", assignment, "--force", course=course)
    return course / "release" / assignment


def scores(name: str, course: Path | None = None) -> pd.DataFrame:
    """Autograded points per student and question (one row per student and grade cell)."""
    from nbgrader.api import Gradebook, MissingEntry

    course = course or course_dir()
    assignment = resolve(name, course)
    rows = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in gb.students:
            try:
                submission = gb.find_submission(assignment, student.id)
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


def feedback(name: str, course: Path | None = None) -> Path:
    """Feedback HTML for every graded student into ``feedback/<student>/<assignment>/``.

    The graded notebooks that feedback is made from hold each test cell as students received
    it, so hidden tests never appear in feedback; only their results and messages do.
    """
    course = course or course_dir()
    assignment = resolve(name, course)
    if not any((course / "autograded").glob(f"*/{assignment}")):
        raise GradingError(f"{assignment}: nothing graded yet; run `mildip grade {name}` first")
    nbgrader("generate_feedback", assignment, "--force", course=course)
    return course / "feedback"
