"""defence_treaty_parties: the original signatories of each treaty in defence_treaties."""

import pytest

from mildip import load_dataset


@pytest.fixture(scope="module")
def parties():
    return load_dataset("defence_treaty_parties")


@pytest.fixture(scope="module")
def countries():
    return load_dataset("countries")


def signatories(parties, treaty_id, column="iso3"):
    return set(parties.loc[parties["treaty_id"] == treaty_id, column].astype(str))


def test_keys_are_unique_and_treaties_exist(parties):
    assert not parties.duplicated(["treaty_id", "cow_code"]).any()
    treaties = set(load_dataset("defence_treaties")["treaty_id"])
    assert set(parties["treaty_id"].astype(str)) == treaties
    assert parties["source"].str.len().min() > 20


def test_every_party_resolves_in_the_crosswalk(parties, countries):
    cross = countries.set_index("cow_code")
    assert set(parties["cow_code"]) <= set(cross.index)
    assert (parties["country"].astype(str) == parties["cow_code"].map(cross["country"]).astype(str)).all()
    expected_iso = parties["cow_code"].map(cross["iso3"]).astype(object).fillna("")
    assert (parties["iso3"].astype(object).fillna("") == expected_iso).all()


def test_north_atlantic_treaty_parties_are_natos_founding_members(parties):
    members = load_dataset("nato_members")
    founders = set(members.loc[members["enlargement"] == "founding", "iso3"])
    assert len(founders) == 12
    assert signatories(parties, "north-atlantic-1949") == founders


def test_rio_treaty_original_signatories(parties):
    # US Statutes at Large vol. 62: 19 states signed at Rio on 2 September 1947;
    # Nicaragua signed in 1948 and Ecuador in 1949.
    rio = signatories(parties, "rio-1947")
    assert len(rio) == 19
    assert {"USA", "ARG", "BRA", "MEX", "CUB", "HTI"} <= rio
    assert not {"NIC", "ECU"} & rio


def test_other_multilateral_signatories(parties):
    # Philippine Proclamation No. 139 (1955): the eight signatories of the Manila Pact.
    assert signatories(parties, "manila-pact-1954") == {"AUS", "FRA", "NZL", "PAK", "PHL", "THA", "GBR", "USA"}
    # Hansard, 19 April 1971: the five governments of the Five Power Defence Arrangements.
    assert signatories(parties, "five-power-defence-arrangements-1971") == {"AUS", "MYS", "NZL", "SGP", "GBR"}
    assert signatories(parties, "anzus-1951") == {"AUS", "NZL", "USA"}


def test_germany_is_the_federal_republic_in_1963_and_germany_in_2019(parties):
    assert signatories(parties, "elysee-1963", "cow_code") == {"220", "260"}
    assert signatories(parties, "aachen-2019", "cow_code") == {"220", "255"}
    fed = parties[(parties["treaty_id"] == "elysee-1963") & (parties["cow_code"] == 260)]
    assert fed["iso3"].isna().all()
