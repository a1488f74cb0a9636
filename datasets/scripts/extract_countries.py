"""Build ``datasets/countries.csv``, the course's crosswalk of state codes and names.

Usage::

    python datasets/scripts/extract_countries.py PATH/TO/cow_states.csv PATH/TO/troopdata-rebuild-country-year.csv

``cow_states.csv`` is the Correlates of War State System Membership List (v2016), one row
per spell of statehood, as distributed by the peacesciencer package. The script writes one
row per COW state code with COW's abbreviation and name, a short English name, and the
state's ISO 3166-1 alpha-3 code.

ISO codes come from the pairs (``ccode``, ``iso3c``) of the troopdata country-year file,
which were assigned with the countrycode package, corrected and completed by ``ISO3_FIXES``.
Country names are COW's names, replaced by ``NAMES`` where COW's name is not the short
common English name, and by the names in ``nato_members.csv`` for NATO members.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1]
OUTPUT = DATASETS / "countries.csv"

# ISO 3166-1 alpha-3 codes that differ from, or are missing in, the troopdata pairs.
# None means the state has no ISO 3166-1 code of its own.
ISO3_FIXES = {
    255: "DEU",  # Germany (to 1945 and from 3 October 1990)
    260: None,  # German Federal Republic, 1955-1990: DEU goes to 255 only
    265: None,  # German Democratic Republic
    300: None,  # Austria-Hungary
    315: None,  # Czechoslovakia
    316: "CZE",  # Czechia
    327: None,  # Papal States, 1816-1870 (not the Vatican City State)
    345: None,  # Yugoslavia; COW continues the code for Serbia and Montenegro and Serbia
    347: None,  # Kosovo has no ISO 3166-1 code
    511: None,  # Zanzibar
    678: None,  # Yemen Arab Republic
    680: None,  # Yemen People's Republic
    730: None,  # Korea, 1887-1905
    817: None,  # Republic of Vietnam
}

# Short English names where COW's name is not the one the course uses.
NAMES = {
    2: "United States",
    56: "Saint Lucia",
    57: "Saint Vincent and the Grenadines",
    58: "Antigua and Barbuda",
    60: "Saint Kitts and Nevis",
    271: "Württemberg",
    280: "Mecklenburg-Schwerin",
    402: "Cabo Verde",
    437: "Côte d'Ivoire",
    484: "Republic of the Congo",
    572: "Eswatini",
    860: "Timor-Leste",
    987: "Micronesia",
}


def read_states(path: Path) -> dict[int, dict[str, str]]:
    """One entry per COW code: abbreviation and name (identical across a state's spells)."""
    states: dict[int, dict[str, str]] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = int(float(row["ccode"]))
            entry = {"stateabb": row["stateabb"], "cow_name": row["statenme"]}
            if states.setdefault(code, entry) != entry:
                raise SystemExit(f"{path}: code {code} has more than one abbreviation or name")
    if not states:
        raise SystemExit(f"{path}: no states found; is this COW's state list?")
    return states


def read_iso3(path: Path) -> dict[int, str]:
    """The (COW code, ISO3) pairs of the troopdata country-year file."""
    pairs: dict[int, set[str]] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["iso3c"] not in ("", "NA"):
                pairs.setdefault(int(row["ccode"]), set()).add(row["iso3c"])
    ambiguous = {code: codes for code, codes in pairs.items() if len(codes) > 1}
    if ambiguous:
        raise SystemExit(f"{path}: codes with more than one ISO3 code: {ambiguous}")
    return {code: codes.pop() for code, codes in pairs.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("states", type=Path, help="path to COW's cow_states.csv")
    parser.add_argument("troopdata", type=Path, help="path to troopdata-rebuild-country-year.csv")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    for path in (args.states, args.troopdata):
        if not path.is_file():
            raise SystemExit(f"no such file: {path}")

    states = read_states(args.states)
    iso3 = read_iso3(args.troopdata)
    iso3.update(ISO3_FIXES)
    with (DATASETS / "nato_members.csv").open(encoding="utf-8") as f:
        nato_names = {row["iso3"]: row["country"] for row in csv.DictReader(f)}

    rows = []
    for code in sorted(states):
        iso = iso3.get(code) or ""
        name = nato_names.get(iso) or NAMES.get(code) or states[code]["cow_name"]
        rows.append({"cow_code": code, "stateabb": states[code]["stateabb"], "country": name,
                     "iso3": iso, "cow_name": states[code]["cow_name"]})

    missing = sorted(set(nato_names) - {row["iso3"] for row in rows})
    if missing:
        raise SystemExit(f"NATO members without a COW code: {', '.join(missing)}")
    for column in ("iso3", "country"):
        seen = [row[column] for row in rows if row[column]]
        doubled = sorted({value for value in seen if seen.count(value) > 1})
        if doubled:
            raise SystemExit(f"{column} used by more than one code: {', '.join(doubled)}")

    with args.output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} states to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
