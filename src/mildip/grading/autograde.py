"""Grade a class: every submission of an assignment, several at a time, each in its own sandbox.

For each student folder ``submitted/<student>/<assignment>/`` the grader

1. takes only regular files, reads each expected notebook and prepares it as nbgrader would
   (:mod:`mildip.grading.submission`);
2. runs it in a sandboxed kernel with the tests in a separate interpreter
   (:mod:`mildip.grading.execute`), with time, memory, process and output limits;
3. writes the scores into the gradebook with nbgrader's own preprocessors, from this process
   only (:mod:`mildip.grading.gradebook`), and the graded notebook into ``autograded/``.

Every step for one student is isolated: whatever goes wrong becomes that student's status
and reason, and the run goes on. Each result is saved as soon as it is known, so an
interrupted run loses nothing already graded; a submission whose files, the assignment, the
data, the grader and the limits are unchanged since it was last graded is not graded again.
If the instructor's own cells fail for most of the class, the run stops and says what to fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from mildip.errors import CourseError
from mildip.grading import execute, gradebook, sandbox, submission
from mildip.grading.course import Course
from mildip.grading.release import check_source, release
from mildip.grading.results import Kind, Note, Result, Status, read_report, report_path, write_report

COURSE_ERRORS_TO_STOP = 3


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _digest_files(h, root: Path, pattern: str = "*") -> None:
    for path in sorted(root.rglob(pattern)):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())


def run_fingerprint(course: Course, assignment: str, limits: sandbox.Limits) -> str:
    """What every grade of this assignment depends on besides the student's own files."""
    h = hashlib.sha256()
    for path in sorted(course.source(assignment).iterdir()):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    h.update(json.dumps(asdict(limits), sort_keys=True).encode())
    h.update(json.dumps(course.config, sort_keys=True, default=str).encode())
    for folder in sandbox.data_folders():
        _digest_files(h, folder)
    package = sandbox._package_dir("mildip")
    if package is not None:
        _digest_files(h, package, "*.py")
    return h.hexdigest()


def _fingerprint(base: str, job: submission.Job) -> str:
    h = hashlib.sha256(base.encode())
    for path in ([job.path] if job.path else []) + job.extra_files:
        h.update(os.fsencode(path.name))
        try:
            h.update(submission.read_limited(path, submission.NOTEBOOK_BYTES))
        except OSError:
            h.update(b"unreadable")
    if job.folder is not None:
        h.update(str(submission.read_timestamp(job.folder)).encode())
    return h.hexdigest()[:16]


def _file_digest(job: submission.Job) -> str:
    try:
        return hashlib.sha256(submission.read_limited(job.path, submission.NOTEBOOK_BYTES)).hexdigest()[:16]
    except (OSError, TypeError):
        return ""


def validate_data() -> Path | None:
    """Check every dataset once in this process, so kernels can reuse the result."""
    from mildip import datasets

    for name in datasets.dataset_names():
        datasets.validate(datasets.describe(name))
    path = datasets._cache_file()
    return path if path.is_file() else None


#: What HTML in a student's markdown and outputs may keep: text structure and tables (pandas
#: draws DataFrames as tables), never scripts, event handlers, styles or frames.
SAFE_TAGS = ["a", "abbr", "acronym", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "div",
             "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "span",
             "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"]
SAFE_ATTRIBUTES = {"a": ["href", "title"], "abbr": ["title"], "acronym": ["title"], "img": ["src", "alt", "title"],
                   "table": ["class", "border"], "th": ["class", "colspan", "rowspan"],
                   "td": ["class", "colspan", "rowspan"], "div": ["class"], "span": ["class"]}
STYLE_ELEMENT = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.IGNORECASE | re.DOTALL)


def sanitized(notebook):
    """``notebook`` with every script, style and unknown tag removed from markdown and outputs
    (nbconvert's SanitizeHTML), so nothing a student wrote runs in formgrader or feedback."""
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = STYLE_ELEMENT.sub("", cell.source)
        for output in cell.get("outputs", []):
            for key in ("text/html", "text/markdown"):
                if isinstance(output.get("data", {}).get(key), str):
                    output["data"][key] = STYLE_ELEMENT.sub("", output["data"][key])
    step = SanitizeHTML(tags=SAFE_TAGS, attributes=SAFE_ATTRIBUTES, strip=True)
    notebook, _ = step.preprocess(notebook, {})
    return notebook


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


class Run:
    """One ``mildip grade`` run of one assignment."""

    def __init__(self, course: Course, assignment: str, limits: sandbox.Limits, progress: bool):
        self.course, self.assignment, self.limits = course, assignment, limits
        self.report = report_path(course.grades_dir, assignment)
        self.results = read_report(self.report)
        self.progress = progress
        self.sources = {p.stem: nbformat.read(p, as_version=4) for p in course.source_notebooks(assignment)}
        self.released = {name: submission.released_tests(nb) for name, nb in self.sources.items()}
        self.cgroups = None

    def save(self, job: submission.Job, score=None, maximum=None, seconds=0.0, late=0.0) -> Result:
        result = Result(job.student, self.assignment, job.notebook, list(job.notes), score, maximum,
                        round(seconds, 2), job.fingerprint, _now(), late, _file_digest(job) if job.path else "")
        self.results[job.student, job.notebook] = result
        write_report(self.report, self.results)
        return result

    def unchanged(self, job: submission.Job) -> bool:
        previous = self.results.get((job.student, job.notebook))
        if previous is None or previous.fingerprint != job.fingerprint:
            return False
        if previous.status in (Status.COURSE_ERROR, Status.GRADER_ERROR):
            return False
        if previous.status.recorded:
            return (self.course.autograded(job.student, self.assignment) / f"{job.notebook}.ipynb").is_file()
        return True

    def prepare(self, job: submission.Job) -> None:
        try:
            job.timestamp = submission.read_timestamp(job.folder) if job.folder else None
            if not job.failed and job.path is not None:
                submission.prepare(job, self.assignment, self.sources[job.notebook], self.released[job.notebook],
                                   self.course.db_url, self.course.config)
        except Exception as error:  # noqa: BLE001 - one notebook never stops the class
            job.notes.append(Note(Kind.GRADER, f"the grader could not prepare this notebook "
                                               f"({type(error).__name__}: {str(error)[:200]})"))

    def write_graded(self, job: submission.Job, notebook) -> None:
        """The graded notebook, with unsafe HTML removed, and the submission's other files."""
        target = self.course.autograded(job.student, self.assignment)
        target.mkdir(parents=True, exist_ok=True)
        notebook = sanitized(notebook)
        for extra in job.extra_files:
            shutil.copyfile(extra, target / extra.name, follow_symlinks=False)
        temporary = target / f".{job.notebook}.ipynb.tmp"
        nbformat.write(notebook, temporary)
        temporary.replace(target / f"{job.notebook}.ipynb")

    def record(self, book, job: submission.Job, outcome: execute.Outcome) -> Result:
        job.notes += outcome.notes
        status = Result("", "", "", job.notes).status
        if not status.recorded:
            return self.save(job, seconds=outcome.seconds)
        previous = self.results.get((job.student, job.notebook))
        keep_manual = previous is not None and previous.file_digest == _file_digest(job)
        self.write_graded(job, outcome.notebook)
        score, maximum, late = gradebook.record(self.course, book, self.assignment, job.student, job.notebook,
                                                outcome.notebook, job.timestamp, keep_manual)
        if late > 0:
            job.notes.append(Note(Kind.LATE, f"submitted {late / 3600:.1f} hours late"))
        return self.save(job, score, maximum, outcome.seconds, late)


def grade(course: Course, name: str, *, jobs: int | None = None, limits: sandbox.Limits | None = None,
          force: bool = False, progress: bool = True) -> list[Result]:
    """Grade every collected submission of assignment ``name``; return one result per notebook."""
    assignment = course.resolve(name)
    limits = limits or sandbox.Limits()
    sandbox.bwrap()  # fail early, with the install hint, if the sandbox is not available
    check_source(course, assignment)
    run = Run(course, assignment, limits, progress)
    sources = course.source_notebooks(assignment)
    found = submission.discover(course.submitted_root, assignment, sources)
    if not found:
        raise CourseError(f"no submissions of {assignment} in {course.submitted_root}: collect them first "
                          f"(`mildip collect {name} ...`)")
    if not gradebook.in_gradebook(course, assignment):
        release(course, assignment)

    base = run_fingerprint(course, assignment, limits)
    todo = []
    for job in found:
        try:
            job.fingerprint = _fingerprint(base, job)
        except Exception as error:  # noqa: BLE001 - one submission never stops the others
            job.notes.append(Note(Kind.GRADER, f"the submission's files could not be read ({type(error).__name__})"))
        if force or not run.unchanged(job):
            todo.append(job)
    if not todo:
        return sorted(run.results.values(), key=lambda r: (r.student, r.notebook))

    bar = Progress(len(todo), progress)
    runnable = []
    for job in todo:
        run.prepare(job)
        if job.prepared is None:
            if not job.failed:
                job.notes.append(Note(Kind.GRADER, "the notebook could not be prepared"))
            run.save(job)
            bar.step(f"{job.student}: {Result('', '', '', job.notes).status.value}")
        else:
            runnable.append(job)
    if runnable:
        _execute(run, runnable, jobs, bar)
    bar.close()
    return sorted(run.results.values(), key=lambda r: (r.student, r.notebook))


def _execute(run: Run, runnable: list[submission.Job], jobs: int | None, bar: Progress) -> None:
    import threading

    from mildip.grading.evaluate import warm_up

    course, limits = run.course, run.limits
    threading.Thread(target=warm_up, daemon=True).start()
    validated = validate_data()
    run.cgroups = sandbox.CgroupLimits.detect()
    workers = max(1, min(jobs or os.cpu_count() or 1, len(runnable)))
    scratch = Path(tempfile.mkdtemp(prefix="mildip-grade-", dir=sandbox.scratch_root()))
    os.chmod(scratch, 0o700)
    hidden = [course.root, scratch]
    pool = execute.KernelPool(workers, len(runnable), scratch, limits, hidden, run.cgroups, validated)

    def work(job: submission.Job) -> execute.Outcome:
        kernel = pool.take()
        try:
            kernel.seed(job.extra_files + [p for p in course.source(run.assignment).iterdir()
                                           if p.is_file() and p.suffix != ".ipynb" and not p.is_symlink()])
            return execute.run_notebook(job.prepared, run.sources[job.notebook], kernel, limits)
        finally:
            pool.give_back(kernel)

    threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")
    course_errors: dict[str, int] = {}
    recorded = 0
    interrupted = False
    try:
        with course.gradebook() as book:
            pending = {threads.submit(work, job): job for job in runnable}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    job = pending.pop(future)
                    try:
                        result = run.record(book, job, future.result())
                    except Exception as error:  # noqa: BLE001 - one submission never stops the others
                        book.db.rollback()
                        job.notes.append(Note(Kind.GRADER, f"the grader failed on this notebook "
                                                           f"({type(error).__name__}: {str(error)[:200]})"))
                        result = run.save(job)
                    bar.step(f"{job.student}: {result.status.value}")
                    if result.status.recorded:
                        recorded += 1
                    if result.status is Status.COURSE_ERROR:
                        reason = next(n.text for n in result.notes if n.kind is Kind.COURSE)
                        course_errors[reason] = course_errors.get(reason, 0) + 1
                        if course_errors[reason] >= COURSE_ERRORS_TO_STOP and course_errors[reason] > recorded:
                            for other in pending:
                                other.cancel()
                            raise CourseError(
                                f"stopped: {course_errors[reason]} notebooks failed the same way in the instructor's "
                                f"own cells ({reason}). Fix the course (its locked cells, data or environment) and "
                                "run `mildip grade` again; results so far are kept.")
    except BaseException:
        interrupted = True
        raise
    finally:
        threads.shutdown(wait=not interrupted, cancel_futures=True)
        pool.close(wait=not interrupted)
        if run.cgroups is not None:
            run.cgroups.close()
        shutil.rmtree(scratch, ignore_errors=True)
