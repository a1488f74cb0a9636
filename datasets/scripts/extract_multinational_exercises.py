"""Build ``datasets/multinational_exercises.csv`` from the Multinational Military Exercises data, v7.

Usage::

    python datasets/scripts/extract_multinational_exercises.py PATH/TO/mme_v7.csv

The source is the Multinational Military Exercises (MME) data set, version 7, by Vito D'Orazio
and Kevin Galambos (Harvard Dataverse, doi:10.7910/DVN/KHFODX): one row per exercise, 1980-2010,
with the participating states in up to 39 columns (StateA, StateB, ... StateAM). This script
writes one tidy row per exercise; ``extract_exercise_participants.py`` writes the participants
(one row per exercise and state) from the same file, with the same name-to-code table.

Conventions applied to the source:

- "-9" marks a missing value (exercise name, location, focus, or an unidentified participant).
  Missing text becomes an empty cell; unidentified participants are not counted.
- Dates: the source gives year, month and day separately, with "xx" where the day is unknown.
  ``start_date``/``end_date`` are filled only when the day is known.
- Three MMEIDs (mme3457, mme3458, mme3460) are used twice in the source for different exercises;
  those six rows get the start year appended (e.g. ``mme3457-1996``) so that every exercise has
  its own key.
- Participant names are mapped to Correlates of War state numbers by ``PARTICIPANT_CODES``.
  Entries that are not states (NATO, "Baltic States", dependent territories) are left out and
  flag the exercise in ``unidentified_participants``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1]
OUTPUT = DATASETS / "multinational_exercises.csv"
MISSING = "-9"

# Participant names as the source spells them -> COW state number. The source uses
# "Russia" for the Soviet Union before 1992 as well; COW gives both the number 365.
# "Federal Republic of Germany" (1980-1990) is the German Federal Republic (260),
# "Germany" (1991-) is 255; "Serbia" (2000-2010) and "Yugoslavia" (2004) are 345.
PARTICIPANT_CODES = {
    "Afghanistan": 700, "Albania": 339, "Algeria": 615, "Angola": 540,
    "Antigua & Barbuda": 58, "Argentina": 160, "Armenia": 371, "Australia": 900,
    "Austria": 305, "Azerbaijan": 373, "Bahamas": 31, "Bahrain": 692,
    "Bangladesh": 771, "Barbados": 53, "Belarus": 370, "Belgium": 211, "Belize": 80,
    "Benin": 434, "Bolivia": 145, "Bosnia & Herzegovina": 346, "Botswana": 571,
    "Brazil": 140, "Brunei": 835, "Bulgaria": 355, "Burkina Faso": 439, "Burundi": 516,
    "Cambodia": 811, "Cameroon": 471, "Canada": 20, "Cape Verde": 402,
    "Central African Republic": 482, "Chad": 483, "Chile": 155, "China": 710,
    "Colombia": 100, "Comoros": 581, "Congo - Brazzaville": 484, "Congo - Kinshasa": 490,
    "Costa Rica": 94, "Côte d’Ivoire": 437, "Croatia": 344, "Cuba": 40, "Cyprus": 352,
    "Czechia": 316, "Czechoslovakia": 315, "Denmark": 390, "Djibouti": 522,
    "Dominica": 54, "Dominican Republic": 42, "Ecuador": 130, "Egypt": 651,
    "El Salvador": 92, "Equatorial Guinea": 411, "Estonia": 366, "Eswatini": 572,
    "Ethiopia": 530, "Federal Republic of Germany": 260, "Fiji": 950, "Finland": 375,
    "France": 220, "Gabon": 481, "Gambia": 420, "Georgia": 372,
    "German Democratic Republic": 265, "Germany": 255, "Ghana": 452, "Greece": 350,
    "Grenada": 55, "Guatemala": 90, "Guinea": 438, "Guinea-Bissau": 404, "Guyana": 110,
    "Haiti": 41, "Honduras": 91, "Hungary": 310, "Iceland": 395, "India": 750,
    "Indonesia": 850, "Iran": 630, "Iraq": 645, "Ireland": 205, "Israel": 666,
    "Italy": 325, "Jamaica": 51, "Japan": 740, "Jordan": 663, "Kazakhstan": 705,
    "Kenya": 501, "Kuwait": 690, "Kyrgyzstan": 703, "Laos": 812, "Latvia": 367,
    "Lebanon": 660, "Lesotho": 570, "Liberia": 450, "Libya": 620, "Lithuania": 368,
    "Luxembourg": 212, "Madagascar": 580, "Malawi": 553, "Malaysia": 820,
    "Maldives": 781, "Mali": 432, "Malta": 338, "Mauritania": 435, "Mauritius": 590,
    "Mexico": 70, "Moldova": 359, "Mongolia": 712, "Montenegro": 341, "Morocco": 600,
    "Mozambique": 541, "Myanmar (Burma)": 775, "Namibia": 565, "Nepal": 790,
    "Netherlands": 210, "New Zealand": 920, "Nicaragua": 93, "Niger": 436,
    "Nigeria": 475, "North Korea": 731, "North Macedonia": 343, "Norway": 385,
    "Oman": 698, "Pakistan": 770, "Palau": 986, "Panama": 95, "Papua New Guinea": 910,
    "Paraguay": 150, "Peru": 135, "Philippines": 840, "Poland": 290, "Portugal": 235,
    "Qatar": 694, "Romania": 360, "Russia": 365, "Rwanda": 517, "Saudi Arabia": 670,
    "Senegal": 433, "Serbia": 345, "Seychelles": 591, "Sierra Leone": 451,
    "Singapore": 830, "Slovakia": 317, "Slovenia": 349, "Solomon Islands": 940,
    "Somalia": 520, "South Africa": 560, "South Korea": 732, "South Sudan": 626,
    "Spain": 230, "Sri Lanka": 780, "St. Kitts & Nevis": 60, "st. christopher": 60,
    "St. Lucia": 56, "St. Vincent & Grenadines": 57, "Sudan": 625, "Suriname": 115,
    "Sweden": 380, "Switzerland": 225, "Syria": 652, "São Tomé & Príncipe": 403,
    "Taiwan": 713, "Tajikistan": 702, "Tanzania": 510, "Thailand": 800,
    "Timor-Leste": 860, "Togo": 461, "Tonga": 955, "Trinidad & Tobago": 52,
    "Tunisia": 616, "Turkey": 640, "Turkmenistan": 701, "Uganda": 500, "Ukraine": 369,
    "United Arab Emirates": 696, "United Kingdom": 200, "United States": 2,
    "Uruguay": 165, "Uzbekistan": 704, "Vanuatu": 935, "Venezuela": 101,
    "Vietnam": 816, "Yemen": 679, "Yugoslavia": 345, "Zambia": 551, "Zimbabwe": 552,
}

# Entries in the participant columns that are not states: no COW code.
NOT_STATES = {
    MISSING, "NATO", "Baltic States", "Bermuda", "Hong Kong SAR China",
    "Netherlands Antilles", "New Caledonia",
}

DOMAIN_FLAGS = {
    "cpx": "CPX", "air": "Air", "land": "Land", "sea": "Sea", "amphibious": "Amphibious",
    "cyber": "Cyber", "warfighting": "Warfighting", "peacekeeping": "Peacekeeping",
    "humanitarian": "Humanitarian",
}

EXERCISE_COLUMNS = [
    "exercise_id", "name", "series", "location", "lat", "lon",
    "start_year", "start_month", "start_date", "end_year", "end_month", "end_date",
    *DOMAIN_FLAGS, "focus", "participant_notes", "n_participants", "unidentified_participants",
]


def _text(value: str) -> str:
    value = " ".join(value.split())
    return "" if value == MISSING else value


def _date(year: str, month: str, day: str) -> str:
    if day == "xx":
        return ""
    return dt.date(int(year), int(month), int(day)).isoformat()


def _flag(value: str) -> str:
    if value not in {"0", "1"}:
        raise SystemExit(f"unexpected domain flag {value!r}")
    return "true" if value == "1" else "false"


def read_source(path: Path) -> list[dict]:
    """The source's rows, with exercise ids made unique."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["MMEID"]] = counts.get(row["MMEID"], 0) + 1
    for row in rows:
        mme_id = row["MMEID"]
        row["exercise_id"] = mme_id if counts[mme_id] == 1 else f"{mme_id}-{row['s.year']}"
    ids = [row["exercise_id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise SystemExit("exercise ids are still not unique")
    return rows


def participants(row: dict) -> tuple[list[int], bool]:
    """COW codes of the states named in one source row (in column order, no repeats)."""
    codes: list[int] = []
    unidentified = False
    unknown = []
    for column, value in row.items():
        if not column.startswith("State"):
            continue
        name = value.strip()
        if not name:
            continue
        if name in NOT_STATES:
            unidentified = True
            continue
        if name not in PARTICIPANT_CODES:
            unknown.append(name)
            continue
        code = PARTICIPANT_CODES[name]
        if code not in codes:
            codes.append(code)
    if unknown:
        raise SystemExit(f"{row['MMEID']}: participant names not in PARTICIPANT_CODES: {', '.join(unknown)}")
    return codes, unidentified


def exercise_rows(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        codes, unidentified = participants(row)
        record = {
            "exercise_id": row["exercise_id"],
            "name": _text(row["Ex_Name"]),
            "series": _text(row["Series_Name"]),
            "location": _text(row["Location"]),
            "lat": row["lat"].strip(),
            "lon": row["lon"].strip(),
            "start_year": int(row["s.year"]),
            "start_month": int(row["s.month"]),
            "start_date": _date(row["s.year"], row["s.month"], row["s.day"]),
            "end_year": int(row["e.year"]),
            "end_month": int(row["e.month"]),
            "end_date": _date(row["e.year"], row["e.month"], row["e.day"]),
        }
        for column, source in DOMAIN_FLAGS.items():
            record[column] = _flag(row[source])
        record["focus"] = _text(row["FocusDescription"])
        record["participant_notes"] = _text(row["AdditionalParticipantInfo"])
        record["n_participants"] = len(codes)
        record["unidentified_participants"] = "true" if unidentified else "false"
        out.append(record)
    return sorted(out, key=_order)


def _order(record: dict):
    number = int(record["exercise_id"].split("-")[0].removeprefix("mme"))
    return (number, record["exercise_id"])


def write(rows: list[dict], columns: list[str], output: Path) -> None:
    with output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def parse_args(argv, description: str, default_output: Path):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("source", type=Path, help="path to mme_v7.csv")
    parser.add_argument("--output", type=Path, default=default_output)
    args = parser.parse_args(argv)
    if not args.source.is_file():
        raise SystemExit(f"no such file: {args.source}")
    return args


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0], OUTPUT)
    rows = exercise_rows(read_source(args.source))
    write(rows, EXERCISE_COLUMNS, args.output)
    print(f"wrote {len(rows)} exercises to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
