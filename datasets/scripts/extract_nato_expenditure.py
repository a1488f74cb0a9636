"""Build ``datasets/nato_defence_expenditure.csv`` from NATO's official workbook.

Usage::

    python datasets/scripts/extract_nato_expenditure.py PATH/TO/240617-def-exp-2024-TABLES-en.xlsx

The workbook is the tables annex of NATO's press release *Defence Expenditure of NATO
Countries (2014-2024)* of 17 June 2024. The script reads four blocks of it and writes one
tidy row per Ally and year:

- Table 3, "Share of real GDP (%)": defence expenditure as a share of GDP (2015 prices);
- Table 2, "Constant 2015 prices and exchange rates": defence expenditure, million US dollars;
- Table 5, "Constant 2015 prices and exchange rates": GDP, million US dollars;
- Table 8a, "Equipment (a)": major equipment as a share of defence expenditure.

Years whose column header carries NATO's "e" suffix (2023e, 2024e) are flagged as estimates.
Country names are mapped to the course's spelling through ``nato_members.csv``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import openpyxl

DATASETS = Path(__file__).resolve().parents[1]
OUTPUT = DATASETS / "nato_defence_expenditure.csv"
RELEASE = "Defence Expenditure of NATO Countries (2014-2024), NATO, 17 June 2024"

# (sheet, label of the block's first row, output column, decimals kept)
BLOCKS = [
    ("TABLE3", "Share of real GDP (%)", "share_gdp_pct", 4),
    ("TABLE2", "Constant 2015 prices and exchange rates", "expenditure_usd_m", 1),
    ("TABLE5", "Constant 2015 prices and exchange rates", "gdp_usd_m", 1),
    ("TABLE8a", "Equipment (a)", "equipment_share_pct", 4),
]

# NATO's table names that differ from the course's country names.
NAME_FIXES = {"Slovak Republic": "Slovakia"}


def _cells(row):
    return [value for value in row if value is not None]


def read_block(sheet, label):
    """Return ({country: {year: value}}, {year: is_estimate}) for one labelled block."""
    years: dict[int, bool] = {}
    block: dict[str, dict[int, float]] = {}
    inside = False
    for row in sheet.iter_rows(values_only=True):
        cells = _cells(row)
        if not cells:
            if inside and block:
                break
            continue
        if not years and all(isinstance(c, (int, str)) and str(c).rstrip("e").isdigit() for c in cells):
            years = {int(str(c).rstrip("e")): str(c).endswith("e") for c in cells}
            year_columns = [i for i, value in enumerate(row) if value is not None]
            continue
        if cells == [label]:
            inside = True
            continue
        if inside:
            name = cells[0]
            if not isinstance(name, str) or name.startswith(("NATO", "Notes")) or len(cells) == 1:
                break
            name = NAME_FIXES.get(name.rstrip("* ").strip(), name.rstrip("* ").strip())
            values = [row[i] for i in year_columns]
            block[name] = dict(zip(years, values))
    if not block:
        raise SystemExit(f"{sheet.title}: block {label!r} not found; is this the June 2024 workbook?")
    return block, years


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path, help="path to 240617-def-exp-2024-TABLES-en.xlsx")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.workbook.is_file():
        raise SystemExit(f"no such workbook: {args.workbook}")

    with (DATASETS / "nato_members.csv").open(encoding="utf-8") as f:
        iso3 = {row["country"]: row["iso3"] for row in csv.DictReader(f)}

    workbook = openpyxl.load_workbook(args.workbook, read_only=True, data_only=True)
    columns, estimates = {}, {}
    for sheet_name, label, column, decimals in BLOCKS:
        block, years = read_block(workbook[sheet_name], label)
        columns[column] = (block, decimals)
        estimates.update(years)

    shares, _ = columns["share_gdp_pct"]
    unknown = sorted(set(shares) - set(iso3))
    if unknown:
        raise SystemExit(f"countries not in nato_members.csv: {', '.join(unknown)}")

    rows = []
    for country in sorted(shares):
        for year in sorted(estimates):
            row = {"country": country, "iso3": iso3[country], "year": year}
            for column, (block, decimals) in columns.items():
                value = block[country][year]
                row[column] = "" if value is None else f"{round(float(value), decimals):.{decimals}f}"
            row["estimate"] = "true" if estimates[year] else "false"
            row["release"] = RELEASE
            rows.append(row)

    with args.output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows for {len(shares)} Allies to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
