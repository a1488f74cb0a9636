"""The mildip command: the instructor's workflow, from release to grades.

  mildip release ps1          the student version into release/
  mildip collect ps1 PATH     a folder or Canvas/Moodle zip of submissions into submitted/
  mildip collect ps1          on a class hub: the latest submissions from the exchange
  mildip grade ps1            autograde every collected submission, in parallel and sandboxed
  mildip feedback ps1         feedback HTML per student into feedback/
  mildip export               grades/grades.csv: a row per student, a column per assignment
  mildip export --lms canvas  a file Canvas's gradebook import takes as it is (--lms moodle: Moodle's)
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
#: What only the grading extra installs (``pip install 'mildip[grading]'``).
GRADING_NEEDS = {"nbgrader", "nbconvert", "jupyter_client", "jupyter_core", "ipykernel", "zmq", "traitlets",
                 "sqlalchemy", "nbformat"}


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
    print("\n".join(grade_table(course, course.resolve(args.assignment), results)))
    return 0


def grade_table(course, assignment: str, results) -> list[str]:
    """The table `mildip grade` prints: each notebook's status and its current total in the
    gradebook (manual grades included), whether or not this run graded it."""
    from mildip.grading.collect import submissions
    from mildip.grading.gradebook import totals
    from mildip.grading.results import report_path

    current = totals(course, assignment) if results else {}
    collected = submissions(course, assignment)
    width = max([len(r.student) for r in results] + [7])
    lines = [f"{'student':<{width}}  {'status':<16} {'score':>11}  reason"]
    waiting = 0
    for r in results:
        now = current.get((r.student, r.notebook)) if r.status.recorded else None
        score = f"{now['score']:g}/{now['max_score']:g}" if now else "-"
        reason = [r.reason]
        if now and now["penalty"]:
            reason.append(f"late penalty {now['penalty']:g}")
        if now and now["waiting"]:
            reason.append("written answers to grade")
            waiting += 1
        if collected.get(r.student, {}).get("late") == "yes" and not r.late_seconds:
            reason.append("marked late by the LMS")
        lines.append(f"{r.student:<{width}}  {r.status.value:<16} {score:>11}  {'; '.join(reason)}")
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    lines.append(f"{len(results)} notebook(s): {summary}. Report: {report_path(course.grades_dir, assignment)}")
    if waiting:
        lines.append(f"{waiting} notebook(s) have written answers to grade by hand (mildip formgrader).")
    from mildip.grading.sandbox import limits_in_force

    lines.append(f"Limits: {limits_in_force()}.")
    return lines


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
    report = run(_course(args), args.assignment, args.path, roster=args.roster)
    print("\n".join(report.lines()))
    return 0 if report.placed else 1


def feedback(args) -> int:
    from mildip.grading.feedback import feedback as run

    course = _course(args)
    written = run(course, args.assignment)
    print("\n".join(written.lines()))
    from mildip.grading import exchange

    if exchange.configured(course):  # a class hub: students fetch it from the exchange
        print(exchange.return_feedback(course, args.assignment))
    return 0


def export(args) -> int:
    from mildip.grading import export as exports

    course = _course(args)
    if args.lms == "canvas":
        print("\n".join(exports.export_canvas(course, roster=args.roster, output=args.output).lines()))
    elif args.lms == "moodle":
        print("\n".join(exports.export_moodle(course, args.assignment, roster=args.roster, output=args.output).lines()))
    else:
        print(f"grade sheet written to {exports.export(course, output=args.output, roster=args.roster, statuses=args.status)}")
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
                     help="a folder or a .zip downloaded from Canvas or Moodle (none: the class hub's exchange)")
    sub.add_argument("--roster", type=Path, default=None,
                     help="a Canvas gradebook export or Moodle grading worksheet, for the students' names")
    sub = command("feedback", feedback, "feedback HTML per student into feedback/")
    sub.add_argument("assignment")
    sub = command("export", export, "grades for the LMS, or one CSV with a row per student")
    sub.add_argument("--lms", choices=["canvas", "moodle"], default=None,
                     help="write Canvas's gradebook import file (grades/canvas-grades.csv) or Moodle's grading "
                          "worksheets (grades/moodle-<assignment>.csv) instead of grades/grades.csv")
    sub.add_argument("--roster", type=Path, default=None,
                     help="the LMS's own file to match students by id: a Canvas gradebook export, a Moodle "
                          "grading worksheet; for the plain CSV, any CSV with a 'student' column")
    sub.add_argument("--assignment", default=None, help="with --lms moodle: only this assignment")
    sub.add_argument("--status", action="store_true",
                     help="plain CSV: add a status column after each assignment (graded, needs manual grading...)")
    sub.add_argument("--output", type=Path, default=None, help="where to write (default: in grades/)")
    sub = command("report", report, "HTML item analysis of an assignment's questions")
    sub.add_argument("assignment")
    sub = command("scores", scores, "print points per student and question as CSV")
    sub.add_argument("assignment")
    command("formgrader", formgrader, "open nbgrader's formgrader on the course (other options go to jupyter lab)")
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args, extra = top.parse_known_args(argv)
    if extra and args.command != "formgrader":
        top.error(f"unrecognized arguments: {' '.join(extra)}")
    args.lab_args = extra
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
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in GRADING_NEEDS:
            print(f"mildip {args.command}: the instructor's commands need the grading tools: "
                  "pip install 'mildip[grading]'", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
