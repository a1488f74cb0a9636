"""Build ``datasets/exercise_participants.csv`` from the Multinational Military Exercises data, v7.

Usage::

    python datasets/scripts/extract_exercise_participants.py PATH/TO/mme_v7.csv

One row per exercise and participating state. Participant names are mapped to Correlates of
War state numbers by the table ``PARTICIPANT_CODES`` in ``extract_multinational_exercises.py``
(the two scripts read the source the same way, so their exercise ids match); country names and
ISO codes are taken from the course's crosswalk ``datasets/countries.csv``. Entries that are not
states ("-9" for an unidentified participant, NATO, "Baltic States", Bermuda, Hong Kong,
the Netherlands Antilles, New Caledonia) have no row here.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASETS = HERE.parent
OUTPUT = DATASETS / "exercise_participants.csv"
COLUMNS = ["exercise_id", "country", "cow_code", "iso3"]


def _exercises_module():
    spec = importlib.util.spec_from_file_location("extract_multinational_exercises", HERE / "extract_multinational_exercises.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    mme = _exercises_module()
    args = mme.parse_args(argv, __doc__.splitlines()[0], OUTPUT)
    crosswalk_path = DATASETS / "countries.csv"
    if not crosswalk_path.is_file():
        raise SystemExit(f"the country crosswalk {crosswalk_path} is missing")
    with crosswalk_path.open(encoding="utf-8") as f:
        crosswalk = {int(row["cow_code"]): row for row in csv.DictReader(f)}

    rows = []
    for source_row in mme.read_source(args.source):
        codes, _ = mme.participants(source_row)
        for code in codes:
            if code not in crosswalk:
                raise SystemExit(f"COW code {code} is not in {crosswalk_path.name}")
            rows.append({
                "exercise_id": source_row["exercise_id"],
                "country": crosswalk[code]["country"],
                "cow_code": code,
                "iso3": crosswalk[code]["iso3"],
            })
    rows.sort(key=lambda r: (mme._order(r), r["cow_code"]))
    mme.write(rows, COLUMNS, args.output)
    print(f"wrote {len(rows)} participations to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
