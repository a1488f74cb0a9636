"""ATOP 5.1 alliance obligations between pairs of states, 1946-2018."""


import pytest

from mildip import load_dataset

ATOP = "sources/peacesciencer/atop_alliance.csv.gz"
OBLIGATIONS = ["defense", "offense", "neutrality", "nonaggression", "consultation"]


@pytest.fixture(scope="module")
def dyads():
    return load_dataset("alliance_dyads")


def test_coverage_and_keys(dyads):
    assert len(dyads) == 129456
    assert set(dyads["year"]) == set(range(1946, 2019))
    assert (dyads["cow_code1"] < dyads["cow_code2"]).all()
    assert not dyads.duplicated(["cow_code1", "cow_code2", "year"]).any()
    # Every listed pair-year carries at least one obligation.
    assert dyads[OBLIGATIONS].any(axis=1).all()
    assert all(dyads[column].dtype == bool for column in OBLIGATIONS)


def test_codes_and_names_come_from_the_crosswalk(dyads):
    names = load_dataset("countries").set_index("cow_code")["country"]
    for code, name in (("cow_code1", "country1"), ("cow_code2", "country2")):
        assert dyads[code].isin(names.index).all()
        assert (dyads[name].astype(str).to_numpy() == dyads[code].map(names).to_numpy()).all()


def test_the_file_stays_small(root):
    assert (root / "datasets" / "alliance_dyads.csv.gz").stat().st_size < 3_000_000


def test_spot_checks_against_atop(dyads):
    defense = dyads[dyads["defense"]].set_index(["cow_code1", "cow_code2"])["year"]
    # United States-Canada: North Atlantic Treaty, signed 4 April 1949 (NATO, Member countries).
    us_canada = set(defense.loc[(2, 20)])
    assert {1950, 2018} <= us_canada
    assert set(range(1949, 2019)) <= us_canada
    # United States-Japan: Treaty of Mutual Cooperation and Security, signed 19 January 1960.
    assert set(range(1960, 2019)) <= set(defense.loc[(2, 740)])
    # United States-South Korea: Mutual Defense Treaty, signed 1 October 1953, in force
    # 17 November 1954 (American Presidency Project, Eisenhower's message to the Senate).
    assert set(range(1954, 2019)) <= set(defense.loc[(2, 732)])
    # ATOP lists non-aggression and consultation pledges between the United States and the
    # Soviet Union/Russia, but never a defense obligation.
    assert (2, 365) not in defense.index
