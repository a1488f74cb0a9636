"""COW National Material Capabilities v7.0, state-years 1946-2022."""


import pytest

from mildip import load_dataset

NMC = "sources/peacesciencer/cow_nmc.csv"


@pytest.fixture(scope="module")
def nmc():
    return load_dataset("military_capabilities")


def test_coverage_and_keys(nmc):
    assert len(nmc) == 11688
    assert set(nmc["year"]) == set(range(1946, 2023))
    assert not nmc.duplicated(["cow_code", "year"]).any()
    per_year = nmc.groupby("year").size()
    assert per_year[1946] == 66 and per_year[2022] == 195


def test_names_come_from_the_crosswalk(nmc):
    names = load_dataset("countries").set_index("cow_code")["country"]
    assert (nmc["country"].astype(str).to_numpy() == nmc["cow_code"].map(names).to_numpy()).all()


def test_values_are_in_range(nmc):
    assert (nmc["milex"].dropna() >= 0).all()
    assert (nmc["milper"].dropna() >= 0).all()
    assert nmc["cinc"].between(0, 1).all()
    # CINC is a share of the world total: each year's scores sum to about 1.
    assert nmc.groupby("year")["cinc"].sum().between(0.98, 1.02).all()
    # COW's -9 code for missing values is gone; some values are genuinely missing.
    assert nmc["milex"].isna().sum() == 906
    assert nmc["milper"].isna().sum() == 199


def test_spot_checks_against_cow_nmc_v7(nmc):
    row = nmc.set_index(["cow_code", "year"])
    # Values as given in COW NMC v7.0 (NMC-70-abridged.csv, via peacesciencer's cow_nmc).
    usa = row.loc[(2, 2000)]
    assert usa["milex"] == 303136000 and usa["milper"] == 1366
    assert usa["cinc"] == pytest.approx(0.14289317)
    # milex is in thousands of dollars: US spending in 2000 was about $300 billion.
    assert 2.5e8 < usa["milex"] < 3.5e8
    china = row.loc[(710, 2022)]
    assert china["milex"] == 218639000 and china["milper"] == 2035
    assert china["cinc"] == pytest.approx(0.23409663)
    assert row.loc[(2, 2022), "milex"] == 838814000
    assert row.loc[(365, 2022), "milex"] == 74742000
