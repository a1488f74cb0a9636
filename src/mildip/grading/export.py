"""Grades out of the course: a plain grade sheet, or a file an LMS imports as it is.

Only released assignments (those in nbgrader's gradebook) are columns. A grade is written
only where there is one to give: a notebook graded without trouble, its written answers graded
by hand. ``course error`` and ``grader error`` never become a grade, and neither does a
submission still waiting for manual grading; such cells are left empty, which both LMSs read
as "no change", and the command lists them. Scores are nbgrader's, after its late penalty
(``max(0, score - penalty)``, as ``nbgrader export`` computes them).

- :func:`export` (``mildip export``): ``grades/grades.csv``, a row per student (id and name), a
  score column per assignment and, with ``statuses``, a status column after each that tells
  apart ``graded`` (a score of 0 included), ``needs manual grading``, ``could not be graded:
  <reason>``, ``not graded yet`` and ``not submitted``.
- :func:`export_canvas` (``--lms canvas``): Canvas's gradebook import format, as Canvas's
  importer reads it (``app/models/gradebook_importer.rb``): a header ``Student, ID, SIS User ID,
  SIS Login ID, Section`` then one column per assignment, a ``Points Possible`` row, then a row
  per student. Students are matched by Canvas user id to a Canvas gradebook export given as the
  roster, whose rows (ids, SIS ids, sections) and assignment columns (``Title (id)``) are kept,
  so that Canvas updates its existing assignments; an assignment Canvas does not have yet is
  a new column, which Canvas imports as a new assignment.
- :func:`export_moodle` (``--lms moodle``): Moodle's offline grading worksheet, one per
  assignment, as Moodle's *Upload grading worksheet* reads it
  (``mod/assign/feedback/offline/importgradeslib.php``): the columns ``Identifier``
  (``Participant <id>``), ``Grade`` and ``Last modified (grade)`` are required. Given the
  worksheet downloaded from Moodle as the roster, every column and row of it is kept and only
  the grades are filled in.

Where the LMS's own maximum differs from the assignment's points (Canvas's ``Points Possible``,
Moodle's ``Maximum Grade``), scores are scaled to it, and the command says so.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from mildip.errors import CourseError
from mildip.grading.course import Course
from mildip.grading.results import Status, read_report, report_path

CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS = "Points Possible"
# Columns of a Canvas export that are not assignments (gradebook_importer.rb's reserved names and
# its non-assignment columns, "Unposted" variants included).
CANVAS_NOT_ASSIGNMENTS = re.compile(r"^(Student|LastName|FirstName|ID|SIS User ID|SIS Login ID|Section|Integration ID|"
                                    r"Root Account)$|Current Score|Current Points|Current Grade|Final Score|Final Points|"
                                    r"Final Grade|Override Score|Override Grade|Override Status")
MOODLE_IDENTIFIER, MOODLE_GRADE, MOODLE_MODIFIED = "Identifier", "Grade", "Last modified (grade)"
MOODLE_PARTICIPANT = "Participant "
MOODLE_MAXIMUM, MOODLE_NAME = "Maximum Grade", "Full name"


# --- rosters ----------------------------------------------------------------------------------


@dataclass
class RosterRow:
    student: str                    # the id the course knows the student by
    name: str
    fields: dict                    # the row as the LMS wrote it


@dataclass
class Roster:
    kind: str                       # "canvas", "moodle" or "plain"
    path: Path
    columns: list[str]
    rows: list[RosterRow]
    points: dict[str, str] = field(default_factory=dict)   # Canvas: the Points Possible row
    delimiter: str = ","

    def find(self, student: str) -> RosterRow | None:
        for row in self.rows:
            if row.student == student:
                return row
        for column in ("SIS Login ID", "SIS User ID"):  # a course collected from a folder of SIS ids
            for row in self.rows:
                if row.fields.get(column, "").strip() == student:
                    return row
        return None


def _read_csv(path: Path) -> tuple[list[list[str]], str]:
    if not path.is_file():
        raise CourseError(f"no roster file {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CourseError(f"{path} cannot be read as UTF-8 text ({error})") from error
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise CourseError(f"{path} is not a readable CSV file ({error})") from error
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise CourseError(f"{path} is empty")
    return rows, delimiter


def read_roster(path: Path) -> Roster:
    """A roster: a Canvas gradebook export, a Moodle grading worksheet, or a CSV with a
    ``student`` (or ``id``) column and optionally a ``name`` column."""
    path = Path(path)
    rows, delimiter = _read_csv(path)
    header = [cell.strip() for cell in rows[0]]
    records = [dict(zip(header, (cell.strip() for cell in row))) for row in rows[1:]]
    if len(header) > 3 and "Student" in header[0] and "ID" in header[1]:
        roster = Roster("canvas", path, header, [], delimiter=delimiter)
        for record in records:
            first = record.get(header[0], "")
            if CANVAS_POINTS in first:
                roster.points = record
                continue
            if not record.get(header[1]):
                continue  # Canvas's "Muted" / "Manual Posting" rows and the like
            roster.rows.append(RosterRow(record[header[1]], first, record))
    elif MOODLE_IDENTIFIER in header:
        roster = Roster("moodle", path, header, [], delimiter=delimiter)
        for record in records:
            identifier = record.get(MOODLE_IDENTIFIER, "")
            if not identifier.startswith(MOODLE_PARTICIPANT):
                raise CourseError(f"{path}: an {MOODLE_IDENTIFIER} {identifier!r} does not read "
                                  f"'{MOODLE_PARTICIPANT}<number>' as in Moodle's grading worksheet")
            roster.rows.append(RosterRow(identifier[len(MOODLE_PARTICIPANT):].strip(),
                                         record.get(MOODLE_NAME, ""), record))
    else:
        lowered = {c.lower(): c for c in header}
        column = next((lowered[c] for c in ("student", "id", "student_id") if c in lowered), None)
        if column is None:
            raise CourseError(f"{path}: not a Canvas gradebook export, not a Moodle grading worksheet, and no "
                              "'student' (or 'id') column")
        name = lowered.get("name")
        roster = Roster("plain", path, header, [], delimiter=delimiter)
        roster.rows = [RosterRow(r[column], r.get(name, "") if name else "", r) for r in records if r.get(column)]
    seen = set()
    for row in roster.rows:
        if row.student in seen:
            raise CourseError(f"{path}: the id {row.student!r} appears twice")
        seen.add(row.student)
    return roster


# --- what each student has --------------------------------------------------------------------


@dataclass
class Cell:
    """One student's standing in one assignment."""

    status: str
    score: float | None = None      # after nbgrader's late penalty
    max_score: float | None = None
    final: bool = False             # a grade to give: graded, nothing waiting, no error
    late: bool = False


def released(course: Course) -> list[str]:
    """The assignments in the gradebook (released), in alphabetical order."""
    return sorted(maxima(course))


def maxima(course: Course) -> dict[str, float]:
    """{released assignment: its points}, from the gradebook."""
    if not _has_gradebook(course):
        return {}
    with course.gradebook() as gb:
        return {a.name: float(a.max_score or 0) for a in gb.assignments}


def _has_gradebook(course: Course) -> bool:
    url = course.db_url
    return not url.startswith("sqlite:///") or Path(url[len("sqlite:///"):]).exists()


def standings(course: Course, assignments: list[str], extra: list[str] = ()) -> dict[str, dict[str, Cell]]:
    """{student: {assignment: Cell}} for every student the course knows and those in ``extra``."""
    from mildip.grading.collect import submissions
    from nbgrader.api import MissingEntry

    students = set(extra)
    if course.submitted_root.is_dir():
        students |= {p.name for p in course.submitted_root.iterdir() if p.is_dir() and not p.name.startswith(".")}
    reports = {a: read_report(report_path(course.grades_dir, a)) for a in assignments}
    collected = {a: submissions(course, a) for a in assignments}
    table: dict[str, dict[str, Cell]] = {}
    if not _has_gradebook(course):
        return {s: {a: Cell("not submitted") for a in assignments} for s in sorted(students)}
    with course.gradebook() as gb:
        students |= {s.id for s in gb.students}
        for student in sorted(students):
            row = table[student] = {}
            for assignment in assignments:
                try:
                    submission = gb.find_submission(assignment, student)
                except MissingEntry:
                    submission = None
                cell = _standing(course, student, assignment, reports[assignment], submission)
                cell.late = (collected[assignment].get(student, {}).get("late") == "yes"
                             or any(r.late_seconds > 0 for (s, _), r in reports[assignment].items() if s == student))
                row[assignment] = cell
    return table


def _standing(course: Course, student: str, assignment: str, report: dict, submission) -> Cell:
    notebooks = [r for (s, _), r in report.items() if s == student]
    failed = [r for r in notebooks if not r.status.recorded]
    troubled = [r for r in notebooks if r.status is not Status.GRADED and r not in failed]
    blocking = any(r.status in (Status.COURSE_ERROR, Status.GRADER_ERROR) for r in failed)
    if failed and (submission is None or blocking):
        return Cell("could not be graded: " + "; ".join(f"{r.notebook}: {r.reason}" for r in failed))
    if submission is not None:
        score = max(0.0, float(submission.score or 0) - float(submission.late_submission_penalty or 0))
        maximum = float(submission.max_score or 0)
        waiting = bool(submission.needs_manual_grade)
        status = "needs manual grading" if waiting else "graded"
        if failed or troubled:
            status += " (" + "; ".join(f"{r.notebook}: {r.status.value}" for r in failed + troubled) + ")"
        return Cell(status, score, maximum, final=not waiting and not failed)
    if course.submitted(student, assignment).is_dir():
        return Cell("not graded yet")
    return Cell("not submitted")


def _names(course: Course, roster: Roster | None) -> dict[str, str]:
    from mildip.grading.collect import students

    names = {s: row.get("name", "") for s, row in students(course).items()}
    for row in roster.rows if roster else []:
        if row.name:
            names[row.student] = row.name
    return names


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def _atomic_write(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    temporary.replace(path)
    return path


@dataclass
class Exported:
    """What an export wrote, and what the instructor should know about it."""

    paths: list[Path]
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"written: {p}" for p in self.paths] + self.notes


def _withheld(table: dict[str, dict[str, Cell]], assignments: list[str], students: list[str]) -> list[str]:
    """Notes on the grades left empty though the student submitted."""
    notes = []
    for assignment in assignments:
        waiting = [s for s in students if table[s][assignment].status.startswith("needs manual grading")]
        failed = [s for s in students if table[s][assignment].status.startswith("could not be graded")]
        pending = [s for s in students if table[s][assignment].status == "not graded yet"]
        for label, who in (("written answers not graded yet", waiting), ("could not be graded", failed),
                           ("collected but not graded yet", pending)):
            if who:
                notes.append(f"{assignment}: left empty for {len(who)} student(s) ({label}): {', '.join(who[:10])}"
                             + (" ..." if len(who) > 10 else ""))
    return notes


# --- the plain grade sheet -----------------------------------------------------------------------


def grade_sheet(course: Course, roster: Roster | None = None, statuses: bool = False) -> tuple[list[str], list[dict]]:
    """(columns, rows) of the plain grade sheet."""
    assignments = released(course)
    table = standings(course, assignments, [r.student for r in roster.rows] if roster else [])
    names = _names(course, roster)
    columns = ["student", "name"]
    for assignment in assignments:
        columns += [assignment, f"{assignment} status"] if statuses else [assignment]
    rows = []
    for student, cells in table.items():
        row = {"student": student, "name": names.get(student, "")}
        for assignment, cell in cells.items():
            row[assignment] = _number(cell.score) if cell.score is not None and not cell.status.startswith(
                "could not") else ""
            if statuses:
                row[f"{assignment} status"] = cell.status + (" (late)" if cell.late else "")
        rows.append(row)
    return columns, rows


def export(course: Course, output: Path | None = None, roster: Path | None = None,
           statuses: bool = False) -> Path:
    """Write the plain grade sheet as CSV; return its path."""
    columns, rows = grade_sheet(course, read_roster(roster) if roster else None, statuses)
    return _atomic_write(output or course.grades_dir / "grades.csv",
                         [columns] + [[row.get(c, "") for c in columns] for row in rows])


# --- Canvas ----------------------------------------------------------------------------------------


def _canvas_title(header: str) -> str:
    """A Canvas assignment column's title: 'Problem set 1 (12345)' -> 'Problem set 1'."""
    return re.sub(r"\s*\(\d+\)\s*$", "", header).strip()


def _canvas_column(roster: Roster | None, assignment: str) -> str | None:
    if roster is None:
        return None
    matches = [c for c in roster.columns if not CANVAS_NOT_ASSIGNMENTS.search(c)
               and _canvas_title(c).casefold() == assignment.casefold()]
    if len(matches) > 1:
        raise CourseError(f"{roster.path}: more than one Canvas column is called {assignment!r}: {', '.join(matches)}")
    return matches[0] if matches else None


def _points(value: str) -> float | None:
    try:
        return float(value.replace(",", "."))
    except (AttributeError, ValueError):
        return None


def export_canvas(course: Course, roster: Path | None = None, output: Path | None = None) -> Exported:
    """A file for Canvas's gradebook import (Grades > Import), matched to Canvas by user id."""
    canvas = read_roster(roster) if roster else None
    if canvas is not None and canvas.kind != "canvas":
        raise CourseError(f"{roster} is not a Canvas gradebook export (its first columns should be "
                          f"{', '.join(CANVAS_STUDENT_COLUMNS)})")
    assignments = released(course)
    if not assignments:
        raise CourseError("no assignment has been released yet: there is nothing to export")
    table = standings(course, assignments)
    names = _names(course, canvas)
    points = maxima(course)
    exported = Exported([])
    headers, scale = [], {}
    for assignment in assignments:
        column = _canvas_column(canvas, assignment)
        ours = points.get(assignment)
        theirs = _points(canvas.points.get(column, "")) if column else None
        if column and canvas.points.get(column, "").strip().lower().find("read only") >= 0:
            raise CourseError(f"{roster}: the Canvas column {column!r} is read only")
        headers.append(column or assignment)
        scale[assignment] = (theirs / ours) if theirs and ours and abs(theirs - ours) > 1e-9 else 1.0
        if scale[assignment] != 1.0:
            exported.notes.append(f"{assignment}: scores scaled from {ours:g} points to Canvas's {theirs:g}")
        if column is None and canvas is not None:
            exported.notes.append(f"{assignment}: no such assignment in the Canvas export; Canvas will create it "
                                  "as a new assignment")
    points_row = [CANVAS_POINTS, "", "", "", ""]
    for assignment, header in zip(assignments, headers):
        if canvas is not None and header in canvas.points:
            points_row.append(canvas.points[header])
        else:
            points_row.append(_number(points.get(assignment, 0)))
    rows = [CANVAS_STUDENT_COLUMNS + headers, points_row]
    unmatched, not_canvas = [], []
    if canvas is not None:
        by_roster = {}
        for student in table:
            match = canvas.find(student)
            if match is None:
                unmatched.append(student)
            else:
                by_roster[match.student] = student
        for entry in canvas.rows:
            student = by_roster.get(entry.student)
            fields = entry.fields
            line = [entry.name, entry.student, fields.get("SIS User ID", ""), fields.get("SIS Login ID", ""),
                    fields.get("Section", "")]
            rows.append(line + [_canvas_grade(table, student, a, scale[a]) for a in assignments])
        written = [s for s in by_roster.values()]
    else:
        written = []
        for student in table:
            if all(table[student][a].status == "not submitted" for a in assignments):
                continue
            if not student.isdigit():
                not_canvas.append(student)
                continue
            rows.append([names.get(student, ""), student, "", "", ""]
                        + [_canvas_grade(table, student, a, scale[a]) for a in assignments])
            written.append(student)
    if unmatched:
        exported.notes.append(f"not in the Canvas export, so not written ({len(unmatched)}): {', '.join(unmatched)}")
    if not_canvas:
        exported.notes.append(f"not Canvas user ids, so not written ({len(not_canvas)}): {', '.join(not_canvas)}; "
                              "give the Canvas gradebook export with --roster to match them")
    exported.notes += _withheld(table, assignments, written)
    late = [s for s in written for a in assignments if table[s][a].late]
    if late:
        exported.notes.append(f"marked late by Canvas or submitted after the due date (this file carries no "
                              f"penalty beyond nbgrader's): {', '.join(sorted(set(late)))}")
    path = _atomic_write(output or course.grades_dir / "canvas-grades.csv", rows)
    exported.paths.append(path)
    return exported


def _canvas_grade(table, student, assignment, scale) -> str:
    if student is None:
        return ""
    cell = table[student][assignment]
    return _number(cell.score * scale) if cell.final and cell.score is not None else ""


# --- Moodle ----------------------------------------------------------------------------------------


def _moodle_time() -> str:
    """Now, in a form PHP's strtotime reads (ISO 8601 with its offset)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def export_moodle(course: Course, assignment: str | None = None, roster: Path | None = None,
                  output: Path | None = None) -> Exported:
    """Moodle grading worksheets (Assignment > Upload grading worksheet), one per assignment."""
    worksheet = read_roster(roster) if roster else None
    names_released = released(course)
    if not names_released:
        raise CourseError("no assignment has been released yet: there is nothing to export")
    if assignment is not None:
        assignment = course.resolve(assignment)
        if assignment not in names_released:
            raise CourseError(f"{assignment} has not been released: there is nothing to export")
        chosen = [assignment]
    else:
        chosen = names_released
    if worksheet is not None:
        if worksheet.kind != "moodle":
            raise CourseError(f"{roster} is not a Moodle grading worksheet (it has no '{MOODLE_IDENTIFIER}' column)")
        if len(chosen) != 1:
            raise CourseError("a Moodle grading worksheet belongs to one assignment: name it with --assignment")
        for column in (MOODLE_GRADE, MOODLE_MODIFIED):
            if column not in worksheet.columns:
                raise CourseError(f"{roster}: no '{column}' column; download the grading worksheet again from "
                                  "Moodle (Assignment > View all submissions > Download grading worksheet)")
    if output is not None and len(chosen) != 1:
        raise CourseError("--output names one file: give --assignment too")
    table = standings(course, chosen)
    names = _names(course, worksheet)
    exported = Exported([])
    now = _moodle_time()
    for name in chosen:
        written = []
        if worksheet is not None:
            columns = worksheet.columns
            rows = [columns]
            scaled = set()
            for entry in worksheet.rows:
                record = dict(entry.fields)
                student = entry.student if entry.student in table else None
                if student is not None:
                    maximum = _points(record.get(MOODLE_MAXIMUM, ""))
                    cell = table[student][name]
                    if maximum and cell.max_score and abs(maximum - cell.max_score) > 1e-9:
                        scaled.add((cell.max_score, maximum))
                    grade = _moodle_grade(cell, maximum)
                    if grade:
                        record[MOODLE_GRADE], record[MOODLE_MODIFIED] = grade, now
                    written.append(student)
                rows.append([record.get(c, "") for c in columns])
            for ours, theirs in sorted(scaled):
                exported.notes.append(f"{name}: scores scaled from {ours:g} points to Moodle's Maximum Grade {theirs:g}")
            missing = [s for s in table if s not in written and table[s][name].status != "not submitted"]
            if missing:
                exported.notes.append(f"{name}: not in the worksheet, so not written ({len(missing)}): "
                                      f"{', '.join(missing)}")
            delimiter = worksheet.delimiter
        else:
            rows = [[MOODLE_IDENTIFIER, MOODLE_NAME, MOODLE_GRADE, MOODLE_MAXIMUM, MOODLE_MODIFIED]]
            skipped = []
            for student, cells in table.items():
                if cells[name].status == "not submitted":
                    continue
                if not student.isdigit():
                    skipped.append(student)
                    continue
                cell = cells[name]
                grade = _moodle_grade(cell, None)
                rows.append([f"{MOODLE_PARTICIPANT}{student}", names.get(student, ""), grade,
                             _number(cell.max_score) if cell.max_score else "", now if grade else ""])
                written.append(student)
            if skipped:
                exported.notes.append(f"{name}: not Moodle participant ids, so not written ({len(skipped)}): "
                                      f"{', '.join(skipped)}")
            delimiter = ","
        exported.notes += _withheld(table, [name], written)
        path = output or course.grades_dir / f"moodle-{name}.csv"
        exported.paths.append(_atomic_write(path, rows, delimiter))
    return exported


def _moodle_grade(cell: Cell, maximum: float | None) -> str:
    if not cell.final or cell.score is None:
        return ""
    if maximum and cell.max_score and abs(maximum - cell.max_score) > 1e-9:
        return _number(cell.score * maximum / cell.max_score)
    return _number(cell.score)
