"""The checks in graded notebooks: tolerant where it does not matter, clear where it does."""

import pandas as pd
import pytest

from mildip.checks import (
    CheckFailed,
    expect_close,
    expect_frame,
    expect_number,
    expect_same_items,
    expect_series,
)

EXPECTED = pd.Series([3, 5, 23], index=[2014, 2015, 2024])


def test_row_order_and_int_vs_float_do_not_matter():
    expect_close(EXPECTED.iloc[::-1].astype(float), EXPECTED, name="answer")


def test_float_noise_is_tolerated_but_real_differences_are_not():
    expect_close(0.1 + 0.2, 0.3, name="x")
    with pytest.raises(CheckFailed, match="`x` is not the expected value"):
        expect_close(0.31, 0.3, name="x")


def test_wrong_values_are_counted_without_revealing_them():
    wrong = EXPECTED.copy()
    wrong[2024] = 22
    with pytest.raises(CheckFailed) as error:
        expect_close(wrong, EXPECTED, name="answer")
    assert "1 of 3 values of `answer` differ" in str(error.value)
    assert "23" not in str(error.value)


def test_wrong_type_length_and_index_are_named():
    with pytest.raises(CheckFailed, match="should be a Series, but it is a list"):
        expect_series([1, 2], name="a")
    with pytest.raises(CheckFailed, match="should have 3 entries; it has 2"):
        expect_series(EXPECTED.iloc[:2], name="a", length=3)
    with pytest.raises(CheckFailed, match="1 expected labels are missing and 1 are unexpected"):
        expect_series(pd.Series([1, 2], index=[1, 2]), name="a", index=[1, 3])
    with pytest.raises(CheckFailed, match="is None"):
        expect_series(None, name="a")


def test_frames_report_missing_columns_and_row_counts():
    frame = pd.DataFrame({"country": ["A", "B"], "share": [1.0, 2.0]})
    with pytest.raises(CheckFailed, match="missing the column\\(s\\) 'year'"):
        expect_frame(frame, name="f", columns=["country", "year"])
    with pytest.raises(CheckFailed, match="should have 3 rows; it has 2"):
        expect_frame(frame, name="f", rows=3)
    expect_close(frame.iloc[::-1].set_index("country"), frame.set_index("country"), name="f")


def test_numbers_must_be_single_finite_values_in_range():
    with pytest.raises(CheckFailed, match="single number"):
        expect_number(pd.Series([1.0]), name="r")
    with pytest.raises(CheckFailed, match="NaN"):
        expect_number(float("nan"), name="r")
    with pytest.raises(CheckFailed, match="outside the plausible range"):
        expect_number(1.5, name="r", between=(-1, 1))
    with pytest.raises(CheckFailed, match="single number"):
        expect_number(True, name="r")


def test_same_items_ignores_order_but_not_membership():
    expect_same_items(["b", "a"], ["a", "b"], name="names")
    with pytest.raises(CheckFailed, match="1 expected item\\(s\\) missing, 1 unexpected"):
        expect_same_items(["a", "c"], ["a", "b"], name="names")
    with pytest.raises(CheckFailed, match="more than once"):
        expect_same_items(["a", "a", "b"], ["a", "b"], name="names")
    with pytest.raises(CheckFailed, match="should be a collection"):
        expect_same_items("ab", ["a", "b"], name="names")
