"""Build ``datasets/alliance_dyads.csv.gz`` from ATOP 5.1 directed dyad-year data.

Usage::

    python datasets/scripts/extract_alliance_dyads.py PATH/TO/atop_alliance.csv.gz

``atop_alliance.csv.gz`` holds ATOP 5.1's directed dyad-year file (atop5_1ddyr) as
distributed by the peacesciencer package: one row per ordered pair of states and year, with
five 0/1 indicators of the obligations the first state has undertaken towards the second
(defense, offense, neutrality, non-aggression, consultation). The script keeps the years
1946-2018 and folds each pair of directed rows into one non-directed row (lower COW code
first): an obligation is true if either state has undertaken it towards the other. Dyad-
years with none of the five obligations are left out. Country names come from
``countries.csv``. The output is gzip-compressed with a zero timestamp, so that the same
input always gives the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1]
OUTPUT = DATASETS / "alliance_dyads.csv.gz"
FIRST_YEAR, LAST_YEAR = 1946, 2018
# ATOP's indicator (as named by peacesciencer) -> column of the tidy file
OBLIGATIONS = {
    "atop_defense": "defense",
    "atop_offense": "offense",
    "atop_neutral": "neutrality",
    "atop_nonagg": "nonaggression",
    "atop_consul": "consultation",
}


def flag(text: str) -> bool:
    value = float(text)
    if value not in (0.0, 1.0):
        raise SystemExit(f"unexpected indicator value {text!r}")
    return value == 1.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("atop", type=Path, help="path to atop_alliance.csv.gz (ATOP 5.1, directed dyad-years)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.atop.is_file():
        raise SystemExit(f"no such file: {args.atop}")
    crosswalk = DATASETS / "countries.csv"
    if not crosswalk.is_file():
        raise SystemExit(f"the crosswalk {crosswalk} is missing")

    with crosswalk.open(encoding="utf-8") as f:
        names = {int(row["cow_code"]): row["country"] for row in csv.DictReader(f)}

    dyads: dict[tuple[int, int, int], list[bool]] = {}
    opener = gzip.open if args.atop.suffix == ".gz" else open
    with opener(args.atop, "rt", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"ccode1", "ccode2", "year", *OBLIGATIONS} - set(reader.fieldnames or [])
        if missing:
            raise SystemExit(f"{args.atop}: columns missing: {', '.join(sorted(missing))}")
        for row in reader:
            year = int(float(row["year"]))
            if not FIRST_YEAR <= year <= LAST_YEAR:
                continue
            a, b = int(float(row["ccode1"])), int(float(row["ccode2"]))
            for code in (a, b):
                if code not in names:
                    raise SystemExit(f"COW code {code} is not in {crosswalk.name}")
            key = (min(a, b), max(a, b), year)
            flags = [flag(row[column]) for column in OBLIGATIONS]
            known = dyads.setdefault(key, [False] * len(flags))
            dyads[key] = [x or y for x, y in zip(known, flags)]

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["cow_code1", "cow_code2", "year", "country1", "country2", *OBLIGATIONS.values()])
    count = 0
    for (code1, code2, year), flags in sorted(dyads.items()):
        if not any(flags):
            continue
        writer.writerow([code1, code2, year, names[code1], names[code2],
                         *("true" if x else "false" for x in flags)])
        count += 1
    if not count:
        raise SystemExit(f"{args.atop}: no dyad-years {FIRST_YEAR}-{LAST_YEAR}")

    with args.output.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
        f.write(text.getvalue().encode("utf-8"))
    print(f"wrote {count} dyad-years to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
