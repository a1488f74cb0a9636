"""The mildip command: the instructor's workflow, from release to grades.

  mildip release ps1          the student version into release/
  mildip collect ps1 PATH     a folder or LMS zip of submissions into submitted/
  mildip collect ps1          on a class hub: the latest submissions from the exchange
  mildip grade ps1            autograde every collected submission, in parallel and sandboxed
  mildip feedback ps1         feedback HTML per student into feedback/
  mildip export               one CSV for the LMS: a row per student, a column per assignment
  mildip report ps1           HTML item analysis of an assignment's questions
  mildip scores ps1           points per student and question (CSV on standard output)
  mildip formgrader           open nbgrader's formgrader on the course, to grade written answers

Assignments can be named by a unique prefix (ps1). The course is the folder given with
--course, else $MILDIP_COURSE, else the current folder or a parent holding nbgrader_config.py,
else exercises/ in one of them.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from mildip.errors import MildipError

log = logging.getLogger("mildip")


def _course(args):
    from mildip.grading.course import Course

    return Course.find(args.course)


def _limits(args):
    from mildip.grading.sandbox import Limits

    return Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                  memory_bytes=int(args.memory * 1024**3), output_bytes=int(args.output_limit * 1000))


def _stop_on_terminate() -> None:
    """SIGTERM (from a scheduler, or `kill`) stops a run the way Ctrl-C does."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def grade(args) -> int:
    from mildip.grading.autograde import grade as run
    from mildip.grading.results import report_path

    course = _course(args)
    _stop_on_terminate()
    try:
        results = run(course, args.assignment, jobs=args.jobs, limits=_limits(args), force=args.force,
                      progress=sys.stderr.isatty() or args.progress)
    except KeyboardInterrupt:
        # Every result is saved as soon as it is known, and every sandbox is already stopped.
        sys.stderr.write("\nmildip grade: interrupted. Results saved so far are kept; run the same command "
                         "again to grade the rest.\n")
        sys.stderr.flush()
        os._exit(130)
    width = max([len(r.student) for r in results] + [7])
    print(f"{'student':<{width}}  {'status':<16} {'score':>11}  reason")
    for r in results:
        score = f"{r.score:g}/{r.max_score:g}" if r.score is not None else "-"
        print(f"{r.student:<{width}}  {r.status.value:<16} {score:>11}  {r.reason}")
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    assignment = course.resolve(args.assignment)
    print(f"{len(results)} notebook(s): {summary}. Report: {report_path(course.grades_dir, assignment)}")
    return 0


def release(args) -> int:
    from mildip.grading.release import release as run

    course = _course(args)
    path = run(course, args.assignment)
    print(f"released {path.name} into {path}")
    from mildip.grading import exchange

    if exchange.configured(course):  # a class hub: students fetch it from the exchange
        print(exchange.publish(course, args.assignment))
    return 0


def collect(args) -> int:
    from mildip.grading.collect import collect as run

    if args.path is None:  # a class hub: the latest submissions from the exchange
        from mildip.grading.exchange import collect as from_exchange

        print("\n".join(from_exchange(_course(args), args.assignment).lines()))
        return 0
    print("\n".join(run(_course(args), args.assignment, args.path).lines()))
    return 0


def feedback(args) -> int:
    from mildip.grading.feedback import feedback as run

    course = _course(args)
    print(f"feedback written to {run(course, args.assignment)}")
    from mildip.grading import exchange

    if exchange.configured(course):  # a class hub: students fetch it from the exchange
        print(exchange.return_feedback(course, args.assignment))
    return 0


def export(args) -> int:
    from mildip.grading.export import export as run

    print(f"grade sheet written to {run(_course(args), output=args.output, roster=args.roster)}")
    return 0


def report(args) -> int:
    from mildip.grading.report import item_analysis

    print(f"item analysis written to {item_analysis(_course(args), args.assignment)}")
    return 0


def scores(args) -> int:
    from mildip.grading.gradebook import scores as table

    course = _course(args)
    table(course, course.resolve(args.assignment)).to_csv(sys.stdout, index=False)
    return 0


def formgrader(args) -> int:
    """Start JupyterLab in the course folder, where nbgrader reads the course's configuration."""
    import subprocess
    import sysconfig

    course = _course(args)
    lab = Path(sysconfig.get_path("scripts")) / "jupyter-lab"
    print(f"Formgrader for {course.root}: open the address JupyterLab prints, then go to /formgrader "
          "(Ctrl-C stops it).")
    return subprocess.call([str(lab), "--ServerApp.default_url=/formgrader", *args.lab_args], cwd=course.root)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mildip", description=__doc__.splitlines()[0],
                                  formatter_class=argparse.RawDescriptionHelpFormatter,
                                  epilog="\n".join(__doc__.splitlines()[2:]))
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--course", metavar="DIR", default=None, help="the nbgrader course folder")
    common.add_argument("-v", "--verbose", action="store_true", help="show details when something fails")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, function, help):
        sub = commands.add_parser(name, help=help, description=help, parents=[common])
        sub.set_defaults(run=function)
        return sub

    sub = command("release", release, "generate the student version into release/")
    sub.add_argument("assignment", help="assignment name or unique prefix, e.g. ps1")
    sub = command("grade", grade, "autograde every collected submission")
    sub.add_argument("assignment")
    sub.add_argument("--jobs", type=int, default=None, help="notebooks graded at once (default: number of cores)")
    sub.add_argument("--cell-timeout", type=float, default=60, help="seconds one cell may run (default 60)")
    sub.add_argument("--notebook-timeout", type=float, default=300,
                     help="seconds a whole notebook may run (default 300)")
    sub.add_argument("--memory", type=float, default=4, help="GiB of memory per notebook (default 4)")
    sub.add_argument("--output-limit", type=float, default=200, help="kB of output kept per cell (default 200)")
    sub.add_argument("--force", action="store_true", help="grade again even submissions that have not changed")
    sub.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    sub = command("collect", collect, "place a folder or LMS zip of submissions into submitted/")
    sub.add_argument("assignment")
    sub.add_argument("path", type=Path, nargs="?", default=None,
                     help="a folder or a .zip downloaded from the LMS (none: the class hub's exchange)")
    sub = command("feedback", feedback, "feedback HTML per student into feedback/")
    sub.add_argument("assignment")
    sub = command("export", export, "one CSV: a row per student, a column per assignment")
    sub.add_argument("--output", type=Path, default=None, help="where to write (default grades/grades.csv)")
    sub.add_argument("--roster", type=Path, default=None,
                     help="CSV with a 'student' column, so that students who never submitted are listed too")
    sub = command("report", report, "HTML item analysis of an assignment's questions")
    sub.add_argument("assignment")
    sub = command("scores", scores, "print points per student and question as CSV")
    sub.add_argument("assignment")
    sub = command("formgrader", formgrader, "open nbgrader's formgrader on the course")
    sub.add_argument("lab_args", nargs=argparse.REMAINDER, help="passed on to jupyter lab")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.run(args)
    except MildipError as error:
        log.debug("details:", exc_info=True)
        print(f"mildip {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nmildip {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
