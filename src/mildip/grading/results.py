"""One results model for grading: statuses, the notes they are computed from, and the report.

Every notebook graded ends with a :class:`Result`. Its status is never set by hand and never
read from text: it is the most severe status among its :class:`Note` kinds (a notebook with
no note that changes the status is ``graded``). The report ``grades/<assignment>.csv`` holds
one row per student and notebook and is rewritten atomically after each result, so an
interrupted run keeps everything already graded.
"""

from __future__ import annotations

import csv
import enum
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


class Status(enum.Enum):
    """What became of one notebook, from the least to the most severe."""

    GRADED = "graded"
    TAMPERED = "tampered cells"
    MEMORY = "memory limit"
    TIMED_OUT = "timed out"
    KERNEL_DIED = "kernel died"
    INVALID = "invalid notebook"
    MISSING = "missing notebook"
    COURSE_ERROR = "course error"
    GRADER_ERROR = "grader error"

    @property
    def recorded(self) -> bool:
        """Whether a notebook with this status has its scores in the gradebook."""
        return self in RECORDED

    @property
    def severity(self) -> int:
        return list(Status).index(self)


RECORDED = {Status.GRADED, Status.TAMPERED, Status.MEMORY, Status.TIMED_OUT, Status.KERNEL_DIED}


class Kind(enum.Enum):
    """What a note says happened; each kind sets a status or only informs."""

    RENAMED = ("renamed", None)
    OUTPUT_CUT = ("output cut", None)
    LATE = ("late", None)
    LOCKED_CELL_FAILED = ("locked cell failed", None)
    ANSWER_UNREADABLE = ("answer unreadable", None)
    TEST_EDITED = ("test edited", Status.TAMPERED)
    CELL_RESTORED = ("cell restored", Status.TAMPERED)
    CELL_DUPLICATED = ("cell duplicated", Status.TAMPERED)
    MEMORY = ("memory", Status.MEMORY)
    TIMED_OUT = ("timed out", Status.TIMED_OUT)
    KERNEL_DIED = ("kernel died", Status.KERNEL_DIED)
    INVALID = ("invalid", Status.INVALID)
    MISSING = ("missing", Status.MISSING)
    COURSE = ("course", Status.COURSE_ERROR)
    GRADER = ("grader", Status.GRADER_ERROR)

    def __init__(self, label: str, status: Status | None):
        self.label, self.status = label, status


@dataclass(frozen=True)
class Note:
    kind: Kind
    text: str


def status_of(notes: list[Note]) -> Status:
    """The most severe status the notes call for; ``graded`` when none does."""
    statuses = [n.kind.status for n in notes if n.kind.status is not None]
    return max(statuses, key=lambda s: s.severity, default=Status.GRADED)


@dataclass
class Result:
    """The outcome of grading one notebook of one student's submission."""

    student: str
    assignment: str
    notebook: str
    notes: list[Note] = field(default_factory=list)
    score: float | None = None
    max_score: float | None = None
    seconds: float = 0.0
    fingerprint: str = ""
    graded_at: str = ""
    late_seconds: float = 0.0
    file_digest: str = ""              # of the submitted notebook, to tell a resubmission apart

    @property
    def status(self) -> Status:
        return status_of(self.notes)

    @property
    def reason(self) -> str:
        return "; ".join(n.text for n in self.notes) or "all cells ran"


COLUMNS = ["student", "assignment", "notebook", "status", "reason", "score", "max_score", "late_seconds",
           "seconds", "fingerprint", "graded_at", "file_digest", "notes"]


def report_path(grades_dir: Path, assignment: str) -> Path:
    return grades_dir / f"{assignment}.csv"


def _row(result: Result) -> dict:
    row = asdict(result)
    row["notes"] = json.dumps([[n.kind.name, n.text] for n in result.notes], ensure_ascii=False)
    row["status"], row["reason"] = result.status.value, result.reason
    return row


def read_report(path: Path) -> dict[tuple[str, str], Result]:
    """The results saved in a report, by (student, notebook); empty if there is none."""
    if not path.is_file():
        return {}
    results = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            try:
                notes = [Note(Kind[kind], text) for kind, text in json.loads(row["notes"])]
                result = Result(
                    row["student"], row["assignment"], row["notebook"], notes,
                    float(row["score"]) if row["score"] else None,
                    float(row["max_score"]) if row["max_score"] else None,
                    float(row["seconds"] or 0), row["fingerprint"], row["graded_at"],
                    float(row.get("late_seconds") or 0), row.get("file_digest") or "",
                )
            except (KeyError, ValueError, TypeError):
                continue  # a row this version cannot read is graded again
            results[result.student, result.notebook] = result
    return results


def write_report(path: Path, results: dict[tuple[str, str], Result]) -> Path:
    """Write every result, atomically: a reader never sees a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for key in sorted(results):
            writer.writerow(_row(results[key]))
    temporary.replace(path)
    return path
