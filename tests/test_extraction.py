"""Every committed extract is exactly what its script makes of the producer's original file.

The originals live in ``../shared/sources/`` beside the project (see its README); where that
folder is absent the reproduction tests skip, but the scripts' handling of a missing input is
always tested.
"""

import csv
import subprocess
import sys

import pytest

# script name -> (upstream files under shared/, committed output in datasets/)
EXTRACTS = {
    "extract_nato_expenditure.py": (["sources/nato/240617-def-exp-2024-TABLES-en.xlsx",
                                     "sources/nato/2026-release-transcription/nato_def_exp_2026_tables_long.csv"],
                                    "nato_defence_expenditure.csv"),
    "extract_countries.py": (["sources/peacesciencer/cow_states.csv",
                              "sources/troopdata/troopdata-rebuild-country-year.csv"], "countries.csv"),
    "extract_military_capabilities.py": (["sources/peacesciencer/cow_nmc.csv"], "military_capabilities.csv"),
    "extract_alliance_dyads.py": (["sources/peacesciencer/atop_alliance.csv.gz"], "alliance_dyads.csv.gz"),
    "extract_arms_transfers.py": (["sources/arms/sipri-exports-processed.csv"], "arms_transfers.csv"),
    "extract_multinational_exercises.py": (["sources/troopdata/mme_v7.csv"], "multinational_exercises.csv"),
    "extract_exercise_participants.py": (["sources/troopdata/mme_v7.csv"], "exercise_participants.csv"),
    "extract_us_troops_abroad.py": (["sources/troopdata/troopdata-rebuild-country-year.csv"], "us_troops_abroad.csv"),
    "extract_us_bases_abroad.py": (["sources/troopdata/basedata.csv"], "us_bases_abroad.csv"),
}


def test_every_script_is_listed(root):
    scripts = {p.name for p in (root / "datasets" / "scripts").glob("extract_*.py")}
    assert scripts == set(EXTRACTS)


@pytest.mark.parametrize("script", sorted(EXTRACTS))
def test_extract_reproduces_the_committed_file(root, tmp_path, script):
    upstream, output = EXTRACTS[script]
    paths = [root.parent / "shared" / name for name in upstream]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"upstream file not beside the project: {', '.join(missing)}")
    target = tmp_path / output
    result = subprocess.run([sys.executable, root / "datasets" / "scripts" / script, *paths, "--output", target],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == (root / "datasets" / output).read_bytes()


@pytest.mark.parametrize("script", sorted(EXTRACTS))
def test_extract_rejects_a_missing_file_without_a_traceback(root, tmp_path, script):
    upstream, _ = EXTRACTS[script]
    missing = [tmp_path / f"missing-{i}{''.join(p.rsplit('/', 1)[-1].partition('.')[1:])}" for i, p in enumerate(upstream)]
    result = subprocess.run([sys.executable, root / "datasets" / "scripts" / script, *missing,
                             "--output", tmp_path / "out"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "no such" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_natos_aggregates_used_by_the_data_tests_are_those_of_the_transcription(root):
    """The reference aggregates in test_data_nato_defence_expenditure.py are NATO's own."""
    import test_data_nato_defence_expenditure as reference

    path = root.parent / "shared" / "sources" / "nato" / "2026-release-transcription" / "nato_def_exp_2026_tables_long.csv"
    if not path.is_file():
        pytest.skip(f"upstream file not beside the project: {path}")
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    def aggregate(code, measure, kind):
        return {int(r["year"]): kind(r["value"]) for r in rows if r["source_code"] == code and r["measure"] == measure}

    assert aggregate("NATO_TOTAL", "core_share_gdp", float) == reference.NATO_TOTAL_SHARE
    assert aggregate("NATO_EUR_CAN", "core_share_gdp", float) == reference.EUROPE_CANADA_SHARE
    assert aggregate("NATO_TOTAL", "core_usd_2021_m", int) == reference.NATO_TOTAL_USD
    assert aggregate("NATO_EUR_CAN", "core_usd_2021_m", int) == reference.EUROPE_CANADA_USD
