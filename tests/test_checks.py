"""The checks in graded notebooks: tolerant where it does not matter, clear where it does."""

import numpy as np
import pandas as pd
import pytest

from mildip.checks import (
    CheckFailed,
    expect,
    expect_close,
    expect_frame,
    expect_integers,
    expect_number,
    expect_same_items,
    expect_series,
)

EXPECTED = pd.Series([3, 5, 23], index=[2014, 2015, 2024])


def failure(check, *args, **kwargs) -> str:
    with pytest.raises(CheckFailed) as error:
        check(*args, **kwargs)
    return str(error.value)


def test_row_order_and_int_vs_float_do_not_matter():
    expect_close(EXPECTED.iloc[::-1].astype(float), EXPECTED, name="answer")


def test_float_noise_is_tolerated_but_real_differences_are_not():
    expect_close(0.1 + 0.2, 0.3, name="x")
    message = failure(expect_close, 0.31, 0.3, name="x")
    assert message.startswith("`x` is 0.31, which does not match the value recomputed from the data")
    assert "0.3," not in message.replace("0.31,", "")


def test_an_answer_rounded_to_the_precision_asked_passes():
    expect_close(round(0.14285714, 2), 0.14285714, name="r", digits=2)
    expect_close(0.145, 0.14285714, name="r", digits=2)           # within half a unit of the 2nd decimal
    expect_close(12.35, 12.345, name="r", digits=2)                # a rounding of the boundary itself
    expect_close(np.float64(7.0), 7.4, name="r", digits=0)
    shares = pd.Series([33.3333333, 66.6666667], index=["a", "b"])
    expect_close(shares.round(1), shares, name="s", digits=1)
    expect_close(pd.DataFrame({"x": shares.round(2)}), pd.DataFrame({"x": shares}), name="f", digits=2)


def test_beyond_the_precision_asked_fails_and_says_which_precision():
    message = failure(expect_close, 0.16, 0.14285714, name="r", digits=2)
    assert "(compared to 2 decimal places)" in message
    assert "0.1428" not in message and "0.14," not in message
    message = failure(expect_close, pd.Series([33.4, 66.6], index=["a", "b"]),
                      pd.Series([33.3333333, 66.6666667], index=["a", "b"]), name="s", digits=2)
    assert "2 of 2 values of `s` differ" in message and "33.33" not in message


def test_a_hint_says_what_to_check_in_the_students_terms():
    message = failure(expect_close, 0.5, 0.14, name="r", digits=2, hint="Use the rank (Spearman) correlation.")
    assert message.endswith("Use the rank (Spearman) correlation.")
    message = failure(expect_same_items, ["Poland"], ["Latvia"], name="names", hint="Check the years.")
    assert message.endswith("Check the years.")


def test_wrong_values_are_counted_without_revealing_them():
    wrong = EXPECTED.copy()
    wrong[2024] = 22
    message = failure(expect_close, wrong, EXPECTED, name="answer")
    assert "1 of 3 values of `answer` differ" in message
    assert "the first is at 2024, where yours is 22" in message
    assert "23" not in message


def test_numpy_labels_and_values_are_shown_as_a_student_writes_them():
    expected = pd.Series([1.0, 2.0], index=pd.Index(np.array([2019, 2020], dtype="int64")))
    answer = pd.Series([1.0, 5.0], index=pd.Index(np.array([2019, 2020], dtype="int64")))
    message = failure(expect_close, answer, expected, name="a")
    assert "np." not in message and "int64" not in message
    assert "at 2020, where yours is 5" in message
    message = failure(expect_number, np.float64(3.5), name="r", between=(0, 1))
    assert "np." not in message and "3.5" in message
    message = failure(expect_series, pd.Series([1], index=[np.int64(1999)]), name="a", index=[2000])
    assert "np." not in message and "1999" in message


def test_no_message_says_only_that_a_value_is_not_the_expected_one():
    messages = [failure(expect_close, 2.0, 1.0, name="x"),
                failure(expect_close, pd.Series([1, 2]), pd.Series([1, 3]), name="s"),
                failure(expect_same_items, [1], [2], name="l")]
    assert all("expected value" not in m for m in messages)


def test_wrong_type_length_and_index_are_named():
    assert "should be a Series, but it is a list" in failure(expect_series, [1, 2], name="a")
    assert "should have 3 entries; it has 2" in failure(expect_series, EXPECTED.iloc[:2], name="a", length=3)
    message = failure(expect_series, pd.Series([1, 2], index=[1, 2]), name="a", index=[1, 3])
    assert "1 expected label(s) are missing and 1 are unexpected (for example 2)" in message
    assert "is None" in failure(expect_series, None, name="a")


def test_frames_report_missing_columns_and_row_counts():
    frame = pd.DataFrame({"country": ["A", "B"], "share": [1.0, 2.0]})
    assert "missing the column(s) 'year'" in failure(expect_frame, frame, name="f", columns=["country", "year"])
    assert "should have 3 rows; it has 2" in failure(expect_frame, frame, name="f", rows=3)
    expect_close(frame.iloc[::-1].set_index("country"), frame.set_index("country"), name="f")


def test_numbers_must_be_single_finite_values_in_range():
    assert "single number" in failure(expect_number, pd.Series([1.0]), name="r")
    assert "NaN" in failure(expect_number, float("nan"), name="r")
    assert "outside the plausible range" in failure(expect_number, 1.5, name="r", between=(-1, 1))
    assert "single number" in failure(expect_number, True, name="r")
    assert "single number" in failure(expect_number, np.bool_(True), name="r")


def test_numpy_numbers_count_as_numbers_and_integers():
    expect_number(np.int64(3), name="n", between=(0, 5))
    expect_number(np.float32(0.5), name="r")
    expect_integers([1990, np.int64(1991), np.int32(1992)], name="years")
    expect_integers(np.arange(3), name="years")
    expect_integers(pd.Series([1, 2]), name="years")
    expect_integers([], name="years")
    assert "whole numbers" in failure(expect_integers, [1990, 1991.5], name="years")
    assert "whole numbers" in failure(expect_integers, [True], name="years")
    assert "list of whole numbers" in failure(expect_integers, 1990, name="years")
    assert "list of whole numbers" in failure(expect_integers, "1990", name="years")


def test_same_items_ignores_order_and_numpy_types_but_not_membership():
    expect_same_items(["b", "a"], ["a", "b"], name="names")
    expect_same_items([np.int64(1995), 1996], [1996, 1995], name="years")
    expect_same_items(np.array([1995, 1996]), pd.Index([1995, 1996]), name="years")
    message = failure(expect_same_items, ["a", "c"], ["a", "b"], name="names")
    assert "1 item(s) that belong in it are missing and 1 do not belong in it (for example c)" in message
    assert "b" not in message.replace("belong", "")
    assert "more than once" in failure(expect_same_items, ["a", "a", "b"], ["a", "b"], name="names")
    assert "should be a collection" in failure(expect_same_items, "ab", ["a", "b"], name="names")


def test_expect_states_a_condition_of_the_question():
    expect(True, "never shown")
    assert failure(expect, False, "`x` should be sorted.") == "`x` should be sorted."
    assert failure(expect, pd.Series([True, False]).all(), "all of them") == "all of them"


def test_a_failed_check_shows_as_one_line_in_ipython():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    try:
        with capture_output() as captured:
            shell.run_cell("from mildip.checks import expect_number\nexpect_number('ten', name='size_share_corr')")
    finally:
        InteractiveShell.clear_instance()
    shown = captured.stdout + captured.stderr
    assert shown.strip() == "Check failed: `size_share_corr` should be a single number, but it is a str."
    assert "Traceback" not in shown and "checks.py" not in shown
