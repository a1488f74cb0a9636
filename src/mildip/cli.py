"""The ``mildip`` command: the instructor's workflow from release to grades.

    mildip release ps1      student version into exercises/release/
    mildip grade ps1        autograde every submission in exercises/submitted/
    mildip scores ps1       points per student and question, as CSV on standard output
"""

from __future__ import annotations

import argparse
import sys

from mildip import grading


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mildip", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in [
        ("release", "generate the student version into exercises/release/"),
        ("grade", "autograde every collected submission"),
        ("scores", "print autograded points per student and question as CSV"),
    ]:
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("assignment", help="assignment name or unique prefix, e.g. ps1")
    args = parser.parse_args(argv)

    try:
        if args.command == "release":
            path = grading.release(args.assignment)
            print(f"released {path.name} into {path}")
        elif args.command == "grade":
            grading.autograde(args.assignment)
            table = grading.scores(args.assignment)
            totals = table.groupby("student")[["auto_score", "max_score"]].sum()
            print(totals.to_string())
        elif args.command == "scores":
            grading.scores(args.assignment).to_csv(sys.stdout, index=False)
    except grading.GradingError as error:
        print(f"mildip {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
