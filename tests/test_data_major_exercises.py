"""Hand-made table of major recurring exercises: every row sourced, first years as the sources state."""

import pytest

from mildip import load_dataset


@pytest.fixture(scope="module")
def majors():
    return load_dataset("major_exercises")


def test_rows_keys_and_sources(majors):
    assert len(majors) >= 7
    assert majors["exercise"].is_unique
    assert majors["first_year"].between(1945, 2024).all()
    assert majors["source"].str.contains("https://").all()
    assert set(majors["region"].dropna().astype(str)) <= {"Europe", "Indo-Pacific", "Africa", "Americas", "Middle East"}


def first_year(majors, name):
    return int(majors.loc[majors["exercise"].str.startswith(name), "first_year"].iloc[0])


def test_first_years_as_stated_in_the_sources(majors):
    # Honolulu Star-Advertiser, 9 May 2012: "The series began in 1971."
    assert first_year(majors, "RIMPAC") == 1971
    # Associated Press, 28 February 2023: Cobra Gold "began as a joint Thai-U.S. maritime exercise in 1982".
    assert first_year(majors, "Cobra Gold") == 1982
    # DVIDS, 20 July 2023: Talisman Sabre "conducted biennially since 2005".
    assert first_year(majors, "Talisman Sabre") == 2005
    # Royal Australian Air Force history page: Pitch Black first held 15-16 June 1981.
    assert first_year(majors, "Pitch Black") == 1981
    # US Embassy in Chad, 2015: "Flintlock exercises began in 2005".
    assert first_year(majors, "Flintlock") == 2005


def test_disputed_first_years_carry_a_note(majors):
    for name in ("BALTOPS", "Balikatan", "African Lion"):
        note = majors.loc[majors["exercise"].str.startswith(name), "first_year_note"].iloc[0]
        assert isinstance(note, str) and note, name
