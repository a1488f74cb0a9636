"""defence_treaties: the defence treaties and agreements discussed in the course."""

import pandas as pd
import pytest

from mildip import load_dataset


@pytest.fixture(scope="module")
def treaties():
    return load_dataset("defence_treaties").set_index("treaty_id", drop=False)


@pytest.fixture(scope="module")
def parties():
    return load_dataset("defence_treaty_parties")


EXPECTED = {
    "rio-1947", "north-atlantic-1949", "us-philippines-mdt-1951", "anzus-1951",
    "us-japan-security-1951", "us-japan-mutual-cooperation-1960", "us-rok-mdt-1953",
    "manila-pact-1954", "elysee-1963", "five-power-defence-arrangements-1971",
    "lancaster-house-2010", "aachen-2019", "us-india-framework-2005", "us-india-framework-2015",
    "us-india-lemoa-2016", "us-india-comcasa-2018", "us-india-beca-2020",
}


def test_coverage_and_unique_ids(treaties):
    assert set(treaties["treaty_id"]) == EXPECTED
    assert treaties["treaty_id"].is_unique
    assert treaties["name"].is_unique
    assert treaties["source"].str.len().min() > 20


def test_ids_end_in_the_year_of_signature(treaties):
    years = treaties["treaty_id"].str[-4:].astype(int)
    assert (years == treaties["signed"].dt.year).all()


def test_dates_are_in_order(treaties):
    has_force = treaties["in_force"].notna()
    assert (treaties.loc[has_force, "signed"] <= treaties.loc[has_force, "in_force"]).all()
    ended = treaties["ended"].notna()
    start = treaties["in_force"].fillna(treaties["signed"])
    assert (start[ended] <= treaties.loc[ended, "ended"]).all()
    assert treaties["signed"].between(pd.Timestamp("1947-01-01"), pd.Timestamp("2020-12-31")).all()


def test_multilateral_flag_matches_the_number_of_parties(treaties, parties):
    counts = parties.groupby("treaty_id", observed=True).size()
    assert set(counts.index) == EXPECTED
    assert (counts >= 2).all()
    assert ((counts > 2) == treaties.loc[counts.index, "multilateral"]).all()


def test_spot_checks_against_sources(treaties):
    date = pd.Timestamp
    # Wikipedia / NATO: North Atlantic Treaty signed 4 April 1949, in force 24 August 1949.
    assert treaties.loc["north-atlantic-1949", "signed"] == date("1949-04-04")
    assert treaties.loc["north-atlantic-1949", "in_force"] == date("1949-08-24")
    # Parliamentary Education Office (Australia): ANZUS signed 1 September 1951, in force 29 April 1952.
    assert treaties.loc["anzus-1951", "signed"] == date("1951-09-01")
    assert treaties.loc["anzus-1951", "in_force"] == date("1952-04-29")
    # American Presidency Project: US-ROK treaty signed 1 October 1953, in force 17 November 1954.
    assert treaties.loc["us-rok-mdt-1953", "signed"] == date("1953-10-01")
    assert treaties.loc["us-rok-mdt-1953", "in_force"] == date("1954-11-17")
    # US Embassy Tokyo and the treaty's record: signed 19 January 1960, in force 23 June 1960,
    # replacing the 1951 Security Treaty.
    assert treaties.loc["us-japan-mutual-cooperation-1960", "signed"] == date("1960-01-19")
    assert treaties.loc["us-japan-mutual-cooperation-1960", "in_force"] == date("1960-06-23")
    assert treaties.loc["us-japan-security-1951", "ended"] == date("1960-06-23")
    # CVCE and Brandenburg civic-education agency: Élysée Treaty signed 22 January 1963, in force 2 July 1963.
    assert treaties.loc["elysee-1963", "signed"] == date("1963-01-22")
    assert treaties.loc["elysee-1963", "in_force"] == date("1963-07-02")
    # OAS B-29 and US Statutes at Large: Rio Treaty signed 2 September 1947, in force 3 December 1948.
    assert treaties.loc["rio-1947", "signed"] == date("1947-09-02")
    assert treaties.loc["rio-1947", "in_force"] == date("1948-12-03")


def test_types_are_typed(treaties):
    assert isinstance(treaties["type"].dtype, pd.CategoricalDtype)
    assert treaties["multilateral"].dtype == bool
    assert treaties.loc["us-india-beca-2020", "type"] == "geospatial agreement"
    assert treaties.loc["us-india-lemoa-2016", "type"] == "logistics agreement"
