"""The crosswalk of COW state codes, ISO codes and country names."""


import pandas as pd
import pytest

from mildip import load_dataset



@pytest.fixture(scope="module")
def countries():
    return load_dataset("countries")


def test_one_row_per_cow_state_code(countries):
    # COW's State System Membership List v2016 has 217 distinct state codes.
    assert len(countries) == 217
    assert countries["cow_code"].is_unique
    assert countries["stateabb"].is_unique
    assert countries["country"].is_unique
    assert countries["cow_code"].between(2, 990).all()


def test_iso3_codes_are_unique_where_present(countries):
    present = countries["iso3"].dropna()
    assert present.is_unique
    assert present.str.fullmatch("[A-Z]{3}").all()
    assert len(present) > 180


def test_nato_members_have_their_iso3_and_names(countries, root):
    members = pd.read_csv(root / "datasets" / "nato_members.csv", dtype=str)
    by_iso = countries.dropna(subset=["iso3"]).set_index("iso3")["country"]
    assert set(members["iso3"]) <= set(by_iso.index)
    assert (by_iso[members["iso3"]].to_numpy() == members["country"].to_numpy()).all()


def test_spot_checks(countries):
    iso = countries.set_index("cow_code")["iso3"]
    # COW state numbers (COW State System Membership List v2016) against ISO 3166-1 codes.
    expected = {2: "USA", 20: "CAN", 200: "GBR", 365: "RUS", 710: "CHN", 732: "KOR",
                731: "PRK", 740: "JPN", 750: "IND", 255: "DEU", 316: "CZE"}
    assert {code: iso[code] for code in expected} == expected
    names = countries.set_index("cow_code")["country"]
    assert names[732] == "South Korea" and names[731] == "North Korea"
    assert names[260] == "German Federal Republic" and names[255] == "Germany"
    assert names[817] == "Republic of Vietnam" and names[640] == "Türkiye"


def test_states_without_an_iso_code_of_their_own(countries):
    # German Federal Republic, German Democratic Republic, Czechoslovakia, Yugoslavia
    # (COW 345, continued for Serbia and Montenegro and Serbia), Republic of Vietnam.
    iso = countries.set_index("cow_code")["iso3"]
    for code in (260, 265, 315, 345, 817):
        assert pd.isna(iso[code]), code
