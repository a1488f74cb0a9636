"""Place downloaded submissions into nbgrader's ``submitted/<student>/<assignment>/`` layout.

Accepts a folder or a zip file, in any of these shapes:

- an LMS download with one file per submission named ``<student>_..._<original name>``
  (Canvas: ``smithjane_12345_678901_ps1.ipynb``, also ``smithjane_LATE_12345_...``);
- an LMS download with one folder per student (Moodle: ``Jane Smith_12345_assignsubmission_file_/``);
- a plain folder with one subfolder per student (``jsmith/ps1.ipynb`` or ``jsmith/ps1/ps1.ipynb``).

The assignment's notebook is saved under the name nbgrader expects, whatever the student called
it. Anything that cannot be placed (other file types, several candidate notebooks, system files)
is listed in the report and left alone.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from mildip.errors import SubmissionError
from mildip.grading.course import Course

SYSTEM_FILES = re.compile(r"(^|/)(__MACOSX|\.DS_Store|Thumbs\.db|desktop\.ini|\.ipynb_checkpoints)(/|$)")
CANVAS = re.compile(r"^(?P<student>[A-Za-z0-9.\-]+?)_(?:LATE_)?\d+_\d+_(?P<name>.+)$")
MOODLE = re.compile(r"^(?P<student>.+?)_\d+_assign(?:submission|feedback)_\w+?_?$")


@dataclass
class CollectReport:
    placed: dict[str, str] = field(default_factory=dict)  # student -> original file name
    replaced: list[str] = field(default_factory=list)  # students whose earlier submission changed
    unplaced: list[tuple[str, str]] = field(default_factory=list)  # (file, why)

    def lines(self) -> list[str]:
        out = [f"placed {len(self.placed)} submission(s)"]
        out += [f"  {student}: {name}" for student, name in sorted(self.placed.items())]
        if self.replaced:
            out.append(f"replaced an earlier, different submission for: {', '.join(sorted(self.replaced))}")
        if self.unplaced:
            out.append(f"could not place {len(self.unplaced)} file(s):")
            out += [f"  {name}: {why}" for name, why in self.unplaced]
        return out


def student_id(raw: str) -> str:
    """A folder-safe student id from an LMS name ('Jane Smith' -> 'jane-smith')."""
    cleaned = re.sub(r"[^a-z0-9.]+", "-", raw.strip().lower()).strip("-.")
    return cleaned or "unknown"


def _files(root: Path) -> list[PurePosixPath]:
    return sorted(PurePosixPath(p.relative_to(root).as_posix()) for p in root.rglob("*") if p.is_file())


def _owner(path: PurePosixPath) -> tuple[str | None, str]:
    """(student, original file name) for one file of the download, or (None, why)."""
    parts = path.parts
    if len(parts) == 1:
        match = CANVAS.match(parts[0])
        if match:
            return student_id(match["student"]), match["name"]
        return None, "not in a student folder and not named like an LMS download"
    folder = parts[0]
    match = MOODLE.match(folder)
    return student_id(match["student"] if match else folder), parts[-1]


def collect(course: Course, name: str, download: Path) -> CollectReport:
    """Copy the submissions in ``download`` (folder or .zip) into ``submitted/``."""
    assignment = course.resolve(name)
    notebooks = sorted(p.name for p in course.source_notebooks(assignment))
    if not download.exists():
        raise SubmissionError(f"no such file or folder: {download}")
    with tempfile.TemporaryDirectory() as scratch:
        root = download
        if download.is_file():
            if not zipfile.is_zipfile(download):
                raise SubmissionError(f"{download} is neither a folder nor a zip file")
            root = Path(scratch)
            with zipfile.ZipFile(download) as archive:
                for member in archive.infolist():
                    target = (root / member.filename).resolve()
                    if not str(target).startswith(str(root.resolve())):
                        continue  # never write outside the scratch folder
                    archive.extract(member, root)
        return _place(root, course, assignment, notebooks)


def _place(root: Path, course: Course, assignment: str, notebooks: list[str]) -> CollectReport:
    report = CollectReport()
    candidates: dict[str, list[tuple[PurePosixPath, str]]] = {}
    for path in _files(root):
        if SYSTEM_FILES.search(str(path)):
            report.unplaced.append((str(path), "system file"))
            continue
        student, original = _owner(path)
        if student is None:
            report.unplaced.append((str(path), original))
            continue
        if not original.endswith(".ipynb"):
            report.unplaced.append((str(path), "not a notebook"))
            continue
        candidates.setdefault(student, []).append((path, original))

    for student, files in sorted(candidates.items()):
        target = course.submitted(student, assignment)
        chosen = _match(files, notebooks)
        if chosen is None:
            for path, _ in files:
                report.unplaced.append((str(path), f"{student} sent {len(files)} notebooks; "
                                                    f"expected {', '.join(notebooks)}"))
            continue
        target.mkdir(parents=True, exist_ok=True)
        for (path, original), expected in chosen:
            destination = target / expected
            data = (root / path).read_bytes()
            if destination.exists() and destination.read_bytes() != data:
                report.replaced.append(student)
            destination.write_bytes(data)
            report.placed[student] = original if len(chosen) == 1 else f"{len(chosen)} notebooks"
        for path, original in files:
            if all(path != p for (p, _), _ in chosen):
                report.unplaced.append((str(path), f"extra notebook from {student}"))
    return report


def _resubmission(file) -> int:
    """Canvas numbers resubmissions name-1.ipynb, name-2.ipynb...: the highest is the latest."""
    match = re.search(r"-(\d+)\.ipynb$", file[1])
    return int(match[1]) if match else 0


def _match(files, notebooks):
    """Pair the student's notebook files with the expected notebook names, or None."""
    by_name = {}
    for path, original in files:
        stem = re.sub(r"(-\d+)?\.ipynb$", "", original)  # Canvas adds -1, -2 to resubmissions
        for expected in notebooks:
            if stem == expected.removesuffix(".ipynb"):
                by_name.setdefault(expected, []).append((path, original))
    if len(by_name) == len(notebooks):
        return [(max(found, key=_resubmission), expected) for expected, found in by_name.items()]
    if len(notebooks) == 1 and len(files) == 1:
        return [(files[0], notebooks[0])]  # one notebook under another name: it is the submission
    return None

