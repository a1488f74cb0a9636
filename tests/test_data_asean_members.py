"""asean_members: the members of ASEAN and the date each joined."""

import pandas as pd
import pytest

from mildip import describe, load_dataset


@pytest.fixture(scope="module")
def asean():
    return load_dataset("asean_members")


@pytest.fixture(scope="module")
def countries():
    return load_dataset("countries")


def test_eleven_members_with_unique_codes(asean):
    assert len(asean) == 11
    for column in ("country", "iso3", "cow_code"):
        assert asean[column].is_unique, column
    assert asean["source"].str.len().min() > 20


def test_names_and_codes_come_from_the_crosswalk(asean, countries):
    cross = countries.set_index("cow_code")
    assert set(asean["cow_code"]) <= set(cross.index)
    assert (asean["country"].astype(str) == asean["cow_code"].map(cross["country"]).astype(str)).all()
    assert (asean["iso3"].astype(str) == asean["cow_code"].map(cross["iso3"]).astype(str)).all()


def test_founders_signed_the_bangkok_declaration_on_8_august_1967(asean):
    # ASEAN Secretariat, joint press release of the First ASEAN Ministerial Meeting, 8 August 1967.
    founders = asean[asean["founding"]]
    assert set(founders["iso3"]) == {"IDN", "MYS", "PHL", "SGP", "THA"}
    assert (founders["joined"] == pd.Timestamp("1967-08-08")).all()
    assert (asean.loc[~asean["founding"], "joined"] > pd.Timestamp("1967-08-08")).all()


def test_admission_dates_match_asean(asean):
    joined = asean.set_index("iso3")["joined"]
    # ASEAN Secretariat, About ASEAN (Brunei 7 January 1984; the ASEAN-Japan Centre gives 8 January).
    assert joined["BRN"] == pd.Timestamp("1984-01-07")
    # ASEAN-Japan Centre, Outline of ASEAN.
    assert joined["VNM"] == pd.Timestamp("1995-07-28")
    assert joined["LAO"] == joined["MMR"] == pd.Timestamp("1997-07-23")
    assert joined["KHM"] == pd.Timestamp("1999-04-30")
    # ASEAN statement on the Declaration on the Admission of Timor-Leste, 47th ASEAN Summit.
    assert joined["TLS"] == pd.Timestamp("2025-10-26")


def test_timor_leste_is_the_crosswalk_name_for_cow_860(asean, countries):
    name = countries.set_index("cow_code").loc[860, "country"]
    assert asean.set_index("cow_code").loc[860, "country"] == name


def test_as_of_is_the_latest_admission(asean):
    assert pd.Timestamp(describe("asean_members").as_of) == asean["joined"].max()
    assert pd.api.types.is_datetime64_any_dtype(asean["joined"])
    assert asean["founding"].dtype == bool
