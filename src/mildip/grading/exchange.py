"""The exchange of a class hub: publishing to students, collecting from them, returning feedback.

On a hub (``make hub``) nbgrader's global configuration sets ``Exchange.root``; students fetch
and submit from JupyterLab's Assignments tab, and the instructor's ``mildip`` commands use the
same exchange through nbgrader's own classes, made by :class:`nbgrader.exchange.ExchangeFactory`
with the course's configuration (so a pluggable exchange configured there is used the same way):

- ``mildip release ps1`` also publishes the student version (:func:`publish`);
- ``mildip collect ps1`` with no path collects the latest submission of each student
  (:func:`collect`), with the ``timestamp.txt`` nbgrader wrote at submission, for lateness;
- ``mildip feedback ps1`` also returns the feedback (:func:`return_feedback`), which students
  fetch from the Assignments tab.

Whatever lies in the file-system exchange's inbound folder is written by students, so
:func:`collect` takes only submissions owned by the student they name and made of plain files
and folders: a folder claiming another student, a symbolic link (which the instructor's copy
would follow into files students cannot read) or a malformed name is refused and listed, and
never stops the collection of the others.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from mildip.errors import CourseError
from mildip.grading.course import Course, quiet_nbgrader

log = logging.getLogger("mildip.exchange")


class _Repeated(logging.Filter):
    """nbgrader logs a failure as CRITICAL before raising it; the error says it once."""

    def filter(self, record):
        return record.levelno < logging.CRITICAL


log.addFilter(_Repeated())


def configured(course: Course) -> bool:
    """Whether the course has an exchange: ``Exchange.root`` or an ``ExchangeFactory`` plugin configured."""
    config = course.config
    return bool(config.get("Exchange", {}).get("root")) or bool(config.get("ExchangeFactory", {}))


def _run(course: Course, action: str, assignment: str, what: str, app_class=None, **traits):
    """Start one of nbgrader's exchange actions (``ReleaseAssignment``, ``Collect``...)."""
    from nbgrader.auth import Authenticator
    from nbgrader.exchange import ExchangeError, ExchangeFactory

    quiet_nbgrader()
    factory = ExchangeFactory(config=course.config)
    coursedir = course.coursedir
    previous = coursedir.assignment_id, coursedir.student_id
    coursedir.assignment_id, coursedir.student_id = assignment, "*"
    try:
        if app_class is None:
            app = getattr(factory, action)(coursedir=coursedir, authenticator=Authenticator(config=course.config),
                                           config=course.config, log=log, **traits)
        else:
            app = app_class(coursedir=coursedir, authenticator=Authenticator(config=course.config),
                            config=course.config, log=log, parent=factory, **traits)
        app.start()
        return app
    except ExchangeError as error:
        raise CourseError(f"the exchange could not {what} {assignment}: {error}") from error
    finally:
        coursedir.assignment_id, coursedir.student_id = previous


def _check(course: Course) -> None:
    if not configured(course):
        raise CourseError("this course has no exchange (no Exchange.root in nbgrader's configuration): give the "
                          "folder or LMS zip of submissions, e.g. `mildip collect ps1 submissions.zip`")
    if not course.course_id:
        raise CourseError("the course has no course id (CourseDirectory.course_id), which the exchange needs")


# --- publish ---------------------------------------------------------------------------------------


def publish(course: Course, name: str) -> str:
    """Publish the released student version to the exchange, replacing an earlier one."""
    _check(course)
    assignment = course.resolve(name)
    release = course.release_folder(assignment)
    if not release.is_dir():
        raise CourseError(f"{assignment} has not been released yet: run `mildip release {name}`")
    app = _run(course, "ReleaseAssignment", assignment, "publish", force=True)
    where = getattr(app, "dest_path", None)
    return f"published {assignment} to the exchange{f' ({where})' if where else ''}; students fetch it now"


# --- collect ---------------------------------------------------------------------------------------


@dataclass
class ExchangeReport:
    assignment: str
    collected: dict[str, str] = field(default_factory=dict)    # student -> submission time
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (inbound entry, why)

    def lines(self) -> list[str]:
        out = [f"collected {len(self.collected)} submission(s) of {self.assignment} from the exchange"]
        for student, when in sorted(self.collected.items()):
            note = " (newer than the one collected before)" if student in self.updated else ""
            out.append(f"  {student}: submitted {when}{note}")
        if self.unchanged:
            out.append(f"unchanged since the last collection: {', '.join(sorted(self.unchanged))}")
        if self.refused:
            out.append(f"refused {len(self.refused)} entr{'y' if len(self.refused) == 1 else 'ies'} of the inbound "
                       "folder:")
            out += [f"  {entry}: {why}" for entry, why in self.refused]
        return out


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _problem(path: str, student: str) -> str | None:
    """Why an inbound entry must not be collected, or None."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link, not a submission"
    if not stat.S_ISDIR(info.st_mode):
        return "not a folder"
    if _owner(info.st_uid) != student:
        return f"claims to be {student}'s but belongs to {_owner(info.st_uid)}"
    for folder, dirs, files in os.walk(path):
        for entry in dirs + files:
            mode = os.lstat(os.path.join(folder, entry)).st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                return f"holds {os.path.relpath(os.path.join(folder, entry), path)}, which is not a plain file"
    return None


def _trusting_collect(base, report: ExchangeReport):
    """nbgrader's file-system collect, choosing only among submissions students really made."""

    class Collect(base):
        def init_src(self):
            from nbgrader.api import Gradebook, MissingEntry

            self.course_path = os.path.join(self.root, self.coursedir.course_id)
            self.inbound_path = os.path.join(self.course_path, "inbound")
            if not os.path.isdir(self.inbound_path):
                self.fail(f"Course not found: {self.inbound_path}")
            if not os.access(self.inbound_path, os.R_OK | os.X_OK):
                self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
            pattern = os.path.join(glob.escape(self.inbound_path), f"*+{glob.escape(self.coursedir.assignment_id)}+*")
            latest: dict[str, list[dict]] = {}
            for path in sorted(glob.glob(pattern)):
                entry = os.path.basename(path)
                try:
                    record = self._path_to_record(path)
                except Exception:  # noqa: BLE001 - a malformed name is a student's file, not an error
                    report.refused.append((entry, "not named like an nbgrader submission"))
                    continue
                why = _problem(path, record["username"])
                if why:
                    report.refused.append((entry, why))
                    continue
                latest.setdefault(record["username"], []).append(record)
            with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
                try:
                    duedate = gradebook.find_assignment(self.coursedir.assignment_id).duedate
                except MissingEntry:
                    duedate = None
            self.src_records = []
            for records in latest.values():
                records = self._sort_by_timestamp(records)
                if self.before_duedate and duedate is not None:
                    records = [r for r in records if r["timestamp"] <= duedate] or records
                self.src_records.append(records[0])

    return Collect


def collect(course: Course, name: str) -> ExchangeReport:
    """Copy each student's latest submission from the exchange into ``submitted/``."""
    from nbgrader.exchange import ExchangeFactory, default

    _check(course)
    assignment = course.resolve(name)
    report = ExchangeReport(assignment)
    before = _timestamps(course, assignment)
    base = ExchangeFactory(config=course.config).collect
    app_class = _trusting_collect(base, report) if issubclass(base, default.ExchangeCollect) else None
    app = _run(course, "Collect", assignment, "collect", app_class=app_class, update=True)
    after = _timestamps(course, assignment)
    for record in getattr(app, "src_records", None) or []:
        student = record["username"]
        if before.get(student) == after.get(student):
            report.unchanged.append(student)
            continue
        report.collected[student] = f"{after.get(student):%Y-%m-%d %H:%M:%S} UTC" if after.get(student) else "?"
        if student in before:
            report.updated.append(student)
    if app_class is None:  # a pluggable exchange: report what arrived
        for student, when in after.items():
            if before.get(student) != when:
                report.collected[student] = f"{when:%Y-%m-%d %H:%M:%S} UTC" if when else "?"
    return report


def _timestamps(course: Course, assignment: str) -> dict:
    """{student: nbgrader's timestamp} of every collected submission of ``assignment``."""
    found = {}
    root = course.submitted_root
    if root.is_dir():
        for folder in root.iterdir():
            submission = course.submitted(folder.name, assignment)
            if submission.is_dir():
                found[folder.name] = course.coursedir.get_existing_timestamp(str(submission))
    return found


# --- feedback ----------------------------------------------------------------------------------------


def return_feedback(course: Course, name: str) -> str:
    """Put every student's feedback in the exchange, where they fetch it from the Assignments tab."""
    _check(course)
    assignment = course.resolve(name)
    ready, elsewhere = [], []
    for html in sorted(course.root.glob(f"{course.coursedir.feedback_directory}/*/{assignment}/*.html")):
        folder = html.parent
        student = folder.parent.name
        if student in ready or student in elsewhere:
            continue
        if not (folder / "submission_secret.txt").is_file():
            elsewhere.append(student)  # not submitted through the exchange (e.g. an LMS download)
            continue
        _keep_timestamp(course, student, assignment, folder)
        ready.append(student)
    if not ready:
        return (f"no feedback returned through the exchange: no graded submission of {assignment} came "
                "through it")
    previous = course.coursedir.student_id_exclude
    course.coursedir.student_id_exclude = ",".join(elsewhere)
    try:
        _run(course, "ReleaseFeedback", assignment, "return the feedback of")
    finally:
        course.coursedir.student_id_exclude = previous
    line = f"returned feedback on {assignment} to {len(ready)} student(s) through the exchange"
    if elsewhere:
        line += f"; not submitted through the exchange, so not returned there: {', '.join(elsewhere)}"
    return line


def _keep_timestamp(course: Course, student: str, assignment: str, folder: Path) -> None:
    """nbgrader names returned feedback after the submission's timestamp: bring it along if missing."""
    if (folder / "timestamp.txt").is_file():
        return
    submitted = course.submitted(student, assignment) / "timestamp.txt"
    if submitted.is_file() and not submitted.is_symlink():
        shutil.copyfile(submitted, folder / "timestamp.txt")
