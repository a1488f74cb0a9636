"""Build ``datasets/us_bases_abroad.csv`` from troopdata's copy of David Vine's list of US bases abroad.

Usage::

    python datasets/scripts/extract_us_bases_abroad.py PATH/TO/basedata.csv

``basedata.csv`` (troopdata, ``data-raw``) lists US military sites abroad as compiled by David
Vine (*Base Nation*, 2015) and updated by the troopdata authors to 2018, with three 0/1
indicators: ``base``, ``lilypad`` and ``fundedsite``. They are not mutually exclusive (one
site is both a lily pad and a funded site), so the script keeps them as three booleans.

The file is encoded in Windows-1252; the output is UTF-8. Base names lose the tab
characters of the source (and a country name that follows a tab). ``site_id`` is the row's
number in the source file (1 for its first site); a row that repeats an earlier one in every
column is kept once. Codes and names follow the course crosswalk ``countries.csv``; sites in
dependent territories and in Antarctica keep the source's place name and have no codes.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1]
OUTPUT = DATASETS / "us_bases_abroad.csv"
COLUMNS = ["site_id", "iso3", "cow_code", "host_country", "base_name", "lat", "lon", "base", "lily_pad", "funded_site"]

# Places the source files under their sovereign's code (or the US's, 2) that are kept apart.
TERRITORIES = {
    "American Samoa", "Guam", "Johnston Atoll", "Northern Mariana Islands", "Puerto Rico",
    "Virgin Islands", "Wake Island", "Ascension Island", "BR Indian Ocean Territory", "Aruba",
    "Netherlands Antilles", "Greenland", "Hong Kong", "Antarctica",
}
TERRITORY_NAMES = {"BR Indian Ocean Territory": "British Indian Ocean Territory", "Virgin Islands": "US Virgin Islands"}
# Dungu lies in the Democratic Republic of the Congo, as the source's country name and
# coordinates say; the source's code, 484, is the Republic of the Congo's.
CODE_FIXES = {("Congo, Democratic Republic", "484"): 490}
# Country names printed after a tab inside a base name.
TRAILING_COUNTRIES = {"Cuba", "Kenya", "South Korea"}


def clean_name(name: str) -> str:
    head, _, tail = name.partition("\t")
    if tail.strip() in TRAILING_COUNTRIES:
        tail = ""
    return re.sub(r"\s+", " ", f"{head} {tail}").strip()


def coordinate(value: str) -> str:
    value = value.strip()
    return "" if value in ("", "NA") else f"{float(value):.6f}"


def flag(value: str) -> str:
    return {"1": "true", "0": "false"}[value.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("basedata", type=Path, help="path to troopdata's basedata.csv")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.basedata.is_file():
        raise SystemExit(f"no such file: {args.basedata}")
    crosswalk_path = DATASETS / "countries.csv"
    if not crosswalk_path.is_file():
        raise SystemExit(f"the crosswalk {crosswalk_path} is missing")
    with crosswalk_path.open(encoding="utf-8", newline="") as f:
        crosswalk = {int(row["cow_code"]): row for row in csv.DictReader(f)}

    with args.basedata.open(encoding="cp1252", newline="") as f:
        source = list(csv.DictReader(f))

    rows, seen = [], set()
    for number_in_file, site in enumerate(source, start=1):
        place = site["countryname"].strip()
        if place in TERRITORIES:
            iso3, code, host = "", "", TERRITORY_NAMES.get(place, place)
        else:
            number = CODE_FIXES.get((place, site["ccode"]), int(site["ccode"]))
            if number not in crosswalk:
                raise SystemExit(f"COW code {number} ({place}) is not in countries.csv")
            iso3, code, host = crosswalk[number]["iso3"], str(number), crosswalk[number]["country"]
        row = {
            "site_id": str(number_in_file),
            "iso3": iso3,
            "cow_code": code,
            "host_country": host,
            "base_name": clean_name(site["basename"]),
            "lat": coordinate(site["lat"]),
            "lon": coordinate(site["lon"]),
            "base": flag(site["base"]),
            "lily_pad": flag(site["lilypad"]),
            "funded_site": flag(site["fundedsite"]),
        }
        key = tuple(value for column, value in row.items() if column != "site_id")
        if key in seen:
            continue
        seen.add(key)
        rows.append(row)


    with args.output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} sites in {len({r['host_country'] for r in rows})} hosts to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
