"""Grade a class: every submission of an assignment, in parallel, each in its own sandbox.

For each student folder ``submitted/<student>/<assignment>/`` the grader

1. reads each expected notebook and prepares it as nbgrader would (outputs cleared, locked and
   test cells restored from the gradebook's source), restoring test cells that were deleted,
   duplicated or edited, and noting it;
2. executes it in a sandboxed kernel (:mod:`mildip.execute`, :mod:`mildip.sandbox`), several at
   a time, with time, memory and output limits;
3. writes the scores into the gradebook with nbgrader's own preprocessors, from this process
   only, and the graded notebook (test cells without their hidden part) into ``autograded/``.

Every submission ends with a status and a one-line reason, recorded in
``grades/<assignment>.csv`` in the course folder. A submission whose files and the assignment
are unchanged since it was last graded is not graded again, and each result is saved as soon
as it is known, so an interrupted run loses nothing already graded.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from mildip import execute, grading, sandbox

INVALID, MISSING = "invalid notebook", "missing notebook"
STATUSES = [execute.GRADED, execute.TAMPERED, execute.MEMORY, execute.TIMED_OUT, execute.KERNEL_DIED, INVALID, MISSING]
REPORT_COLUMNS = ["student", "assignment", "notebook", "status", "reason", "score", "max_score", "seconds",
                  "fingerprint", "graded_at"]


@dataclass
class Result:
    student: str
    assignment: str
    notebook: str
    status: str
    reason: str = ""
    score: float | None = None
    max_score: float | None = None
    seconds: float = 0.0
    fingerprint: str = ""
    graded_at: str = ""


@dataclass
class Job:
    """One notebook of one submission, prepared for execution."""

    student: str
    notebook: str
    path: Path | None
    fingerprint: str
    prepared: nbformat.NotebookNode | None = None
    reasons: list[str] = field(default_factory=list)
    status: str | None = None


def report_path(course: Path, assignment: str) -> Path:
    return course / "grades" / f"{assignment}.csv"


def read_report(course: Path, assignment: str) -> dict[tuple[str, str], Result]:
    path = report_path(course, assignment)
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    results = {}
    for row in rows:
        for key in ("score", "max_score"):
            row[key] = float(row[key]) if row[key] not in ("", None) else None
        row["seconds"] = float(row["seconds"] or 0)
        results[row["student"], row["notebook"]] = Result(**row)
    return results


def write_report(course: Path, assignment: str, results: dict[tuple[str, str], Result]) -> Path:
    path = report_path(course, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=REPORT_COLUMNS)
        writer.writeheader()
        for key in sorted(results):
            writer.writerow(asdict(results[key]))
    temporary.replace(path)
    return path


# --- preparing a submission ---------------------------------------------------------------


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _released_tests(source: nbformat.NotebookNode) -> dict[str, str]:
    """Test cells as students receive them (hidden tests removed), by grade id."""
    from nbgrader.preprocessors import ClearHiddenTests

    released, _ = ClearHiddenTests().preprocess(copy.deepcopy(source), {})
    return {_grade_id(c): c.source for c in released.cells if execute.is_test_cell(c)}


def restore_cells(notebook, source, released: dict[str, str]) -> list[str]:
    """Put back deleted and duplicated locked cells and note edited tests; return the reasons."""
    reasons = []
    seen, kept = set(), []
    for cell in notebook.cells:
        grade_id = _grade_id(cell)
        if grade_id and grade_id in seen:
            reasons.append(f"{grade_id} appeared twice; the copy was removed")
            continue
        if grade_id:
            seen.add(grade_id)
        if grade_id in released and cell.source.strip() != released[grade_id].strip():
            reasons.append(f"{grade_id} was edited; the original test was restored")
        kept.append(cell)
    notebook.cells = kept
    position = {_grade_id(c): i for i, c in enumerate(notebook.cells) if _grade_id(c)}
    previous = None
    for cell in source.cells:
        grade_id = _grade_id(cell)
        locked = cell.metadata.get("nbgrader", {}).get("locked", False)
        if grade_id and grade_id not in position and (locked or execute.is_test_cell(cell)):
            at = position[previous] + 1 if previous in position else len(notebook.cells)
            notebook.cells.insert(at, copy.deepcopy(cell))
            if execute.is_test_cell(cell):
                reasons.append(f"{grade_id} was deleted; it was restored")
            position = {_grade_id(c): i for i, c in enumerate(notebook.cells) if _grade_id(c)}
        if grade_id:
            previous = grade_id
    return reasons


def prepare(job: Job, assignment: str, source, released, db_url: str) -> None:
    """Read and sanitise one submitted notebook; sets ``job.prepared`` or an error status."""
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, OverwriteCells, OverwriteKernelspec

    try:
        notebook = nbformat.read(job.path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported, never raised
        job.status = INVALID
        job.reasons.append(f"{job.path.name} is not a valid notebook ({type(error).__name__}: "
                           f"{str(error).splitlines()[0][:120] if str(error) else 'unreadable'})")
        return
    job.reasons += restore_cells(notebook, source, released)
    resources = {"nbgrader": {"db_url": db_url, "assignment": assignment, "notebook": job.notebook,
                              "student": job.student}}
    try:
        for step in (ClearOutput(), OverwriteKernelspec(), OverwriteCells(), CheckCellMetadata()):
            notebook, resources = step.preprocess(notebook, resources)
    except Exception as error:  # noqa: BLE001
        job.status = INVALID
        job.reasons.append(f"the notebook's grading cells could not be read ({str(error)[:120]})")
        return
    for cell in notebook.cells:
        if execute.is_test_cell(cell):
            cell.source = next(c.source for c in source.cells if _grade_id(c) == _grade_id(cell))
    job.prepared = notebook


def _fingerprint(path: Path | None, source_path: Path, limits: sandbox.Limits) -> str:
    h = hashlib.sha256()
    h.update(source_path.read_bytes())
    h.update(json.dumps(asdict(limits), sort_keys=True).encode())
    if path is not None and path.is_file():
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def discover(course: Path, assignment: str, limits: sandbox.Limits) -> list[Job]:
    """One job per student and expected notebook, including empty and misnamed submissions."""
    sources = sorted((course / "source" / assignment).glob("*.ipynb"))
    jobs = []
    for folder in sorted((course / "submitted").glob(f"*/{assignment}")):
        if not folder.is_dir():
            continue
        student = folder.parent.name
        present = sorted(folder.glob("*.ipynb"))
        for source_path in sources:
            name = source_path.stem
            path = folder / source_path.name
            job = Job(student, name, path if path.is_file() else None, "")
            if job.path is None:
                others = [p for p in present if p.stem not in {s.stem for s in sources}]
                if len(sources) == 1 and len(others) == 1:
                    job.path = others[0]
                    job.reasons.append(f"graded {others[0].name} (expected {source_path.name})")
                else:
                    job.status = MISSING
                    found = ", ".join(p.name for p in present) or "no notebook"
                    job.reasons.append(f"{source_path.name} not found (found: {found})")
            job.fingerprint = _fingerprint(job.path, source_path, limits)
            jobs.append(job)
    return jobs


# --- recording results ------------------------------------------------------------------------


def _timestamp(folder: Path):
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    try:
        return parse_utc(path.read_text().strip()) if path.is_file() else None
    except ValueError:
        return None


def _save_auto_grades(gradebook, notebook, resources) -> None:
    """nbgrader's SaveAutoGrades, through an open gradebook, committing once per notebook.

    The scores are nbgrader's own (its preprocessor and ``determine_grade`` decide them); only
    the commit after every cell, which costs a disk sync each, is gathered into one.
    """
    from nbgrader.preprocessors import SaveAutoGrades

    step = SaveAutoGrades()
    step.notebook_id = resources["nbgrader"]["notebook"]
    step.assignment_id = resources["nbgrader"]["assignment"]
    step.student_id = resources["nbgrader"]["student"]
    step.gradebook = gradebook
    session = gradebook.db
    session.commit = lambda: session.flush()  # each cell's commit becomes a flush...
    try:
        for index, cell in enumerate(notebook.cells):
            step.preprocess_cell(cell, resources, index)
    finally:
        del session.commit
    session.commit()  # ...and the notebook's grades are committed together


def record(gradebook, course: Path, assignment: str, job: Job, outcome: execute.Outcome, released,
           db_url: str) -> tuple[float, float]:
    """Write scores to the gradebook and the graded notebook to autograded/; return (score, max)."""
    from nbgrader.preprocessors import AssignLatePenalties

    notebook = outcome.notebook
    for cell in notebook.cells:
        if execute.is_test_cell(cell) and _grade_id(cell) in released:
            cell.source = released[_grade_id(cell)]  # feedback never shows hidden tests
    folder = course / "submitted" / job.student / assignment
    gradebook.update_or_create_student(job.student)
    gradebook.update_or_create_submission(assignment, job.student, timestamp=_timestamp(folder))
    resources = {"nbgrader": {"db_url": db_url, "assignment": assignment, "notebook": job.notebook,
                              "student": job.student}}
    _save_auto_grades(gradebook, notebook, resources)
    notebook, resources = AssignLatePenalties().preprocess(notebook, resources)
    target = course / "autograded" / job.student / assignment
    target.mkdir(parents=True, exist_ok=True)
    for extra in folder.iterdir():
        if extra.is_file() and extra.suffix != ".ipynb":
            shutil.copy(extra, target / extra.name)
    nbformat.write(notebook, target / f"{job.notebook}.ipynb")
    gradebook.db.expire_all()  # AssignLatePenalties wrote through its own connection
    submitted = gradebook.find_submission_notebook(job.notebook, assignment, job.student)
    return submitted.score, submitted.max_score


# --- the run -------------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on standard error."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled, self.started = total, 0, enabled and total > 0, time.monotonic()

    def step(self, label: str) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = int(width * self.done / self.total)
            elapsed = time.monotonic() - self.started
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                             f"{elapsed:5.1f}s {label[:30]:<30}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def grade(name: str, course: Path | None = None, *, jobs: int | None = None,
          limits: sandbox.Limits | None = None, force: bool = False, progress: bool = True) -> list[Result]:
    """Grade every collected submission of assignment ``name``; return one result per notebook."""
    course = (course or grading.course_dir()).resolve()
    assignment = grading.resolve(name, course)
    limits = limits or sandbox.Limits()
    sandbox.bwrap()  # fail early, with the install hint, if the sandbox is not available
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    if not _assignment_in_gradebook(db_url, assignment):
        grading.release(assignment, course)

    sources = {p.stem: nbformat.read(p, as_version=4) for p in (course / "source" / assignment).glob("*.ipynb")}
    released = {name: _released_tests(nb) for name, nb in sources.items()}
    results = read_report(course, assignment)
    todo = []
    for job in discover(course, assignment, limits):
        previous = results.get((job.student, job.notebook))
        if (not force and previous and previous.fingerprint == job.fingerprint
                and previous.status in STATUSES
                and (previous.status in (INVALID, MISSING)
                     or (course / "autograded" / job.student / assignment / f"{job.notebook}.ipynb").is_file())):
            continue
        todo.append(job)

    if not todo:
        return sorted(results.values(), key=lambda r: (r.student, r.notebook))

    bar = Progress(len(todo), progress)
    now = lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")  # noqa: E731
    runnable = []
    for job in todo:
        if job.status is None:
            prepare(job, assignment, sources[job.notebook], released[job.notebook], db_url)
        if job.status is not None:
            results[job.student, job.notebook] = Result(job.student, assignment, job.notebook, job.status,
                                                        "; ".join(job.reasons), fingerprint=job.fingerprint,
                                                        graded_at=now())
            write_report(course, assignment, results)
            bar.step(f"{job.student}: {job.status}")
        else:
            runnable.append(job)

    hidden = [course, course.parent / ".git"]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(runnable) or 1))
    with tempfile.TemporaryDirectory(prefix="mildip-grade-") as scratch:
        pool = execute.KernelPool(workers, len(runnable), Path(scratch), hidden, limits)

        def work(job: Job) -> execute.Outcome:
            kernel = pool.take()
            try:
                folder = course / "submitted" / job.student / assignment
                for extra in list(folder.iterdir()) + list((course / "source" / assignment).iterdir()):
                    if extra.is_file() and extra.suffix != ".ipynb" and extra.name != "timestamp.txt":
                        shutil.copy(extra, kernel.workdir / extra.name)
                return execute.run_notebook(job.prepared, kernel)
            finally:
                pool.give_back(kernel)

        from nbgrader.api import Gradebook

        try:
            with Gradebook(db_url) as gradebook, ThreadPoolExecutor(max_workers=workers) as threads:
                futures = {threads.submit(work, job): job for job in runnable}
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        outcome = future.result()
                    except Exception as error:  # noqa: BLE001 - one submission never stops the others
                        outcome = None
                        status, reasons = execute.KERNEL_DIED, [f"the kernel could not be run: {error}"]
                    if outcome is not None:
                        status, reasons = outcome.status, job.reasons + outcome.reasons
                        if status == execute.GRADED and any("restored" in r or "removed" in r for r in job.reasons):
                            status = execute.TAMPERED
                        score, maximum = record(gradebook, course, assignment, job, outcome,
                                                released[job.notebook], db_url)
                    else:
                        score = maximum = None
                    results[job.student, job.notebook] = Result(
                        job.student, assignment, job.notebook, status, "; ".join(reasons) or "all cells ran",
                        score, maximum, round(outcome.seconds if outcome else 0.0, 2), job.fingerprint, now())
                    write_report(course, assignment, results)
                    bar.step(f"{job.student}: {status}")
        finally:
            pool.close()
    bar.close()
    return sorted(results.values(), key=lambda r: (r.student, r.notebook))


def _assignment_in_gradebook(db_url: str, assignment: str) -> bool:
    from nbgrader.api import Gradebook, MissingEntry

    try:
        with Gradebook(db_url) as gb:
            gb.find_assignment(assignment)
        return True
    except MissingEntry:
        return False
