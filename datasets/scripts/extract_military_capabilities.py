"""Build ``datasets/military_capabilities.csv`` from COW's National Material Capabilities v7.0.

Usage::

    python datasets/scripts/extract_military_capabilities.py PATH/TO/cow_nmc.csv

``cow_nmc.csv`` is the Correlates of War National Material Capabilities data set, version
7.0 (state-years 1816-2022), as distributed by the peacesciencer package (without COW's
state abbreviation and version columns). The script keeps the state-years 1946-2022 and
four of the data set's columns: military expenditure, military personnel, total population
and the Composite Index of National Capability. COW's missing-value code -9 becomes an
empty cell. Country names come from ``countries.csv``, joined on the COW code.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1]
OUTPUT = DATASETS / "military_capabilities.csv"
FIRST_YEAR, LAST_YEAR = 1946, 2022
COLUMNS = ["milex", "milper", "tpop", "cinc"]


def number(text: str) -> str:
    """COW's value as written in the tidy CSV: empty if missing, integers without '.0'."""
    if text in ("", "NA", "-9", "-9.0"):
        return ""
    value = float(text)
    if value < 0:
        raise SystemExit(f"unexpected negative value {text!r}")
    return str(int(value)) if value.is_integer() else repr(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nmc", type=Path, help="path to cow_nmc.csv (COW NMC v7.0)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.nmc.is_file():
        raise SystemExit(f"no such file: {args.nmc}")
    crosswalk = DATASETS / "countries.csv"
    if not crosswalk.is_file():
        raise SystemExit(f"the crosswalk {crosswalk} is missing")

    with crosswalk.open(encoding="utf-8") as f:
        names = {int(row["cow_code"]): row["country"] for row in csv.DictReader(f)}

    rows = []
    with args.nmc.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"ccode", "year", *COLUMNS} - set(reader.fieldnames or [])
        if missing:
            raise SystemExit(f"{args.nmc}: columns missing: {', '.join(sorted(missing))}")
        for row in reader:
            code, year = int(float(row["ccode"])), int(float(row["year"]))
            if not FIRST_YEAR <= year <= LAST_YEAR:
                continue
            if code not in names:
                raise SystemExit(f"COW code {code} is not in {crosswalk.name}")
            rows.append({"cow_code": code, "country": names[code], "year": year,
                         **{column: number(row[column]) for column in COLUMNS}})
    if not rows:
        raise SystemExit(f"{args.nmc}: no state-years {FIRST_YEAR}-{LAST_YEAR}")
    rows.sort(key=lambda r: (r["cow_code"], r["year"]))

    with args.output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} state-years to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
