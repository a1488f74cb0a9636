"""NATO defence expenditure: two releases, one at a time, checked against NATO's own figures.

The June 2024 release's invariants are in tests/test_datasets.py; this file checks the July
2026 release, the way releases are selected, and that the book and the assignments never mix
releases without naming them.
"""

import json
import re

import pandas as pd
import pytest

from conftest import ROOT
from mildip import DatasetError, describe, load_dataset

LATEST, OLDER = "July 2026", "June 2024"

# NATO's aggregates in the July 2026 release (Table 3, share of real GDP, %; Table 2, million
# US dollars at 2021 prices), as transcribed in nato_def_exp_2026_tables_long.csv.
# tests/test_extraction.py checks these constants against the transcription itself.
NATO_TOTAL_SHARE = {2014: 2.56, 2015: 2.46, 2016: 2.46, 2017: 2.37, 2018: 2.38, 2019: 2.51, 2020: 2.68,
                    2021: 2.58, 2022: 2.43, 2023: 2.45, 2024: 2.65, 2025: 2.75, 2026: 2.86}
EUROPE_CANADA_SHARE = {2014: 1.40, 2015: 1.40, 2016: 1.41, 2017: 1.45, 2018: 1.48, 2019: 1.51, 2020: 1.69,
                       2021: 1.62, 2022: 1.62, 2023: 1.71, 2024: 1.96, 2025: 2.31, 2026: 2.53}
NATO_TOTAL_USD = {2014: 1026158, 2015: 1010034, 2016: 1027943, 2017: 1018149, 2018: 1045940, 2019: 1129749,
                  2020: 1155901, 2021: 1182761, 2022: 1151600, 2023: 1190634, 2024: 1330026, 2025: 1404842,
                  2026: 1484129}
EUROPE_CANADA_USD = {2014: 278861, 2015: 283976, 2016: 292114, 2017: 309729, 2018: 321800, 2019: 334042,
                     2020: 350086, 2021: 358667, 2022: 372067, 2023: 402342, 2024: 479916, 2025: 571204,
                     2026: 633917}


@pytest.fixture(scope="module")
def latest():
    return load_dataset("nato_defence_expenditure", release=LATEST)


@pytest.fixture(scope="module")
def older():
    return load_dataset("nato_defence_expenditure", release=OLDER)


@pytest.fixture(scope="module")
def allied(latest):
    """Rows of the years each Ally was a member: NATO's aggregates count an Ally from accession."""
    joined = load_dataset("nato_members").set_index("iso3")["member_since"].dt.year
    return latest[latest["year"] >= latest["iso3"].astype(str).map(joined)]


# --- choosing a release -------------------------------------------------------------------


def test_the_default_is_the_latest_release_and_says_so():
    default = load_dataset("nato_defence_expenditure")
    assert set(default["release"]) == {LATEST}
    assert default.equals(load_dataset("nato_defence_expenditure", release="latest"))
    assert describe("nato_defence_expenditure").releases[-1]["name"] == LATEST
    assert default.attrs["release"] == "Defence Investment of NATO Countries (2014-2026), NATO, July 2026"


def test_one_release_at_a_time_unless_all_are_asked_for(latest, older):
    every = load_dataset("nato_defence_expenditure", release="all")
    assert len(every) == len(latest) + len(older) == 31 * 13 + 31 * 11
    assert set(older["release"]) == {OLDER} and older.attrs["release"].endswith("17 June 2024")
    assert not latest.duplicated(["iso3", "year"]).any() and not older.duplicated(["iso3", "year"]).any()
    assert every.duplicated(["iso3", "year"]).sum() == len(older)  # every older year is in both releases
    assert OLDER in every.attrs["release"] and LATEST in every.attrs["release"]


def test_an_unknown_release_is_refused_with_the_known_ones():
    with pytest.raises(DatasetError, match="no release '2025'.*June 2024, July 2026"):
        load_dataset("nato_defence_expenditure", release="2025")
    with pytest.raises(DatasetError, match="single release"):
        load_dataset("nato_members", release="June 2024")
    assert len(load_dataset("nato_members", release="all")) == len(load_dataset("nato_members"))


# --- the July 2026 release ----------------------------------------------------------------


def test_latest_release_covers_every_ally_with_armed_forces_2014_to_2026(latest):
    members = load_dataset("nato_members")
    assert set(latest["year"]) == set(range(2014, 2027))
    assert set(latest["iso3"].astype(str)) == set(members["iso3"]) - {"ISL"}
    assert (latest.groupby("iso3", observed=True).size() == 13).all()
    assert set(latest.loc[latest["estimate"], "year"]) == {2025, 2026}
    assert (latest["price_base_year"] == 2021).all()
    assert latest[["share_gdp_pct", "expenditure_usd_m", "gdp_usd_m", "equipment_share_pct"]].notna().all().all()


def test_shares_agree_with_money_in_constant_2021_prices(latest):
    # Table 3 is Table 2 (constant prices) over Table 5; both are rounded as published.
    ratio = 100 * latest["expenditure_usd_m"] / latest["gdp_usd_m"]
    assert (ratio - latest["share_gdp_pct"]).abs().max() < 0.011


def test_allies_at_2pct_per_year_match_natos_counts(latest, older):
    # NATO's July 2026 release: 3 of 31 in 2014, 17 in 2024, 28 in 2025 and 30 in 2026 (estimates);
    # its June 2024 release estimated 23 for 2024.
    at_2pct = latest[latest["share_gdp_pct"] >= 2].groupby("year").size()
    assert (at_2pct[2014], at_2pct[2024], at_2pct[2025], at_2pct[2026]) == (3, 17, 28, 30)
    assert older[(older["year"] == 2024) & (older["share_gdp_pct"] >= 2)].shape[0] == 23
    below_2026 = latest[(latest["year"] == 2026) & (latest["share_gdp_pct"] < 2)]
    assert list(below_2026["iso3"]) == ["SVN"]


def test_spot_values_from_table_3_of_the_july_2026_release(latest):
    share = latest.set_index(["iso3", "year"])["share_gdp_pct"]
    assert share["POL", 2024] == 3.75
    assert share["LTU", 2026] == 5.33
    assert share["SVN", 2026] == 1.61
    assert share["DEU", 2024] == 2.00
    assert share["USA", 2014] == 3.71


def test_nato_total_and_europe_and_canada_are_the_sums_of_the_allies(allied):
    sums = allied.groupby("year")[["expenditure_usd_m", "gdp_usd_m"]].sum()
    europe_canada = allied[allied["iso3"] != "USA"].groupby("year")[["expenditure_usd_m", "gdp_usd_m"]].sum()
    for year in range(2014, 2027):
        # Money: NATO's totals, to rounding of the published Allies' figures.
        assert abs(sums.loc[year, "expenditure_usd_m"] - NATO_TOTAL_USD[year]) <= 2, year
        assert abs(europe_canada.loc[year, "expenditure_usd_m"] - EUROPE_CANADA_USD[year]) <= 2, year
        # Shares: NATO's aggregate GDP is slightly larger than the 31 Allies' sum (it is 22-30
        # billion dollars more a year, about Iceland's economy), so allow 0.01 points.
        total_share = 100 * sums.loc[year, "expenditure_usd_m"] / sums.loc[year, "gdp_usd_m"]
        ec_share = 100 * europe_canada.loc[year, "expenditure_usd_m"] / europe_canada.loc[year, "gdp_usd_m"]
        assert total_share == pytest.approx(NATO_TOTAL_SHARE[year], abs=0.01), year
        assert ec_share == pytest.approx(EUROPE_CANADA_SHARE[year], abs=0.01), year


def test_counting_an_ally_before_it_joined_would_break_natos_totals(latest):
    # Finland joined in 2023 and Sweden in 2024: counting them in 2023 misses NATO's total by billions.
    everyone = latest[latest["year"] == 2023]["expenditure_usd_m"].sum()
    assert everyone - NATO_TOTAL_USD[2023] > 5000


# --- revisions and the change of price base -------------------------------------------------


def test_revisions_are_small_for_final_years_and_large_for_estimates(latest, older):
    both = older.merge(latest, on=["iso3", "year"], suffixes=("_older", "_latest"))
    both["revision"] = both["share_gdp_pct_latest"] - both["share_gdp_pct_older"]
    final_then = both[~both["estimate_older"]]
    estimated_then = both[both["estimate_older"]]
    assert set(estimated_then["year"]) == {2023, 2024}
    assert final_then["revision"].abs().max() < 0.15
    assert estimated_then["revision"].abs().mean() > 3 * final_then["revision"].abs().mean()
    albania = both[(both["iso3"] == "ALB") & (both["year"] == 2024)].iloc[0]
    assert (round(albania["share_gdp_pct_older"], 2), albania["share_gdp_pct_latest"]) == (2.03, 1.35)


def test_money_columns_are_in_different_prices_and_must_not_be_compared(latest, older):
    assert (older["price_base_year"] == 2015).all()
    us = older[older["iso3"] == "USA"].merge(latest[latest["iso3"] == "USA"], on="year", suffixes=("_2015", "_2021"))
    # The same spending is 11-15% more dollars in 2021 prices, while the share of GDP barely moves.
    assert (us["expenditure_usd_m_2021"] / us["expenditure_usd_m_2015"]).between(1.10, 1.15).all()
    assert (us["share_gdp_pct_2021"] - us["share_gdp_pct_2015"]).abs().max() < 0.15


# --- the book and the assignments name the release they use --------------------------------

LOAD = re.compile(r"""load_dataset\(\s*["']nato_defence_expenditure["']\s*(?:,\s*release\s*=\s*([^)]*))?\)""")


def code_cells():
    """(where, source of the cell, source of the whole page) for the chapters' and assignments' code."""
    for page in sorted((ROOT / "book").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for i, block in enumerate(re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, re.S)):
            yield f"{page.name} cell {i}", block, text
    for notebook in sorted((ROOT / "exercises" / "source").glob("*/*.ipynb")):
        cells = [c for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
        text = "\n".join("".join(c["source"]) for c in cells)
        for i, cell in enumerate(cells):
            yield f"{notebook.name} code cell {i}", "".join(cell["source"]), text


def release_named(argument, page):
    """The release a `release=` argument names: a string, or a constant assigned a string on the page."""
    argument = argument.strip()
    if re.fullmatch(r"[A-Za-z_]\w*", argument):
        assigned = re.findall(rf"^\s*{argument}\s*=\s*([\"'][^\"']*[\"'])", page, re.M)
        argument = assigned[0] if len(assigned) == 1 else argument
    return argument.strip("\"'")


def test_every_load_in_the_book_and_assignments_names_one_release():
    names = {r["name"] for r in describe("nato_defence_expenditure").releases}
    loads = [(where, release, page) for where, source, page in code_cells() for release in LOAD.findall(source)]
    assert len(loads) >= 8  # the NATO chapter, the conclusion and problem set 1 all load it
    for where, release, page in loads:
        assert release, f"{where}: load_dataset('nato_defence_expenditure') must say which release it takes"
        assert release_named(release, page) in names, f"{where}: release={release} names no single release"


def test_the_current_story_uses_the_latest_release():
    for name in ("nato.md", "conclusion.md"):
        text = (ROOT / "book" / name).read_text(encoding="utf-8")
        assert re.search(rf'^LATEST = "{LATEST}"', text, re.M) and "release=LATEST" in text, name
    ps1 = [(w, s, p) for w, s, p in code_cells() if w.startswith("ps1-")]
    setup = next(s for w, s, _ in ps1 if "spending = load_dataset" in s)
    assert f'spending = load_dataset("nato_defence_expenditure", release="{LATEST}")' in setup


def test_no_page_puts_both_releases_in_one_frame():
    # release="all" would mix the releases in one table; the chapters compare them side by side,
    # each loaded by name. Only the data appendix loads "all", to count rows per release.
    for where, source, _ in code_cells():
        if not where.startswith("data.md"):
            assert 'release="all"' not in source, where
