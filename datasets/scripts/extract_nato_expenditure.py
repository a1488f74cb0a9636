"""Build ``datasets/nato_defence_expenditure.csv`` from two NATO releases.

Usage::

    python datasets/scripts/extract_nato_expenditure.py \\
        PATH/TO/240617-def-exp-2024-TABLES-en.xlsx \\
        PATH/TO/nato_def_exp_2026_tables_long.csv

The first file is NATO's own workbook, the tables annex of the press release *Defence
Expenditure of NATO Countries (2014-2024)* of 17 June 2024. The script reads four blocks of it:

- Table 3, "Share of real GDP (%)": defence expenditure as a share of GDP (2015 prices);
- Table 2, "Constant 2015 prices and exchange rates": defence expenditure, million US dollars;
- Table 5, "Constant 2015 prices and exchange rates": GDP, million US dollars;
- Table 8a, "Equipment (a)": major equipment as a share of defence expenditure.

The second file is a transcription of the same four tables of NATO's July 2026 release,
*Defence Investment of NATO Countries (2014-2026)*, made from NATO's workbook
(``def-exp-2026-en.xlsx``) and described in the ``PROVENANCE.md`` beside it. That release
reports "core defence expenditure" in constant 2021 prices; the script keeps its measures
``core_share_gdp``, ``core_usd_2021_m``, ``gdp_usd_2021_m`` and ``equipment_share_pct``.

It writes one row per Ally, year and release. Years that NATO marks as estimates (a header
ending in "e" in 2024: 2023e, 2024e; the transcription's ``estimate`` column: 2025, 2026) are
flagged. Country names are mapped to the course's spelling through ``nato_members.csv``. June
2024 values are rounded as before (shares to four decimals, money to 0.1 million); July 2026
values are kept at the precision of the transcription (shares to two decimals, money in whole
millions).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1]
OUTPUT = DATASETS / "nato_defence_expenditure.csv"

COLUMNS = ["country", "iso3", "year", "release", "estimate", "share_gdp_pct", "expenditure_usd_m",
           "gdp_usd_m", "price_base_year", "equipment_share_pct"]

# The two releases, oldest first: (name in the `release` column, price base of the money columns).
JUNE_2024 = ("June 2024", 2015)
JULY_2026 = ("July 2026", 2021)

# June 2024 workbook: (sheet, label of the block's first row, output column, decimals kept)
BLOCKS = [
    ("TABLE3", "Share of real GDP (%)", "share_gdp_pct", 4),
    ("TABLE2", "Constant 2015 prices and exchange rates", "expenditure_usd_m", 1),
    ("TABLE5", "Constant 2015 prices and exchange rates", "gdp_usd_m", 1),
    ("TABLE8a", "Equipment (a)", "equipment_share_pct", 4),
]

# July 2026 transcription: measure -> (output column, decimals kept)
MEASURES = {
    "core_share_gdp": ("share_gdp_pct", 2),
    "core_usd_2021_m": ("expenditure_usd_m", 0),
    "gdp_usd_2021_m": ("gdp_usd_m", 0),
    "equipment_share_pct": ("equipment_share_pct", 2),
}
YEARS_2026 = range(2014, 2027)

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


def _number(value, decimals):
    return "" if value is None else f"{round(float(value), decimals):.{decimals}f}"


def june_2024_rows(path: Path, iso3: dict) -> list[dict]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    columns, estimates = {}, {}
    for sheet_name, label, column, decimals in BLOCKS:
        block, years = read_block(workbook[sheet_name], label)
        columns[column] = (block, decimals)
        estimates.update(years)

    shares, _ = columns["share_gdp_pct"]
    unknown = sorted(set(shares) - set(iso3))
    if unknown:
        raise SystemExit(f"countries not in nato_members.csv: {', '.join(unknown)}")

    name, price_base = JUNE_2024
    rows = []
    for country in sorted(shares):
        for year in sorted(estimates):
            row = {"country": country, "iso3": iso3[country], "year": year, "release": name,
                   "estimate": "true" if estimates[year] else "false"}
            for column, (block, decimals) in columns.items():
                row[column] = _number(block[country][year], decimals)
            row["price_base_year"] = price_base
            rows.append(row)
    return rows


def july_2026_rows(path: Path, iso3: dict) -> list[dict]:
    name_of = {code: country for country, code in iso3.items()}
    with path.open(encoding="utf-8", newline="") as f:
        records = [r for r in csv.DictReader(f) if r["iso3"] and r["measure"] in MEASURES]
    unknown = sorted({r["iso3"] for r in records} - set(name_of))
    if unknown:
        raise SystemExit(f"ISO codes not in nato_members.csv: {', '.join(unknown)}")

    values: dict = {}
    estimates: dict[int, bool] = {}
    for r in records:
        year = int(r["year"])
        column, decimals = MEASURES[r["measure"]]
        key = (name_of[r["iso3"]], year)
        if column in values.setdefault(key, {}):
            raise SystemExit(f"two values for {key} {r['measure']} in {path.name}")
        values[key][column] = _number(r["value"], decimals)
        flag = r["estimate"].strip().lower() == "true"
        if estimates.setdefault(year, flag) != flag:
            raise SystemExit(f"{path.name}: {year} is an estimate in some rows only")

    countries = sorted({country for country, _ in values})
    expected = {(c, y) for c in countries for y in YEARS_2026}
    incomplete = sorted(k for k in expected if len(values.get(k, {})) != len(MEASURES))
    if incomplete or set(values) != expected:
        raise SystemExit(f"{path.name}: missing values for {incomplete[:5] or sorted(set(values) - expected)[:5]}")

    name, price_base = JULY_2026
    rows = []
    for country, year in sorted(values):
        rows.append({"country": country, "iso3": iso3[country], "year": year, "release": name,
                     "estimate": "true" if estimates[year] else "false", **values[country, year],
                     "price_base_year": price_base})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path, help="path to 240617-def-exp-2024-TABLES-en.xlsx (June 2024 release)")
    parser.add_argument("transcription", type=Path, help="path to nato_def_exp_2026_tables_long.csv (July 2026 release)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    for path in (args.workbook, args.transcription):
        if not path.is_file():
            raise SystemExit(f"no such file: {path}")

    with (DATASETS / "nato_members.csv").open(encoding="utf-8") as f:
        iso3 = {row["country"]: row["iso3"] for row in csv.DictReader(f)}

    rows = june_2024_rows(args.workbook, iso3) + july_2026_rows(args.transcription, iso3)
    with args.output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    for name, _ in (JUNE_2024, JULY_2026):
        allies = {r["country"] for r in rows if r["release"] == name}
        print(f"{name}: {sum(r['release'] == name for r in rows)} rows for {len(allies)} Allies")
    print(f"wrote {len(rows)} rows to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
