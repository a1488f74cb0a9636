"""Benchmark: serial `nbgrader autograde` against `mildip grade` on one synthetic class.

Builds a class of 40 submissions of problem set 1 (correct, partially wrong and broken
notebooks), grades a copy of it with plain serial nbgrader and another copy with
`mildip grade` (every isolation switched on), and prints both wall times, their ratio and
whether the two agree on every score. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ASSIGNMENT = "ps1-nato-burden-sharing"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"

MISTAKES = {
    "q1_answer": 'allies_at_2pct = spending[spending["share_gdp_pct"] > 2].groupby("year").size()',
    "q3_answer": "new_to_2pct = ['Poland']",
    "q4_answer": 'size_share_corr = 0.5',
}
BROKEN = 'raise RuntimeError("unfinished")'


def run(command, cwd, env=None):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {}))
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def make_course(where: Path) -> Path:
    course = where / "course"
    course.mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    run([BIN / "nbgrader", "generate_assignment", ASSIGNMENT, "--force"], course)
    return course


def synthetic_class(course: Path, size: int) -> None:
    """Correct, partially wrong and broken submissions, built from the released notebook."""
    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    source = nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for index in range(size):
        notebook = nbformat.from_dict(json.loads(json.dumps(released)))
        kind = index % 4  # 0, 1: correct; 2: one mistake; 3: a broken cell
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
            if kind == 2 and grade_id == list(MISTAKES)[index % 3]:
                cell.source = MISTAKES[grade_id]
            if kind == 3 and grade_id == "q2_answer":
                cell.source = BROKEN
        folder = course / "submitted" / f"student{index:02d}" / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / NOTEBOOK)


def scores(course: Path) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {(s.student.id, g.name): g.auto_score
                for s in gb.assignment_submissions(ASSIGNMENT) for n in s.notebooks for g in n.grades}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        serial_course = make_course(Path(scratch) / "serial")
        parallel_course = make_course(Path(scratch) / "parallel")
        for course in (serial_course, parallel_course):
            synthetic_class(course, args.students)

        started = time.perf_counter()
        run([BIN / "nbgrader", "autograde", ASSIGNMENT, "--force"], serial_course)
        serial = time.perf_counter() - started

        started = time.perf_counter()
        run([BIN / "mildip", "grade", "ps1", "--jobs", str(args.jobs)], parallel_course,
            env={"MILDIP_COURSE": str(parallel_course)})
        parallel = time.perf_counter() - started

        a, b = scores(serial_course), scores(parallel_course)
        differing = sorted(key for key in a.keys() | b.keys() if a.get(key) != b.get(key))
    print(f"class: {args.students} submissions of {ASSIGNMENT}; {os.cpu_count()} cores; mildip --jobs {args.jobs}")
    print(f"nbgrader autograde (serial): {serial:6.1f} s  ({serial / args.students:.2f} s per notebook)")
    print(f"mildip grade (sandboxed):    {parallel:6.1f} s  ({parallel / args.students:.2f} s per notebook)")
    print(f"speed-up: {serial / parallel:.2f}x")
    if differing:
        print(f"scores differ for {len(differing)} grade(s), e.g. {differing[:5]}")
    else:
        print(f"scores agree: all {len(a)} grades identical")


if __name__ == "__main__":
    main()
