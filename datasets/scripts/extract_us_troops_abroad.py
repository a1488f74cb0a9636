"""Build ``datasets/us_troops_abroad.csv`` from the troopdata transcription of the DMDC reports.

Usage::

    python datasets/scripts/extract_us_troops_abroad.py PATH/TO/troopdata-rebuild-country-year.csv

The country-year file of the troopdata project (Allen, Flynn, Machain & Stravers) gives one
row per host and year of US active-duty military personnel, transcribed from the Defense
Manpower Data Center's reports of personnel by location. Its companion file,
``troopdata-rebuild-reports.csv`` (read from the same folder unless ``--reports`` names it),
has one row per location and report. The script writes one row per host other than the
United States and year:

- ``troops`` is the country-year file's ``troops_ad``;
- ``report`` names the DMDC report (``source`` in the reports file, e.g. "September 1995")
  whose figure for that host and year equals ``troops``; it is empty where no report row
  matches, or where reports with different dates match equally well;
- ``army``, ``navy``, ``marine_corps`` and ``air_force`` are taken from that report row, and are
  empty where ``report`` is.

Years that the reports file covers but the country-year file does not yet (2025 in the files
of troopdata's commit of 2 June 2026) are taken from the last report of the year (December
2025): ``troops`` is that report's total active duty (``troops_ad``), and ``report`` names it
on every row of the year.

Host-years with a total of zero are left out. Codes follow the course's
crosswalk ``countries.csv``: COW codes with the German Federal Republic (260) to 1990, the
Yemen Arab Republic (678) before 1990 and the Republic of Vietnam (817) for 1954-1975.
Territories, Indo-China before 1954 and the Holy See keep the source's name and no codes.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1]
OUTPUT = DATASETS / "us_troops_abroad.csv"
REPORTS = "troopdata-rebuild-reports.csv"

BRANCHES = ["army", "navy", "marine_corps", "air_force"]
# Service columns of a report row: the troopdata names up to 2007, the DMDC workbook
# headings from September 2008 (troopdata's own navy_ad is 0 outside the US from then on).
REPORT_BRANCHES_TO_2007 = ["army_ad", "navy_ad", "marine_corps_ad", "air_force_ad"]
REPORT_BRANCHES_FROM_2008 = [
    "Army Active Duty",
    "Navy Active Duty",
    "Marine Corps Active Duty",
    "Air Force Active Duty",
]
COLUMNS = ["iso3", "cow_code", "host_country", "year", "troops", *BRANCHES, "report"]

# Hosts without a state code: the source's name is kept.
NO_CODE_NAMES = {327: "Vatican City"}
# Names the country-year file cuts short.
NAME_FIXES = {"Eniwetok (J.T.F. 7": "Eniwetok (J.T.F. 7)"}
# Names of the reports file that the country-year file spells otherwise.
REPORT_NAME_FIXES = {"Virgin Islands, U.s.": "US Virgin Islands"}
MONTHS = ["March", "June", "September", "December"]
INDOCHINA = "Indo-China"


def _number(value: str):
    value = (value or "").strip()
    if value in ("", "NA"):
        return None
    return int(round(float(value)))


def cow_code(ccode: int, year: int):
    """COW code of the host, or None for territories and places that were not states."""
    if ccode == 6 or ccode >= 1000 or ccode in NO_CODE_NAMES:
        return None
    if ccode == 255 and year <= 1990:
        return 260  # the September reports predate unification on 3 October 1990
    if ccode == 260 and year > 1990:
        return 255  # the reports file keeps 260 for Germany after unification
    if ccode == 340:
        return 345  # the reports file's Serbia; COW (and the country-year file) code it 345
    if ccode in (816, 817):
        if year < 1954:
            return None
        return 817 if year <= 1975 else 816
    if ccode == 679 and year < 1990:
        return 678
    return ccode


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def index_reports(rows: list[dict]) -> dict:
    """Report rows by (year, troops_ad)."""
    index: dict = {}
    for row in rows:
        troops = _number(row["troops_ad"])
        if troops is None or row["ccode"] == "2":
            continue
        index.setdefault((int(row["year"]), troops), []).append(row)
    return index


def report_branches(row: dict, year: int) -> list:
    columns = REPORT_BRANCHES_FROM_2008 if year >= 2008 else REPORT_BRANCHES_TO_2007
    return [_number(row.get(column, "")) for column in columns]


def match_report(host: dict, year: int, troops: int, index: dict):
    """The report row whose figure for this host and year is ``troops`` (None if not one)."""
    iso3c = host["iso3c"] if host["iso3c"] not in ("", "NA") else None
    candidates = [
        row
        for row in index.get((year, troops), [])
        if row["ccode"] == host["ccode"] or (iso3c and row["iso3c"] == iso3c)
    ]
    sources = {row["source"] for row in candidates}
    if len(sources) > 1:
        # Reports of several dates print the same total: keep those whose services match too.
        wanted = [_number(host[f"{b}_ad"]) for b in BRANCHES]
        candidates = [row for row in candidates if report_branches(row, year) == wanted]
        sources = {row["source"] for row in candidates}
    if len(sources) != 1:
        return None
    return candidates[0]


def host_row(ccode: int, year: int, source_name: str, crosswalk: dict) -> dict:
    """Codes and the course's name for a host."""
    code = cow_code(ccode, year)
    if code is None:
        source_name = NAME_FIXES.get(source_name, source_name)
        name = NO_CODE_NAMES.get(ccode, INDOCHINA if ccode in (816, 817) else source_name)
        return {"iso3": "", "cow_code": "", "host_country": name}
    if code not in crosswalk:
        raise SystemExit(f"COW code {code} ({source_name}) is not in countries.csv")
    return {"iso3": crosswalk[code]["iso3"], "cow_code": str(code), "host_country": crosswalk[code]["country"]}


def latest_report_rows(reports: list[dict], after: int, crosswalk: dict) -> list[dict]:
    """Rows for the years after ``after``, each from the last report of its year."""
    out = []
    for year in sorted({int(r["year"]) for r in reports if int(r["year"]) > after}):
        in_year = [r for r in reports if int(r["year"]) == year and r["ccode"] != "2"]
        last = max((MONTHS.index(r["month"]), r["source"]) for r in in_year)[1]
        for row in (r for r in in_year if r["source"] == last):
            troops = _number(row["troops_ad"])
            if not troops:
                continue
            name = REPORT_NAME_FIXES.get(row["countryname"], row["countryname"])
            branches = report_branches(row, year)
            out.append({
                **host_row(int(row["ccode"]), year, name, crosswalk),
                "year": str(year),
                "troops": str(troops),
                **{b: "" if v is None else str(v) for b, v in zip(BRANCHES, branches)},
                "report": last,
            })
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("country_year", type=Path, help="path to troopdata-rebuild-country-year.csv")
    parser.add_argument("--reports", type=Path, help=f"path to {REPORTS} (default: beside country_year)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.country_year.is_file():
        raise SystemExit(f"no such file: {args.country_year}")
    reports_path = args.reports or args.country_year.with_name(REPORTS)
    if not reports_path.is_file():
        raise SystemExit(f"no such file: {reports_path}")
    crosswalk_path = DATASETS / "countries.csv"
    if not crosswalk_path.is_file():
        raise SystemExit(f"the crosswalk {crosswalk_path} is missing")

    crosswalk = {int(row["cow_code"]): row for row in read_csv(crosswalk_path)}
    reports = read_csv(reports_path)
    index = index_reports(reports)

    out = []
    last_year = 0
    for host in read_csv(args.country_year):
        ccode, year = int(host["ccode"]), int(host["year"])
        last_year = max(last_year, year)
        if ccode == 2 or year < 1950:
            continue
        troops = _number(host["troops_ad"])
        if not troops:
            continue
        match = match_report(host, year, troops, index)
        branches = report_branches(match, year) if match else [None] * len(BRANCHES)
        out.append({
            **host_row(ccode, year, host["countryname"], crosswalk),
            "year": str(year),
            "troops": str(troops),
            **{b: "" if v is None else str(v) for b, v in zip(BRANCHES, branches)},
            "report": match["source"] if match else "",
        })

    out += latest_report_rows(reports, last_year, crosswalk)
    out.sort(key=lambda row: (row["host_country"], int(row["year"])))
    keys = [(row["host_country"], row["year"]) for row in out]
    if len(set(keys)) != len(keys):
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        raise SystemExit(f"more than one row for: {duplicates[:10]}")

    with args.output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)
    hosts = len({row["host_country"] for row in out})
    print(f"wrote {len(out)} rows for {hosts} hosts to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
