"""Build ``datasets/arms_transfers.csv`` from SIPRI arms-transfer data as processed by 360info.

Usage::

    python datasets/scripts/extract_arms_transfers.py PATH/TO/sipri-exports-processed.csv

The source is ``data/sipri-exports-processed.csv`` of 360info's report-arms-trade repository
(generated 28 July 2022): SIPRI Arms Transfers Database trend-indicator values (TIV, millions)
of deliveries per supplier, recipient and year, 1950-2021, with Correlates of War codes.

Selection (kept well under 10% of the file, as SIPRI's terms ask):

- suppliers: the five largest suppliers in the file over 1950-2021, counting the Soviet Union
  and Russia together: the United States, the Soviet Union/Russia, the United Kingdom, France
  and China;
- recipients: the course's case-study states in the Indo-Pacific (Japan, South Korea, Taiwan,
  the Philippines, Australia, India, Pakistan, Vietnam, Indonesia), plus Saudi Arabia and
  Poland.

Every supplier-recipient-year with a recorded delivery is kept; years without deliveries have
no row. Names come from the course's crosswalk ``datasets/countries.csv`` by COW code, so the
Soviet Union (SIPRI's name to 1991) and Russia (from 1992) both appear under COW code 365.

Source: SIPRI Arms Transfers Database.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1]
OUTPUT = DATASETS / "arms_transfers.csv"
RELEASE = "SIPRI Arms Transfers Database, as processed by 360info, 28 July 2022"

# SIPRI's names (as in the processed file) -> COW code expected in the file.
SUPPLIERS = {
    "United States": 2, "Soviet Union": 365, "Russia": 365, "United Kingdom": 200,
    "France": 220, "China": 710,
}
RECIPIENTS = {
    "Japan": 740, "South Korea": 732, "Taiwan": 713, "Philippines": 840, "Australia": 900,
    "India": 750, "Pakistan": 770, "Viet Nam": 816, "Indonesia": 850, "Saudi Arabia": 670,
    "Poland": 290,
}
MAX_SHARE = 0.10
COLUMNS = [
    "supplier_country", "supplier_cow_code", "recipient_country", "recipient_cow_code",
    "year", "tiv_millions", "release",
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="path to sipri-exports-processed.csv")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.source.is_file():
        raise SystemExit(f"no such file: {args.source}")
    crosswalk_path = DATASETS / "countries.csv"
    if not crosswalk_path.is_file():
        raise SystemExit(f"the country crosswalk {crosswalk_path} is missing")
    with crosswalk_path.open(encoding="utf-8") as f:
        names = {int(row["cow_code"]): row["country"] for row in csv.DictReader(f)}

    with args.source.open(encoding="utf-8", newline="") as f:
        source = list(csv.DictReader(f))

    rows = []
    for row in source:
        supplier, recipient = row["supplier"], row["recipient"]
        if supplier not in SUPPLIERS or recipient not in RECIPIENTS:
            continue
        supplier_code, recipient_code = SUPPLIERS[supplier], RECIPIENTS[recipient]
        if int(float(row["supplier_cown"])) != supplier_code or int(float(row["recipient_cown"])) != recipient_code:
            raise SystemExit(f"unexpected COW codes for {supplier} -> {recipient}, {row['year']}")
        rows.append({
            "supplier_country": names[supplier_code],
            "supplier_cow_code": supplier_code,
            "recipient_country": names[recipient_code],
            "recipient_cow_code": recipient_code,
            "year": int(row["year"]),
            "tiv_millions": int(row["value"]),
            "release": RELEASE,
        })

    keys = [(r["supplier_cow_code"], r["recipient_cow_code"], r["year"]) for r in rows]
    if len(set(keys)) != len(keys):
        raise SystemExit("duplicate supplier-recipient-year rows")
    if len(rows) >= MAX_SHARE * len(source):
        raise SystemExit(f"{len(rows)} rows is not under {MAX_SHARE:.0%} of the {len(source)}-row source")
    rows.sort(key=lambda r: (r["supplier_cow_code"], r["recipient_cow_code"], r["year"]))

    with args.output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows ({len(rows) / len(source):.1%} of {len(source)}) to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
