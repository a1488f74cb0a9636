"""SIPRI arms-transfer extract: SIPRI's terms, keys and ranges, and values read from the source file."""


import pytest

from mildip import cite, describe, load_dataset

SOURCE_ROWS = 21324  # rows of 360info's sipri-exports-processed.csv (28 July 2022)


@pytest.fixture(scope="module")
def transfers():
    return load_dataset("arms_transfers")


def test_extract_respects_sipri_terms(transfers):
    assert len(transfers) < 2000
    assert len(transfers) / SOURCE_ROWS < 0.10
    info = describe("arms_transfers")
    assert "Source: SIPRI Arms Transfers Database" in cite("arms_transfers")
    assert "Source: SIPRI Arms Transfers Database" in info.description


def test_keys_coverage_and_ranges(transfers):
    assert len(transfers) == 1631
    assert not transfers.duplicated(["supplier_cow_code", "recipient_cow_code", "year"]).any()
    assert transfers["year"].min() == 1950 and transfers["year"].max() == 2021
    assert (transfers["tiv_millions"] >= 0).all()
    assert set(transfers["supplier_cow_code"]) == {2, 200, 220, 365, 710}
    assert transfers["release"].nunique() == 1


def test_names_come_from_the_crosswalk(transfers):
    names = load_dataset("countries").set_index("cow_code")["country"].astype(str)
    assert (transfers["supplier_country"].astype(str) == transfers["supplier_cow_code"].map(names)).all()
    assert (transfers["recipient_country"].astype(str) == transfers["recipient_cow_code"].map(names)).all()


def tiv(transfers, supplier, recipient, year):
    row = transfers[
        (transfers["supplier_country"] == supplier) & (transfers["recipient_country"] == recipient) & (transfers["year"] == year)
    ]
    assert len(row) == 1, (supplier, recipient, year)
    return int(row["tiv_millions"].iloc[0])


def test_spot_checks_against_the_source(transfers):
    # Values read from sipri-exports-processed.csv (360info, 28 July 2022).
    assert tiv(transfers, "Russia", "India", 1985) == 1943  # SIPRI's "Soviet Union", COW 365
    assert tiv(transfers, "Russia", "India", 2010) == 2294
    assert tiv(transfers, "China", "Pakistan", 2015) == 548
    assert tiv(transfers, "France", "Taiwan", 1996) == 650
    assert tiv(transfers, "United States", "Japan", 1970) == 630
