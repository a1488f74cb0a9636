"""Place downloaded submissions into nbgrader's ``submitted/<student>/<assignment>/`` layout.

The student id is the LMS's own stable id, never a name, so two students are never merged
(names differ by an accent, repeat, or change); the name is kept for display in the course's
students table, ``grades/students.csv`` (columns ``student``, ``name``, ``lms``). Accepted,
as a folder or a zip file:

- a Canvas download (*Download Submissions*): one file per submitted file, named
  ``<name>[_LATE]_<user id>_<attachment id>_<file name>`` by Canvas (``lib/content_zipper.rb``:
  the name is the student's sortable name, lower-cased, without spaces or punctuation;
  ``LATE`` is Canvas's own flag; with anonymous grading the name is left out and the id is
  ``anon_<anonymous id>``). The student id is the Canvas user id; of several files for the
  same notebook, the one with the highest attachment id (the latest upload) is kept.
- a Moodle download (*Download all submissions*): ``<full name>_<participant id>_assignsubmission_file_/``
  folders, or files named ``<full name>_<participant id>_assignsubmission_file_<file name>``.
  The student id is the participant id. Moodle numbers participants per assignment, so the
  same person has a different id in each assignment (see the README).
- a plain folder with one subfolder per student (``jsmith/ps1.ipynb``, ``jsmith/ps1/ps1.ipynb``),
  for instance nbgrader's own exchange: the folder name is the id, as it is.

Lateness and the time of submission are kept as far as the download holds them: an nbgrader
``timestamp.txt`` in a student's folder is kept, so that the course's late penalties apply;
Canvas's ``LATE`` flag (Canvas's file names carry no time) is recorded per assignment in
``grades/<assignment>-submissions.csv`` and shown by ``mildip grade`` and ``mildip export``.

Only regular files are taken (a link in a folder or a zip is listed and left alone), every file
is read with a size limit, nothing is extracted to disk but the notebooks placed (under names
the grader chooses), and anything that cannot be placed (other file types, several candidate
notebooks, system files) is listed in the report and left alone.
"""

from __future__ import annotations

import csv
import os
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from mildip.errors import SubmissionError
from mildip.grading.course import Course
from mildip.grading.submission import NOTEBOOK_BYTES, TIMESTAMP_BYTES, read_limited

SYSTEM_FILES = re.compile(r"(^|/)(__MACOSX|\.DS_Store|Thumbs\.db|desktop\.ini|\.ipynb_checkpoints)(/|$)")
CANVAS = re.compile(r"^(?:(?P<name>.*?)_)?(?:(?P<late>LATE)_)?(?P<id>\d+|anon_[A-Za-z0-9]+)_(?P<attachment>\d+)_"
                    r"(?P<file>.+)$", re.DOTALL)
MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z]+)_$")
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z]+)_(?P<file>.+)$")
TOTAL_BYTES = 4 * 1024**3
STUDENTS_COLUMNS = ["student", "name", "lms"]
SUBMISSIONS_COLUMNS = ["student", "name", "lms", "file", "late", "submitted_at", "collected_at"]


@dataclass
class Found:
    """One file of the download that belongs to a student."""

    path: str                   # where it is in the download, for the report
    student: str
    name: str                   # the student's name, for display ('' if the download has none)
    lms: str                    # 'canvas', 'moodle' or 'folder'
    original: str               # the file's own name
    late: bool | None = None    # the LMS's late flag, where it has one
    order: int = 0              # of several uploads of one file, the highest is the latest
    reader: object = None       # () -> bytes


@dataclass
class CollectReport:
    assignment: str = ""
    placed: dict[str, str] = field(default_factory=dict)        # student -> what was placed
    names: dict[str, str] = field(default_factory=dict)         # student -> display name
    late: list[str] = field(default_factory=list)               # students the LMS marked late
    replaced: list[str] = field(default_factory=list)           # students whose earlier submission changed
    unplaced: list[tuple[str, str]] = field(default_factory=list)  # (file, why)

    def lines(self) -> list[str]:
        out = [f"placed {len(self.placed)} submission(s) of {self.assignment}"]
        for student, what in sorted(self.placed.items()):
            name = self.names.get(student)
            shown = f"{student} ({name})" if name and name != student else student
            out.append(f"  {shown}: {what}{' (marked late by the LMS)' if student in self.late else ''}")
        if self.replaced:
            out.append(f"replaced an earlier, different submission for: {', '.join(sorted(self.replaced))}")
        if self.unplaced:
            out.append(f"could not place {len(self.unplaced)} file(s):")
            out += [f"  {name}: {why}" for name, why in self.unplaced]
        return out


# --- reading the download ---------------------------------------------------------------------


def _zip_name(info: zipfile.ZipInfo) -> str:
    """A member's name as text: zips written without the UTF-8 flag are often UTF-8 anyway."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def _zip_entries(download: Path) -> list[tuple[str, object, str | None]]:
    """(path, reader, why not) for each member of a zip; ``why not`` for links and the like."""
    try:
        archive = zipfile.ZipFile(download)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise SubmissionError(f"{download} cannot be read as a zip file ({error})") from error
    entries = []
    for info in members:
        name = _zip_name(info)
        if info.is_dir():
            continue
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind and kind != stat.S_IFREG:
            entries.append((name, None, "not a regular file (a link or device in the zip); not taken"))
            continue
        if info.flag_bits & 0x1:
            entries.append((name, None, "encrypted in the zip; not taken"))
            continue

        def read(info=info, limit=NOTEBOOK_BYTES):
            if info.file_size > limit:
                raise OSError(f"larger than {limit // 1024**2} MB")
            with archive.open(info) as f:
                data = f.read(limit + 1)
            if len(data) > limit:
                raise OSError(f"larger than {limit // 1024**2} MB")
            return data

        entries.append((name, read, None))
    return entries


def _folder_entries(root: Path) -> list[tuple[str, object, str | None]]:
    entries = []
    for folder, subfolders, files in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in sorted(subfolders):
            if (here / name).is_symlink():
                entries.append(((here / name).relative_to(root).as_posix(), None,
                                "a symbolic link to a folder; not taken"))
        for name in sorted(files):
            path = here / name
            relative = os.fsencode(path.relative_to(root).as_posix()).decode("utf-8", "backslashreplace")
            try:
                info = os.lstat(path)
            except OSError as error:
                entries.append((relative, None, f"cannot be read ({error.strerror})"))
                continue
            if not stat.S_ISREG(info.st_mode):
                entries.append((relative, None, "not a regular file (a link or device); not taken"))
                continue
            entries.append((relative, lambda path=path, limit=NOTEBOOK_BYTES: read_limited(path, limit), None))
    return entries


def valid_student_id(name: str) -> str | None:
    """Why a folder name cannot be a student id, or None if it can."""
    if not name.strip() or name != name.strip():
        return "an empty name, or spaces around it"
    if name.startswith(".") or name in (".", ".."):
        return "a name starting with a dot"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in name) or "\\" in name:
        return "control or invisible characters in the name"
    if len(name.encode("utf-8", "surrogateescape")) > 200:
        return "a name longer than 200 bytes"
    return None


def _owner(path: str) -> tuple[Found | None, str]:
    """Whose file this is, as a :class:`Found` (without a reader), or (None, why not)."""
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or ".." in parts:
        return None, "an unsafe path in the download"
    if len(parts) == 1:
        moodle = MOODLE_FILE.match(parts[0])  # first: Moodle's marker is unmistakable, Canvas's pattern is not
        if moodle:
            return Found(path, moodle["id"], _moodle_name(moodle["name"], moodle["id"]), "moodle", moodle["file"]), ""
        canvas = CANVAS.match(parts[0])
        if canvas:
            name, late = canvas["name"] or "", bool(canvas["late"])
            if name == "LATE" and not late:  # anonymous grading: no name, only the flag
                name, late = "", True
            return Found(path, canvas["id"], name, "canvas", canvas["file"], late, int(canvas["attachment"])), ""
        return None, "not in a student folder and not named like a Canvas or Moodle download"
    moodle = MOODLE_FOLDER.match(parts[0])
    if moodle:
        return Found(path, moodle["id"], _moodle_name(moodle["name"], moodle["id"]), "moodle", parts[-1]), ""
    why = valid_student_id(parts[0])
    if why:
        return None, f"the folder name {parts[0]!r} cannot be a student id ({why})"
    return Found(path, parts[0], "", "folder", parts[-1]), ""


def _moodle_name(name: str, participant: str) -> str:
    # With blind marking Moodle writes "Participant" for the name.
    return f"{name} {participant}" if name == "Participant" else name


# --- choosing what to place ---------------------------------------------------------------------


def _stem(original: str) -> str:
    """A notebook's name without .ipynb and without the -1, -2 Canvas adds to repeated uploads."""
    return re.sub(r"(-\d+)?\.ipynb$", "", original)


def _copy_number(original: str) -> int:
    match = re.search(r"-(\d+)\.ipynb$", original)
    return int(match[1]) if match else 0


def _match(files: list[Found], notebooks: list[str]) -> list[tuple[Found, str]] | None:
    """Pair a student's notebook files with the expected notebook names, or None."""
    by_name: dict[str, list[Found]] = {}
    for found in files:
        for expected in notebooks:
            if _stem(found.original) == expected.removesuffix(".ipynb"):
                by_name.setdefault(expected, []).append(found)
    latest = lambda found: (found.order, _copy_number(found.original))  # noqa: E731
    if len(by_name) == len(notebooks):
        return [(max(found, key=latest), expected) for expected, found in by_name.items()]
    if len(notebooks) == 1 and len({_stem(f.original) for f in files}) == 1:
        # one notebook under another name (uploaded once or more): it is the submission
        return [(max(files, key=latest), notebooks[0])]
    return None


def _timestamp(entries: dict[str, object], found: Found):
    """nbgrader's timestamp.txt next to this file or at the top of the student's folder."""
    from nbgrader.utils import parse_utc

    parts = PurePosixPath(found.path).parts
    for depth in range(len(parts) - 1, 0, -1):
        reader = entries.get(str(PurePosixPath(*parts[:depth], "timestamp.txt")))
        if reader is None:
            continue
        try:
            text = reader(limit=TIMESTAMP_BYTES).decode("utf-8").strip()
            return text, parse_utc(text)
        except (OSError, UnicodeDecodeError, ValueError, OverflowError, TypeError):
            return None
    return None


# --- the course's tables --------------------------------------------------------------------------


def _read_table(path: Path, key: str = "student") -> dict[str, dict]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {row[key]: row for row in csv.DictReader(f) if row.get(key)}


def _write_table(path: Path, rows: dict[str, dict], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for key in sorted(rows):
            writer.writerow(rows[key])
    temporary.replace(path)


def students_path(course: Course) -> Path:
    return course.grades_dir / "students.csv"


def submissions_path(course: Course, assignment: str) -> Path:
    return course.grades_dir / f"{assignment}-submissions.csv"


def students(course: Course) -> dict[str, dict]:
    """The course's students table: {student id: {'student', 'name', 'lms'}}."""
    return _read_table(students_path(course))


def submissions(course: Course, assignment: str) -> dict[str, dict]:
    """What collect recorded of each student's submission: name, file, the LMS's late flag, times."""
    return _read_table(submissions_path(course, assignment))


def remember_names(course: Course, names: dict[str, tuple[str, str]]) -> None:
    """Add or update students in the students table: {id: (name, lms)}; a known name is kept
    unless a new, non-empty one is given."""
    table = students(course)
    for student, (name, lms) in names.items():
        row = table.setdefault(student, {"student": student, "name": "", "lms": lms})
        if name:
            row["name"] = name
        if lms and not row.get("lms"):
            row["lms"] = lms
    _write_table(students_path(course), table, STUDENTS_COLUMNS)


# --- collect ----------------------------------------------------------------------------------------


def collect(course: Course, name: str, download: Path, roster: Path | None = None) -> CollectReport:
    """Copy the submissions in ``download`` (a folder or a .zip) into ``submitted/``.

    ``roster`` (a Canvas gradebook export or a Moodle grading worksheet) gives the students'
    names for display, matched by id.
    """
    assignment = course.resolve(name)
    notebooks = sorted(p.name for p in course.source_notebooks(assignment))
    if not notebooks:
        raise SubmissionError(f"{assignment} has no notebook in {course.source(assignment)}")
    download = Path(download)
    if not download.exists():
        raise SubmissionError(f"no such file or folder: {download}")
    roster_names = {}
    if roster is not None:
        from mildip.grading.export import read_roster

        roster_names = {row.student: row.name for row in read_roster(roster).rows if row.name}
    if download.is_dir():
        entries = _folder_entries(download)
    elif zipfile.is_zipfile(download):
        entries = _zip_entries(download)
    else:
        raise SubmissionError(f"{download} is neither a folder nor a zip file")
    if not entries:
        raise SubmissionError(f"{download} holds no files")
    return _place(course, assignment, notebooks, entries, roster_names)


def _place(course: Course, assignment: str, notebooks: list[str], entries, roster_names: dict) -> CollectReport:
    report = CollectReport(assignment)
    readers = {path: reader for path, reader, _ in entries if reader is not None}
    candidates: dict[str, list[Found]] = {}
    for path, reader, refused in entries:
        if SYSTEM_FILES.search(path):
            report.unplaced.append((path, "system file"))
            continue
        if refused:
            report.unplaced.append((path, refused))
            continue
        found, why = _owner(path)
        if found is None:
            report.unplaced.append((path, why))
            continue
        if found.original == "timestamp.txt" and found.lms == "folder":
            continue  # read with the notebook it belongs to
        if not found.original.endswith(".ipynb"):
            report.unplaced.append((path, "not a notebook"))
            continue
        found.reader = reader
        candidates.setdefault(found.student, []).append(found)

    total = 0
    table = submissions(course, assignment)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    names = {}
    for student, files in sorted(candidates.items()):
        chosen = _match(files, notebooks)
        if chosen is None:
            for found in files:
                report.unplaced.append((found.path, f"{student} sent {len(files)} notebooks; "
                                                    f"expected {', '.join(notebooks)}"))
            continue
        data = {}
        try:
            for found, expected in chosen:
                data[expected] = found.reader()
                total += len(data[expected])
        except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as error:
            for found, _ in chosen:
                report.unplaced.append((found.path, f"cannot be read ({error})"))
            continue
        if total > TOTAL_BYTES:
            raise SubmissionError(f"the download holds more than {TOTAL_BYTES // 1024**3} GB of notebooks; "
                                  "nothing after the first submissions placed was taken")
        target = course.submitted(student, assignment)
        target.mkdir(parents=True, exist_ok=True)
        for (found, expected) in chosen:
            destination = target / expected
            if destination.is_symlink():
                destination.unlink()
            if destination.exists() and destination.read_bytes() != data[expected]:
                report.replaced.append(student)
            temporary = target / f".{expected}.collect.tmp"
            temporary.write_bytes(data[expected])
            temporary.replace(destination)
        first = chosen[0][0]
        stamp = _timestamp(readers, first) if first.lms == "folder" else None
        stamp_file = target / "timestamp.txt"
        if stamp is not None:
            stamp_file.write_text(stamp[0] + "\n", encoding="utf-8")
        elif student in report.replaced and (stamp_file.exists() or stamp_file.is_symlink()):
            stamp_file.unlink()  # it was the earlier submission's
        late = any(found.late for found, _ in chosen)
        name = roster_names.get(student) or first.name
        report.placed[student] = first.original if len(chosen) == 1 else f"{len(chosen)} notebooks"
        report.names[student] = name
        if late:
            report.late.append(student)
        names[student] = (name, first.lms)
        table[student] = {
            "student": student, "name": name, "lms": first.lms,
            "file": "; ".join(found.original for found, _ in chosen),
            "late": "yes" if late else ("no" if first.lms == "canvas" else ""),
            "submitted_at": stamp[1].isoformat() if stamp else "",
            "collected_at": now,
        }
        for found in files:
            if all(found is not other for other, _ in chosen):
                report.unplaced.append((found.path, f"an earlier or extra notebook from {student}; the latest was kept"))
    if names:
        remember_names(course, names)
        _write_table(submissions_path(course, assignment), table, SUBMISSIONS_COLUMNS)
    return report
