"""The book's one formatter for numbers, counts, lists and dates in prose (mildip.text)."""

import datetime

import pandas as pd
import pytest

from mildip import text


@pytest.mark.parametrize(("value", "expected"), [(1882, "1,882"), (3707, "3,707"), (464751, "464,751"), (7, "7"),
                                                 (0, "0"), (2.0, "2")])
def test_numbers_have_thousands_separators(value, expected):
    assert text.number(value) == expected


def test_decimals_and_percentages():
    assert text.number(1234.5678, 1) == "1,234.6"
    assert text.percent(23.456) == "23%"
    assert text.percent(0.46, 1) == "0.5%"


def test_small_numbers_can_be_words():
    assert text.number(3, words=True) == "three"
    assert text.number(11, words=True) == "11"


def test_a_missing_value_is_an_error_not_nan():
    with pytest.raises(ValueError):
        text.number(float("nan"))


@pytest.mark.parametrize(("n", "expected"), [(0, "no sites"), (1, "1 site"), (2, "2 sites"), (1500, "1,500 sites")])
def test_counts_agree_with_their_noun(n, expected):
    assert text.count(n, "site") == expected


def test_irregular_and_zero_forms():
    assert text.count(1, "party", "parties") == "1 party"
    assert text.count(3, "party") == "3 parties"
    assert text.count(2, "match") == "2 matches"
    assert text.count(0, "partner", zero="") == "0 partners"
    assert f"only {text.count(2, 'exercise')} {text.verb(2, 'is', 'are')} flagged" == "only 2 exercises are flagged"
    assert f"only {text.count(1, 'exercise')} {text.verb(1, 'is', 'are')} flagged" == "only 1 exercise is flagged"


def test_lists_read_as_prose():
    assert text.join([]) == "none"
    assert text.join(["France"]) == "France"
    assert text.join(["France", "Germany"]) == "France and Germany"
    assert text.join(["A", "B", "C"]) == "A, B and C"
    assert text.join(["A", "B"], conjunction="or") == "A or B"


def test_a_list_after_its_noun_agrees_in_number():
    assert text.join(["United States (95)"], lead="partner") == "partner was United States (95)"
    assert text.join(["A (3)", "B (2)"], lead="partner") == "partners were A (3) and B (2)"


@pytest.mark.parametrize("value", [datetime.date(1999, 6, 10), datetime.datetime(1999, 6, 10, 12),
                                   pd.Timestamp("1999-06-10"), "1999-06-10"])
def test_dates_have_one_style_on_every_platform(value):
    assert text.date(value) == "10 June 1999"


def test_year_ranges():
    assert text.year_range([1990, 1980, 2010]) == "1980-2010"
    assert text.year_range([2001]) == "2001"
