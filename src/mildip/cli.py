"""The ``mildip`` command: the instructor's workflow from release to grades.

    mildip release ps1          student version into exercises/release/
    mildip collect ps1 PATH     a folder or LMS zip of submissions into exercises/submitted/
    mildip grade ps1            autograde every collected submission, in parallel and sandboxed
    mildip feedback ps1         feedback HTML per student into exercises/feedback/
    mildip export               one CSV for the LMS: a row per student, a column per assignment
    mildip report ps1           HTML item analysis of an assignment's questions
    mildip scores ps1           points per student and question (CSV on standard output)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mildip import grading


def _grade(args) -> int:
    from mildip import autograde, sandbox

    limits = sandbox.Limits(
        cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
        memory_bytes=int(args.memory * 1024**3), output_bytes=int(args.output_limit * 1000),
    )
    try:
        results = autograde.grade(args.assignment, jobs=args.jobs, limits=limits, force=args.force,
                                  progress=sys.stderr.isatty() or args.progress)
    except KeyboardInterrupt:
        # Every result is saved as soon as it is known; the kernels end with this process.
        print("\nmildip grade: interrupted. Results saved so far are kept; run the same command "
              "again to grade the rest.", file=sys.stderr)
        sys.stderr.flush()
        os._exit(130)
    width = max([len(r.student) for r in results] + [7])
    print(f"{'student':<{width}}  {'status':<16} {'score':>11}  reason")
    for r in results:
        score = f"{r.score:g}/{r.max_score:g}" if r.score is not None else "-"
        print(f"{r.student:<{width}}  {r.status:<16} {score:>11}  {r.reason}")
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"{len(results)} notebook(s): {summary}. Report: {autograde.report_path(grading.course_dir(), results[0].assignment) if results else '-'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mildip", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    commands = parser.add_subparsers(dest="command", required=True)

    sub = commands.add_parser("release", help="generate the student version into exercises/release/")
    sub.add_argument("assignment", help="assignment name or unique prefix, e.g. ps1")

    sub = commands.add_parser("grade", help="autograde every collected submission")
    sub.add_argument("assignment")
    sub.add_argument("--jobs", type=int, default=None, help="notebooks graded at once (default: number of cores)")
    sub.add_argument("--cell-timeout", type=float, default=60, help="seconds one cell may run (default 60)")
    sub.add_argument("--notebook-timeout", type=float, default=300, help="seconds a whole notebook may run (default 300)")
    sub.add_argument("--memory", type=float, default=4, help="GiB of memory per notebook (default 4)")
    sub.add_argument("--output-limit", type=float, default=200, help="kB of output kept per cell (default 200)")
    sub.add_argument("--force", action="store_true", help="grade again even submissions that have not changed")
    sub.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")

    sub = commands.add_parser("collect", help="place a folder or LMS zip of submissions into exercises/submitted/")
    sub.add_argument("assignment")
    sub.add_argument("path", type=Path, help="a folder or a .zip downloaded from the LMS")

    sub = commands.add_parser("feedback", help="feedback HTML per student into exercises/feedback/")
    sub.add_argument("assignment")

    sub = commands.add_parser("export", help="one CSV: a row per student, a column per assignment")
    sub.add_argument("--output", type=Path, default=None, help="where to write (default exercises/grades/grades.csv)")
    sub.add_argument("--roster", type=Path, default=None,
                     help="CSV with a 'student' column, so that students who never submitted are listed too")

    sub = commands.add_parser("report", help="HTML item analysis of an assignment's questions")
    sub.add_argument("assignment")

    sub = commands.add_parser("scores", help="print autograded points per student and question as CSV")
    sub.add_argument("assignment")

    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            path = grading.release(args.assignment)
            print(f"released {path.name} into {path}")
        elif args.command == "grade":
            return _grade(args)
        elif args.command == "collect":
            from mildip.collect import collect

            report = collect(args.assignment, args.path)
            print("\n".join(report.lines()))
        elif args.command == "feedback":
            path = grading.feedback(args.assignment)
            print(f"feedback written to {path}")
        elif args.command == "export":
            from mildip.export import export

            print(f"grade sheet written to {export(output=args.output, roster=args.roster)}")
        elif args.command == "report":
            from mildip.report import item_analysis

            print(f"item analysis written to {item_analysis(args.assignment)}")
        elif args.command == "scores":
            grading.scores(args.assignment).to_csv(sys.stdout, index=False)
    except grading.GradingError as error:
        print(f"mildip {args.command}: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - the instructor sees a message, not a traceback
        from mildip.sandbox import SandboxUnavailable

        if isinstance(error, SandboxUnavailable):
            print(f"mildip {args.command}: {error}", file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
