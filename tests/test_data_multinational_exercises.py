"""The MME exercises table: coverage, keys, dates, and facts stated in the MME v7 source file."""


import pandas as pd
import pytest

from mildip import load_dataset



@pytest.fixture(scope="module")
def exercises():
    return load_dataset("multinational_exercises")


def test_one_row_per_exercise_1980_to_2010(exercises):
    assert len(exercises) == 3707
    assert exercises["exercise_id"].is_unique
    assert exercises["start_year"].min() == 1980 and exercises["start_year"].max() == 2010
    assert exercises["start_month"].between(1, 12).all() and exercises["end_month"].between(1, 12).all()
    # The three MMEIDs the source uses twice carry their start year.
    assert {"mme3457-1996", "mme3457-2007", "mme3458-2000", "mme3458-2007", "mme3460-1995", "mme3460-2005"} <= set(exercises["exercise_id"])


def test_dates_agree_with_year_and_month(exercises):
    known = exercises.dropna(subset=["start_date"])
    assert 0.7 < len(known) / len(exercises) < 0.9
    assert (known["start_date"].dt.year == known["start_year"]).all()
    assert (known["start_date"].dt.month == known["start_month"]).all()
    ended = exercises.dropna(subset=["end_date"])
    assert (ended["end_date"].dt.year == ended["end_year"]).all()
    assert (exercises["end_year"] >= exercises["start_year"]).all()


def test_types_and_ranges(exercises):
    for flag in ("cpx", "air", "land", "sea", "amphibious", "cyber", "warfighting", "peacekeeping", "humanitarian"):
        assert exercises[flag].dtype == bool, flag
    assert exercises["lat"].dropna().between(-90, 90).all()
    assert exercises["lon"].dropna().between(-180, 180).all()
    assert exercises["n_participants"].between(0, 39).all()


def test_n_participants_matches_the_participants_table(exercises):
    participants = load_dataset("exercise_participants")
    counts = participants.groupby("exercise_id").size()
    expected = exercises.set_index("exercise_id")["n_participants"]
    assert (counts.reindex(expected.index, fill_value=0) == expected).all()
    # An exercise with no identified state always has an unidentified participant.
    assert exercises.loc[exercises["n_participants"] == 0, "unidentified_participants"].all()


def test_spot_checks_against_the_source(exercises):
    by_id = exercises.set_index("exercise_id")
    # mme_v7.csv: Readex 1-80, Vieques, 14-21 January 1980, sea and amphibious, three states.
    readex = by_id.loc["mme87"]
    assert readex["name"] == "Readex 1-80" and readex["location"] == "Vieques"
    assert readex["start_date"] == pd.Timestamp("1980-01-14") and readex["end_date"] == pd.Timestamp("1980-01-21")
    assert readex["sea"] and readex["amphibious"] and not readex["land"]
    assert readex["n_participants"] == 3
    # mme_v7.csv: "Saudi Arabian skies", January 1980 with unknown day ("xx").
    skies = by_id.loc["mme88"]
    assert skies["start_year"] == 1980 and skies["start_month"] == 1 and pd.isna(skies["start_date"])
    # mme_v7.csv: RIMPAC 80, 26 February to 18 March 1980, five states.
    assert by_id.loc["mme89", "series"] == "RIMPAC" and by_id.loc["mme89", "n_participants"] == 5
    # mme_v7.csv: Combined Endeavor 2010 fills all 39 participant columns.
    assert by_id.loc["mme3380", "n_participants"] == 39
    assert by_id["n_participants"].max() == 39
