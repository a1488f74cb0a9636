"""MME participants: keys, the COW mapping and the crosswalk, and facts stated in the MME v7 source."""


import pytest

from mildip import load_dataset



@pytest.fixture(scope="module")
def participants():
    return load_dataset("exercise_participants")


def members(participants, exercise_id):
    return set(participants.loc[participants["exercise_id"] == exercise_id, "country"].astype(str))


def test_keys_and_size(participants):
    assert len(participants) == 13652
    assert not participants.duplicated(["exercise_id", "cow_code"]).any()
    exercises = load_dataset("multinational_exercises")
    assert set(participants["exercise_id"]) <= set(exercises["exercise_id"])


def test_names_and_iso_codes_come_from_the_crosswalk(participants):
    countries = load_dataset("countries").set_index("cow_code")
    assert (participants["country"].astype(str) == participants["cow_code"].map(countries["country"]).astype(str)).all()
    iso = participants["cow_code"].map(countries["iso3"].astype(object)).fillna("")
    assert (participants["iso3"].astype(object).fillna("") == iso).all()
    assert participants["iso3"].dropna().astype(str).str.fullmatch("[A-Z]{3}").all()


def test_historical_states_are_coded_by_period(participants):
    exercises = load_dataset("multinational_exercises")[["exercise_id", "start_year"]]
    years = participants.merge(exercises, on="exercise_id").groupby("cow_code")["start_year"].agg(["min", "max"])
    assert years.loc[260, "max"] <= 1990  # German Federal Republic
    assert years.loc[265, "max"] <= 1990  # German Democratic Republic
    assert years.loc[255, "min"] >= 1991  # Germany
    assert years.loc[315, "max"] <= 1992 and years.loc[316, "min"] >= 1993  # Czechoslovakia, Czechia
    assert years.loc[365, "min"] == 1980  # the source's "Russia" includes the Soviet Union


def test_spot_checks_against_the_source(participants):
    # mme_v7.csv, mme87 (Readex 1-80): Netherlands, United Kingdom, United States.
    assert members(participants, "mme87") == {"Netherlands", "United Kingdom", "United States"}
    # mme89 (RIMPAC 80): Australia, Canada, Japan, New Zealand, United States.
    assert members(participants, "mme89") == {"Australia", "Canada", "Japan", "New Zealand", "United States"}
    # mme243 (Cobra Gold 82): Thailand and the United States.
    assert members(participants, "mme243") == {"Thailand", "United States"}
    # mme100 (Deterrent Force 80) lists the "Federal Republic of Germany".
    assert "German Federal Republic" in members(participants, "mme100")
    # The United States is the most frequent participant (1,884 entries in the source, 2 repeated).
    counts = participants["country"].astype(str).value_counts()
    assert counts.index[0] == "United States" and counts.iloc[0] == 1882
