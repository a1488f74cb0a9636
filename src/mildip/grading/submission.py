"""Submissions as the grader takes them: found, read with care, and prepared for execution.

Only regular files are taken from a submission folder: a symbolic link (to the source
notebook, a classmate's work, the gradebook) is refused with a reason, and every file is read
with a size limit. Preparing a notebook puts back what nbgrader's autograde would (outputs
cleared, locked cells and tests restored from the source), after first throwing away any
grading metadata that does not match the source notebook, so that malformed metadata can
never stop the run.
"""

from __future__ import annotations

import copy
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from mildip.grading.results import Kind, Note

NOTEBOOK_BYTES = 50 * 1024**2
TIMESTAMP_BYTES = 200
EXTRA_FILES_BYTES = 100 * 1024**2
KEPT_METADATA = ("kernelspec", "language_info")


@dataclass
class Job:
    """One expected notebook of one student's submission."""

    student: str
    notebook: str                       # the notebook's name, without .ipynb
    folder: Path | None
    path: Path | None = None
    notes: list[Note] = field(default_factory=list)
    fingerprint: str = ""
    prepared: nbformat.NotebookNode | None = None
    timestamp: object = None
    extra_files: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(n.kind.status is not None and not n.kind.status.recorded for n in self.notes)


def display_name(name: str) -> str:
    """A folder name as text, whatever bytes it holds."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _regular(path: Path) -> os.stat_result | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, refusing links and anything larger than ``limit``."""
    info = _regular(path)
    if info is None:
        raise OSError(f"{display_name(path.name)} is not a regular file")
    if info.st_size > limit:
        raise OSError(f"{display_name(path.name)} is larger than {limit // 1024**2} MB")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{display_name(path.name)} is larger than {limit // 1024**2} MB")
    return data


def read_timestamp(folder: Path):
    """nbgrader's ``timestamp.txt`` of a submission, or None (missing, too long, unreadable)."""
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(read_limited(folder / "timestamp.txt", TIMESTAMP_BYTES).decode("utf-8").strip())
    except (OSError, UnicodeDecodeError, ValueError, OverflowError, TypeError):
        return None


def student_folders(submitted_root: Path) -> list[tuple[str, Path, list[Note]]]:
    """(student, folder, notes) for every entry of ``submitted/``; notes say why one is refused."""
    if not submitted_root.is_dir():
        return []
    found = []
    for entry in sorted(os.scandir(submitted_root), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        name = display_name(entry.name)
        notes = []
        if entry.is_symlink():
            notes.append(Note(Kind.INVALID, f"the folder {name} is a symbolic link; only real folders are graded"))
        elif not entry.is_dir(follow_symlinks=False):
            continue
        elif name != entry.name:
            notes.append(Note(Kind.INVALID, f"the folder name {name!r} is not valid UTF-8; rename the folder"))
        found.append((name, Path(entry.path), notes))
    return found


def discover(submitted_root: Path, assignment: str, sources: list[Path]) -> list[Job]:
    """One job per student and expected notebook, including empty, misnamed and refused ones."""
    jobs = []
    expected = {p.stem for p in sources}
    for student, student_folder, refused in student_folders(submitted_root):
        folder = student_folder / assignment
        if refused:
            jobs += [Job(student, s.stem, None, notes=list(refused)) for s in sources]
            continue
        if folder.is_symlink():
            jobs += [Job(student, s.stem, None, notes=[Note(Kind.INVALID, f"{assignment} is a symbolic link; "
                                                                           "only real folders are graded")])
                     for s in sources]
            continue
        if not folder.is_dir():
            continue
        entries = sorted(folder.iterdir())
        present = [p for p in entries if p.suffix == ".ipynb" and _regular(p)]
        linked = [p for p in entries if p.is_symlink()]
        extra = [p for p in entries if p.suffix != ".ipynb" and p.name != "timestamp.txt" and _regular(p)]
        for source in sources:
            job = Job(student, source.stem, folder, extra_files=extra)
            path = folder / source.name
            if path.is_symlink():
                job.notes.append(Note(Kind.INVALID, f"{source.name} is a symbolic link; submit the notebook itself"))
            elif _regular(path):
                job.path = path
            else:
                others = [p for p in present if p.stem not in expected]
                if len(sources) == 1 and len(others) == 1:
                    job.path = others[0]
                    job.notes.append(Note(Kind.RENAMED, f"graded {display_name(others[0].name)} "
                                                        f"(expected {source.name})"))
                else:
                    names = ", ".join(display_name(p.name) for p in present) or "no notebook"
                    job.notes.append(Note(Kind.MISSING, f"{source.name} not found (found: {names})"))
            if linked and job.path is not None:
                job.notes.append(Note(Kind.RENAMED, "ignored symbolic link(s): "
                                      + ", ".join(display_name(p.name) for p in linked[:5])))
            jobs.append(job)
    return jobs


# --- preparing one notebook ------------------------------------------------------------


def grade_id(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
        return meta["grade_id"]
    return None


def is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return (cell.cell_type == "code" and isinstance(meta, dict) and bool(meta.get("grade"))
            and not meta.get("solution"))


def is_solution(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return isinstance(meta, dict) and bool(meta.get("solution"))


def is_locked_code(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return (cell.cell_type == "code" and isinstance(meta, dict) and bool(meta.get("locked"))
            and not meta.get("grade") and not meta.get("solution"))


def released_tests(source: nbformat.NotebookNode) -> dict[str, str]:
    """Test cells as students receive them (hidden tests removed), by grade id."""
    from nbgrader.preprocessors import ClearHiddenTests

    released, _ = ClearHiddenTests().preprocess(copy.deepcopy(source), {})
    return {grade_id(c): c.source for c in released.cells if is_test(c)}


def sanitize_metadata(notebook, source) -> None:
    """Keep a cell's grading metadata only if it is the source's; drop anything malformed."""
    by_id = {grade_id(c): c for c in source.cells if grade_id(c)}
    cells = []
    for cell in notebook.cells:
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.NotebookNode()
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            cells.append(cell)
            continue
        original = by_id.get(grade_id(cell))
        if original is None:
            del cell.metadata["nbgrader"]  # not a cell of this assignment: an ordinary cell
        else:
            cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
            if cell.cell_type != original.cell_type:
                cell = copy.deepcopy(original) if not original.metadata["nbgrader"].get("solution") else \
                    _as_type(original.cell_type, cell.source, original.metadata)
        cells.append(cell)
    notebook.cells = cells
    notebook.metadata = nbformat.NotebookNode({k: v for k, v in notebook.metadata.items() if k in KEPT_METADATA})


def _as_type(cell_type: str, source, metadata):
    text = source if isinstance(source, str) else ""
    cell = nbformat.v4.new_code_cell(text) if cell_type == "code" else nbformat.v4.new_markdown_cell(text)
    cell.metadata = copy.deepcopy(metadata)
    return cell


def restore_cells(notebook, source, released: dict[str, str]) -> list[Note]:
    """Put back deleted and duplicated locked cells and tests; note edited tests."""
    notes = []
    seen, kept = set(), []
    for cell in notebook.cells:
        gid = grade_id(cell)
        if gid and gid in seen:
            notes.append(Note(Kind.CELL_DUPLICATED, f"{gid} appeared twice; the copy was removed"))
            continue
        if gid:
            seen.add(gid)
        if gid in released and cell.source.strip() != released[gid].strip():
            notes.append(Note(Kind.TEST_EDITED, f"{gid} was edited; the original test was restored"))
        kept.append(cell)
    notebook.cells = kept
    position = {grade_id(c): i for i, c in enumerate(notebook.cells) if grade_id(c)}
    previous = None
    for cell in source.cells:
        gid = grade_id(cell)
        locked = cell.metadata.get("nbgrader", {}).get("locked", False)
        if gid and gid not in position and (locked or is_test(cell)):
            at = position[previous] + 1 if previous in position else len(notebook.cells)
            notebook.cells.insert(at, copy.deepcopy(cell))
            if is_test(cell):
                notes.append(Note(Kind.CELL_RESTORED, f"{gid} was deleted; it was restored"))
            position = {grade_id(c): i for i, c in enumerate(notebook.cells) if grade_id(c)}
        if gid:
            previous = gid
    return notes


def prepare(job: Job, assignment: str, source, released: dict[str, str], db_url: str, config) -> None:
    """Read and sanitise one submitted notebook: sets ``job.prepared`` or an error note."""
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, OverwriteCells, OverwriteKernelspec

    try:
        text = read_limited(job.path, NOTEBOOK_BYTES).decode("utf-8")
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError, RecursionError,
            nbformat.ValidationError) as error:
        detail = str(error).splitlines()[0][:120] if str(error) else "unreadable"
        job.notes.append(Note(Kind.INVALID, f"{display_name(job.path.name)} is not a valid notebook "
                                            f"({type(error).__name__}: {detail})"))
        return
    try:
        sanitize_metadata(notebook, source)
        job.notes += restore_cells(notebook, source, released)
        resources = {"nbgrader": {"db_url": db_url, "assignment": assignment, "notebook": job.notebook,
                                  "student": job.student}}
        for step in (ClearOutput(config=config), OverwriteKernelspec(config=config), OverwriteCells(config=config),
                     CheckCellMetadata(config=config)):
            notebook, resources = step.preprocess(notebook, resources)
        for cell in notebook.cells:
            if is_test(cell) and grade_id(cell) in released:
                cell.source = released[grade_id(cell)]  # what the student saw; the tests run elsewhere
    except Exception as error:  # noqa: BLE001 - any notebook nbgrader cannot read is reported
        job.notes.append(Note(Kind.INVALID, f"the notebook's grading cells could not be read "
                                            f"({type(error).__name__}: {str(error)[:120]})"))
        return
    job.prepared = notebook
