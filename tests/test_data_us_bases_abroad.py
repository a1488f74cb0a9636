"""US military sites abroad (David Vine's list via troopdata)."""


import pytest

from mildip import load_dataset



@pytest.fixture(scope="module")
def bases():
    return load_dataset("us_bases_abroad")


def site(frame, name):
    found = frame[frame["base_name"] == name]
    assert len(found) == 1, name
    return found.iloc[0]


def test_coverage_keys_and_ranges(bases):
    assert len(bases) == 413
    assert bases["host_country"].nunique() == 92
    assert bases["site_id"].is_unique
    assert bases["lat"].dropna().between(-90, 90).all() and bases["lon"].dropna().between(-180, 180).all()
    assert bases["lat"].isna().sum() == 7
    # One flag per site, except IMF Santa Rosa (Iquitos), a lily pad and a funded site.
    flags = bases[["base", "lily_pad", "funded_site"]].sum(axis=1)
    assert (flags >= 1).all()
    assert bases.loc[flags > 1, "base_name"].tolist() == ["IMF Santa Rosa, Iquitos"]
    # Pochon is the only name listed twice in one host (once as a base, once as a lily pad).
    repeated = bases[bases.duplicated(["host_country", "base_name"], keep=False)]
    assert set(repeated["base_name"]) == {"Pochon"}
    assert "\t" not in "".join(bases["base_name"])


def test_names_and_codes_follow_the_crosswalk(bases):
    countries = load_dataset("countries").set_index("cow_code")
    coded = bases[bases["cow_code"].notna()]
    assert (coded["host_country"].astype(str) == coded["cow_code"].map(countries["country"]).astype(str)).all()
    uncoded = bases[bases["cow_code"].isna()]
    assert uncoded["iso3"].isna().all()
    assert {"Guam", "Greenland", "British Indian Ocean Territory", "Antarctica"} <= set(uncoded["host_country"].astype(str))


def test_spot_checks_against_the_source(bases):
    # Sites and coordinates as listed in troopdata's basedata.csv (Vine 2015, updated to 2018).
    ramstein = site(bases, "Ramstein AFB")
    assert ramstein["host_country"] == "Germany" and ramstein["base"]
    assert abs(ramstein["lat"] - 49.44) < 0.01 and abs(ramstein["lon"] - 7.5971) < 0.01
    lemonnier = site(bases, "Camp Lemonnier")
    assert lemonnier["host_country"] == "Djibouti" and lemonnier["iso3"] == "DJI" and lemonnier["base"]
    kadena = site(bases, "Kadena AB, Okinawa")
    assert kadena["host_country"] == "Japan" and kadena["cow_code"] == 740 and kadena["base"]
    diego = site(bases, "Diego Garcia")
    assert diego["host_country"] == "British Indian Ocean Territory" and diego["base"]
    dungu = site(bases, "Dungu")
    assert dungu["cow_code"] == 490 and dungu["lily_pad"]
    assert bases.groupby("host_country", observed=True).size().idxmax() == "Germany"
