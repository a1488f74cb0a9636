"""Checks used by the graded notebooks.

Each check raises :class:`CheckFailed` (an ``AssertionError``) with a message that says what
is wrong (wrong type, missing column, wrong number of rows, values off) without giving the
expected answer away. Comparisons are tolerant where the difference does not matter: row
order, integer vs float dtypes, index vs column, and floating-point noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "CheckFailed",
    "expect_type",
    "expect_series",
    "expect_frame",
    "expect_number",
    "expect_close",
    "expect_same_items",
    "passed",
]


class CheckFailed(AssertionError):
    """A check on a student's answer failed; the message says why."""


def _fail(message: str):
    raise CheckFailed(message)


def _type_name(value) -> str:
    return type(value).__name__


def expect_type(answer, kind, *, name: str) -> None:
    """``answer`` is an instance of ``kind`` (a type or tuple of types)."""
    if answer is None:
        _fail(f"`{name}` is None: did the cell assign a value to `{name}`?")
    if not isinstance(answer, kind):
        wanted = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        _fail(f"`{name}` should be a {wanted}, but it is a {_type_name(answer)}.")


def expect_series(answer, *, name: str, length: int | None = None, index: Iterable | None = None,
                  numeric: bool = True) -> None:
    """``answer`` is a Series with ``length`` entries, the given index labels, numeric values."""
    expect_type(answer, pd.Series, name=name)
    if length is not None and len(answer) != length:
        _fail(f"`{name}` should have {length} entries; it has {len(answer)}.")
    if index is not None:
        wanted = set(index)
        have = set(answer.index)
        if have != wanted:
            _fail(f"the index of `{name}` is not right: {len(wanted - have)} expected labels are missing "
                  f"and {len(have - wanted)} are unexpected.")
    if numeric and not pd.api.types.is_numeric_dtype(answer.dtype):
        _fail(f"`{name}` should hold numbers, but its values are of type {answer.dtype}.")


def expect_frame(answer, *, name: str, columns: Iterable[str] | None = None, rows: int | None = None) -> None:
    """``answer`` is a DataFrame with (at least) ``columns`` and exactly ``rows`` rows."""
    expect_type(answer, pd.DataFrame, name=name)
    if columns is not None:
        missing = [c for c in columns if c not in answer.columns]
        if missing:
            _fail(f"`{name}` is missing the column(s) {', '.join(map(repr, missing))}.")
    if rows is not None and len(answer) != rows:
        _fail(f"`{name}` should have {rows} rows; it has {len(answer)}.")


def expect_number(answer, *, name: str, between: tuple[float, float] | None = None) -> None:
    """``answer`` is a single real number, optionally within ``between`` (inclusive)."""
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, float, np.integer, np.floating)):
        _fail(f"`{name}` should be a single number, but it is a {_type_name(answer)}.")
    if math.isnan(float(answer)):
        _fail(f"`{name}` is NaN (not a number): check for missing values in your calculation.")
    if between is not None and not between[0] <= float(answer) <= between[1]:
        _fail(f"`{name}` is outside the plausible range {between[0]} to {between[1]}.")


def expect_close(answer, expected, *, name: str, rel: float = 1e-4, abs_tol: float = 1e-6) -> None:
    """``answer`` equals ``expected`` up to float tolerance (numbers, Series or DataFrames).

    Series and DataFrames are compared after aligning on their index (row order does not
    matter); DataFrames are compared on the expected columns only.
    """
    if isinstance(expected, pd.DataFrame):
        expect_frame(answer, name=name, columns=list(expected.columns), rows=len(expected))
        for column in expected.columns:
            expect_close(answer[column], expected[column], name=f"{name}[{column!r}]", rel=rel, abs_tol=abs_tol)
        return
    if isinstance(expected, pd.Series):
        expect_series(answer, name=name, length=len(expected), index=expected.index,
                      numeric=pd.api.types.is_numeric_dtype(expected.dtype))
        got = answer.reindex(expected.index)
        if pd.api.types.is_numeric_dtype(expected.dtype):
            off = ~np.isclose(got.astype(float), expected.astype(float), rtol=rel, atol=abs_tol, equal_nan=True)
        else:
            off = (got.astype(str) != expected.astype(str)).to_numpy()
        if off.any():
            first = expected.index[np.flatnonzero(off)[0]]
            _fail(f"{int(off.sum())} of {len(expected)} values of `{name}` differ from the expected result "
                  f"(the first at {first!r}).")
        return
    expect_number(answer, name=name)
    if not math.isclose(float(answer), float(expected), rel_tol=rel, abs_tol=abs_tol):
        _fail(f"`{name}` is not the expected value.")


def expect_same_items(answer, expected: Iterable, *, name: str) -> None:
    """``answer`` holds the same items as ``expected``, in any order (list, set, Series, Index)."""
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
        _fail(f"`{name}` should be a collection (a list, set or Series), but it is a {_type_name(answer)}.")
    have = [str(x) for x in answer]
    if len(set(have)) != len(have):
        _fail(f"`{name}` lists some items more than once.")
    wanted = {str(x) for x in expected}
    missing, extra = wanted - set(have), set(have) - wanted
    if missing or extra:
        _fail(f"`{name}` is not right: {len(missing)} expected item(s) missing, {len(extra)} unexpected.")


def passed(what: str) -> None:
    """Print the line a visible test cell shows when its checks pass."""
    print(f"Visible checks passed for {what}. Hidden tests will also be run when your work is graded.")
