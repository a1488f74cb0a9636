"""Facts the course's datasets must keep, checked against what their sources state."""

import pandas as pd
import pytest

from mildip import dataset_names, describe, load_dataset


@pytest.fixture(scope="module")
def members():
    return load_dataset("nato_members")


@pytest.fixture(scope="module")
def spending():
    """NATO's June 2024 release; tests/test_data_nato_defence_expenditure.py checks the July 2026 one."""
    return load_dataset("nato_defence_expenditure", release="June 2024")


def test_every_dataset_loads_and_has_a_complete_descriptor():
    for name in dataset_names():
        frame = load_dataset(name, release="all")
        info = describe(name)
        assert len(frame) > 0, name
        for key in ("title", "description", "sources", "licenses", "release", "as_of", "citation", "newer_release"):
            assert info.descriptor.get(key), f"{name}: descriptor has no {key}"
        assert [f["name"] for f in info.fields] == list(frame.columns), name
        if info.primary_key:
            assert not frame.duplicated(info.primary_key).any(), f"{name}: duplicate keys"


def test_every_descriptor_says_whether_a_newer_release_exists_and_when_that_was_checked():
    for name in dataset_names():
        newer = describe(name).newer_release
        assert set(newer) <= {"available", "checked", "note", "source"}, name
        assert isinstance(newer["available"], bool), name
        checked = pd.Timestamp(newer["checked"])
        assert pd.Timestamp(describe(name).as_of) <= checked <= pd.Timestamp.now(), name
        assert len(newer["note"].split()) >= 3, name
        if newer["available"]:
            assert newer.get("source", "").startswith("https://"), f"{name}: say where the newer release is"


def test_newer_releases_the_course_does_not_use_are_flagged():
    # COW State System v2024 (Correlates of War Project, 2025) extends the list to 2024; the
    # SIPRI arms-transfer extract stops in 2021 while SIPRI's March 2026 data reach 2025.
    assert describe("countries").newer_release["available"] and "v2024" in describe("countries").newer_release["note"]
    assert load_dataset("countries").attrs["release"].startswith("COW State System Membership List v2016")
    arms = describe("arms_transfers").newer_release
    assert arms["available"] and "2025" in arms["note"]
    assert load_dataset("arms_transfers")["year"].max() == 2021
    assert not describe("nato_defence_expenditure").newer_release["available"]


def test_multi_release_datasets_key_their_rows_by_release():
    for name in dataset_names():
        releases = describe(name).descriptor.get("releases")
        if not releases:
            continue
        every = load_dataset(name, release="all")
        assert "release" in describe(name).primary_key, name
        assert list(every["release"].cat.categories) == [r["name"] for r in releases], name
        assert set(every["release"]) == {r["name"] for r in releases}, name


def test_nato_has_32_members_and_12_founders_dated_4_april_1949(members):
    assert len(members) == 32
    founders = members[members["enlargement"] == "founding"]
    assert len(founders) == 12
    assert (founders["member_since"] == pd.Timestamp("1949-04-04")).all()
    assert set(founders["iso3"]) == {"BEL", "CAN", "DNK", "FRA", "ISL", "ITA", "LUX", "NLD", "NOR", "PRT", "GBR", "USA"}


def test_membership_dates_are_typed_and_match_nato_for_recent_accessions(members):
    assert pd.api.types.is_datetime64_any_dtype(members["member_since"])
    assert isinstance(members["enlargement"].dtype, pd.CategoricalDtype)
    since = members.set_index("iso3")["member_since"]
    # Dates stated in the notes to NATO's June 2024 expenditure tables.
    assert since["MNE"] == pd.Timestamp("2017-06-05")
    assert since["MKD"] == pd.Timestamp("2020-03-27")
    assert since["FIN"] == pd.Timestamp("2023-04-04")
    assert since["SWE"] == pd.Timestamp("2024-03-07")
    # Each round's label is the year its members joined.
    later = members[members["enlargement"] != "founding"]
    assert (later["enlargement"].astype(str).astype(int) == later["member_since"].dt.year).all()


def test_expenditure_covers_every_ally_with_armed_forces_2014_to_2024(spending, members):
    assert set(spending["year"]) == set(range(2014, 2025))
    assert not spending.duplicated(["iso3", "year"]).any()
    assert set(spending["iso3"].astype(str)) == set(members["iso3"]) - {"ISL"}
    per_country = spending.groupby("iso3", observed=True).size()
    assert (per_country == 11).all()
    names = members.set_index("iso3")["country"]
    assert (spending["country"].astype(str) == spending["iso3"].astype(str).map(names)).all()


def test_estimates_are_flagged_for_2023_and_2024_only(spending):
    flagged = set(spending.loc[spending["estimate"], "year"])
    assert flagged == {2023, 2024}
    assert spending["release"].nunique() == 1
    assert "June 2024" in str(spending["release"].iloc[0])


def test_shares_are_in_a_plausible_range(spending):
    assert spending["share_gdp_pct"].between(0.2, 6).all()
    assert spending["equipment_share_pct"].between(0, 100).all()
    # Table 3 is expenditure over GDP at 2015 prices: the columns must agree.
    ratio = 100 * spending["expenditure_usd_m"] / spending["gdp_usd_m"]
    assert ((ratio - spending["share_gdp_pct"]).abs() / spending["share_gdp_pct"]).max() < 0.01


def test_allies_at_2pct_match_nato_june_2024_release(spending):
    # NATO, 17 June 2024: three Allies met the guideline in 2014, 23 are estimated to in 2024.
    at_2pct = spending[spending["share_gdp_pct"] >= 2].groupby("year").size()
    assert at_2pct[2014] == 3
    assert at_2pct[2024] == 23
    assert set(spending[(spending["year"] == 2014) & (spending["share_gdp_pct"] >= 2)]["iso3"]) == {"GRC", "GBR", "USA"}


def test_spot_values_from_table_3(spending):
    share = spending.set_index(["iso3", "year"])["share_gdp_pct"]
    assert share["POL", 2024] == pytest.approx(4.12, abs=0.005)
    assert share["USA", 2014] == pytest.approx(3.71, abs=0.005)
    assert share["LUX", 2014] == pytest.approx(0.37, abs=0.005)
    assert share["SVK", 2024] == pytest.approx(2.00, abs=0.005)


def test_europe_and_canada_aggregate_matches_nato_table_3(spending, members):
    # NATO Europe and Canada, share of real GDP: 1.43% (2014) and 2.02% (2024e), counting
    # each Ally from the year it joined.
    joined = members.set_index("iso3")["member_since"].dt.year
    allied = spending[(spending["year"] >= spending["iso3"].astype(str).map(joined)) & (spending["iso3"] != "USA")]
    sums = allied.groupby("year")[["expenditure_usd_m", "gdp_usd_m"]].sum()
    share = 100 * sums["expenditure_usd_m"] / sums["gdp_usd_m"]
    assert share[2014] == pytest.approx(1.43, abs=0.005)
    assert share[2024] == pytest.approx(2.02, abs=0.005)
