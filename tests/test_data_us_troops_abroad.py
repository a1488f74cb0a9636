"""US military personnel abroad (DMDC reports via troopdata)."""


import pandas as pd
import pytest

from mildip import load_dataset



@pytest.fixture(scope="module")
def troops():
    return load_dataset("us_troops_abroad")


def figure(frame, host, year):
    return frame[(frame["host_country"] == host) & (frame["year"] == year)].iloc[0]


def test_coverage_and_keys(troops):
    assert len(troops) > 9000
    assert troops["year"].min() == 1950 and troops["year"].max() == 2025
    assert not troops.duplicated(["host_country", "year"]).any()
    assert "United States" not in set(troops["host_country"].astype(str))
    # Host-years with no personnel are left out.
    assert (troops["troops"] > 0).all()
    assert troops["troops"].max() < 600_000
    # Most figures are traced to a report, and the services are given exactly where a report is.
    assert troops["report"].notna().mean() > 0.75
    assert (troops["army"].notna() == troops["report"].notna()).all()


def test_names_and_codes_follow_the_crosswalk(troops):
    countries = load_dataset("countries").set_index("cow_code")
    coded = troops[troops["cow_code"].notna()]
    assert (coded["host_country"].astype(str) == coded["cow_code"].map(countries["country"]).astype(str)).all()
    iso = coded["cow_code"].map(countries["iso3"]).astype("string")
    assert (coded["iso3"].astype("string").fillna("") == iso.fillna("")).all()
    uncoded = troops[troops["cow_code"].isna()]
    assert uncoded["iso3"].isna().all()
    assert {"Guam", "Greenland", "Diego Garcia", "Puerto Rico"} <= set(uncoded["host_country"].astype(str))
    germany = troops[troops["cow_code"].isin([255, 260])]
    assert (germany.loc[germany["year"] <= 1990, "cow_code"] == 260).all()
    assert (germany.loc[germany["year"] > 1990, "cow_code"] == 255).all()
    vietnam = troops[troops["cow_code"] == 817]
    assert vietnam["year"].between(1954, 1975).all()


def test_spot_checks_against_the_dmdc_reports(troops):
    # Figures as transcribed in troopdata's reports file (troopdata-rebuild-reports.csv).
    row = figure(troops, "German Federal Republic", 1989)  # September 1989: 248,621
    assert (row["troops"], row["army"], row["report"]) == (248621, 208142, "September 1989")
    row = figure(troops, "Japan", 1995)  # September 1995: 39,134, of them 15,200 Marines
    assert (row["troops"], row["marine_corps"], row["report"]) == (39134, 15200, "September 1995")
    row = figure(troops, "South Korea", 1990)  # September 1990: 41,344
    assert (row["troops"], row["army"], row["report"]) == (41344, 30150, "September 1990")
    # Subic Bay and Clark closed: 7,761 in September 1991, 53 in September 1993.
    assert figure(troops, "Philippines", 1991)["troops"] == 7761
    assert figure(troops, "Philippines", 1993)["troops"] == 53
    # Naval Air Station Keflavik closed in 2006: 1,270 in September 2005, 20 in September 2007.
    assert figure(troops, "Iceland", 2005)["troops"] == 1270
    assert figure(troops, "Iceland", 2007)["troops"] == 20


def test_japan_includes_okinawa_until_1973_and_estimates_carry_no_report(troops):
    # September 1968: Japan 41,121 plus the Ryukyu Islands 41,948 (troopdata's build notes).
    row = figure(troops, "Japan", 1968)
    assert row["troops"] == 83069 and pd.isna(row["report"])
    japan = troops[troops["host_country"] == "Japan"].set_index("year")
    assert japan.loc[1950:1973, "report"].isna().all()
    assert japan.loc[1974:2002, "report"].notna().all()
    # Years with no report, and troopdata's estimates for Iraq, name no report.
    assert troops.loc[troops["year"].isin([1951, 1952]), "report"].isna().all()
    assert troops.loc[(troops["host_country"] == "Iraq") & troops["year"].between(2003, 2021), "report"].isna().all()


def test_2025_is_the_december_2025_report_on_every_row(troops):
    latest = troops[troops["year"] == 2025]
    assert len(latest) > 150
    assert (latest["report"] == "December 2025").all()
    assert latest[["army", "navy", "marine_corps", "air_force"]].notna().all().all()
    # December 2025 report, total active duty (Coast Guard and Space Force included).
    assert figure(troops, "Japan", 2025)["troops"] == 54288
    row = figure(troops, "Germany", 2025)
    assert (row["troops"], row["army"], row["cow_code"]) == (36436, 22727, 255)
    assert figure(troops, "South Korea", 2025)["troops"] == 23495
    assert figure(troops, "Yugoslavia", 2025)["troops"] == 12  # the reports' Serbia, COW code 345
    assert figure(troops, "US Virgin Islands", 2025)["troops"] == 39
    assert latest["troops"].sum() == 162412


def test_the_annual_figures_for_2024_are_troopdatas_not_a_report(troops):
    # troopdata's 2024 figures add up to more than any 2024 report (the largest, March 2024: 163,806).
    in_2024 = troops[troops["year"] == 2024]
    assert in_2024["troops"].sum() == 171685 > 163806
    assert in_2024.loc[in_2024["host_country"].isin(["Japan", "Germany", "South Korea"]), "report"].isna().all()
