"""Checks used by the graded notebooks.

Each check raises :class:`CheckFailed` (an ``AssertionError``) with a message that says what
is wrong in the student's terms (wrong type, missing column, wrong number of rows, values that
differ from the ones recomputed from the data, with a hint) without giving the expected answer
away: a message may quote the student's own value, never the expected one. In a notebook a
failed check shows as one line, not as a traceback into this module.

Comparisons are tolerant where the difference does not matter: row order, integer vs float
dtypes, numpy vs Python numbers, index vs column, floating-point noise, and rounding to the
precision a question asks for (``expect_close(..., digits=2)`` accepts any answer within half
a unit of the second decimal place, so an answer rounded to 2 decimals passes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "CheckFailed",
    "expect",
    "expect_type",
    "expect_series",
    "expect_frame",
    "expect_number",
    "expect_integers",
    "expect_close",
    "expect_same_items",
    "passed",
]


class CheckFailed(AssertionError):
    """A check on a student's answer failed; the message says why."""

    def _render_traceback_(self) -> list[str]:
        # IPython (and so Jupyter and nbgrader's Validate) shows these lines instead of a
        # traceback: the student needs the message, not the inside of this module.
        return [f"Check failed: {self}"]


def _fail(message: str):
    raise CheckFailed(message)


def _with_hint(message: str, hint: str | None) -> str:
    return f"{message} {hint.strip()}" if hint else message


def _plain(value):
    """A numpy scalar as the Python value it stands for (np.int64(2019) -> 2019)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _show(value) -> str:
    """A value as a student would write it: 2019, 'Poland', ('A', 'B'), 0.1235."""
    value = _plain(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:.6g}"
    if isinstance(value, (pd.Timestamp,)):
        return str(value)
    return str(value)


def _named(name: str) -> str:
    """A name as code (`size_share_corr`, `shares[2014]`) or, if it is a phrase, as it is."""
    return name if " " in name and not any(c in name for c in "[]`") else f"`{name}`"


def _type_name(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool (True/False)"
    if isinstance(value, (np.integer, np.floating)):
        return f"numpy {type(value).__name__}"
    return type(value).__name__


def _is_number(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _precision(digits: int | None) -> str:
    if digits is None:
        return ""
    if digits <= 0:
        return " (compared as whole numbers)"
    return f" (compared to {digits} decimal place{'s' if digits != 1 else ''})"


def _tolerances(digits: int | None, rel: float, abs_tol: float) -> tuple[float, float]:
    """(relative, absolute) tolerance: ``digits`` means 'equal once rounded to that precision'."""
    if digits is None:
        return rel, abs_tol
    # Half a unit of the last digit asked for, plus float noise, so that round(x, digits) passes.
    return 0.0, 0.5 * 10.0 ** (-digits) * (1 + 1e-9) + 1e-12


def expect(condition, message: str) -> None:
    """Fail with ``message`` unless ``condition`` is true (for checks written in a test cell)."""
    if not bool(condition):
        _fail(message)


def expect_type(answer, kind, *, name: str) -> None:
    """``answer`` is an instance of ``kind`` (a type or tuple of types)."""
    if answer is None:
        _fail(f"{_named(name)} is None: did the cell assign a value to {_named(name)}?")
    if not isinstance(answer, kind):
        wanted = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        _fail(f"{_named(name)} should be a {wanted}, but it is a {_type_name(answer)}.")


def expect_series(answer, *, name: str, length: int | None = None, index: Iterable | None = None,
                  numeric: bool = True) -> None:
    """``answer`` is a Series with ``length`` entries, the given index labels, numeric values."""
    expect_type(answer, pd.Series, name=name)
    if length is not None and len(answer) != length:
        _fail(f"{_named(name)} should have {length} entries; it has {len(answer)}.")
    if index is not None:
        wanted = {_plain(x) for x in index}
        have = {_plain(x) for x in answer.index}
        if have != wanted:
            unexpected = sorted(have - wanted, key=str)
            example = f" (for example {_show(unexpected[0])})" if unexpected else ""
            _fail(f"the index of {_named(name)} is not right: {len(wanted - have)} expected label(s) are missing "
                  f"and {len(unexpected)} are unexpected{example}.")
    if numeric and not pd.api.types.is_numeric_dtype(answer.dtype):
        _fail(f"{_named(name)} should hold numbers, but its values are of type {answer.dtype}.")


def expect_frame(answer, *, name: str, columns: Iterable[str] | None = None, rows: int | None = None) -> None:
    """``answer`` is a DataFrame with (at least) ``columns`` and exactly ``rows`` rows."""
    expect_type(answer, pd.DataFrame, name=name)
    if columns is not None:
        missing = [c for c in columns if c not in answer.columns]
        if missing:
            _fail(f"{_named(name)} is missing the column(s) {', '.join(map(_show, missing))}.")
    if rows is not None and len(answer) != rows:
        _fail(f"{_named(name)} should have {rows} rows; it has {len(answer)}.")


def expect_number(answer, *, name: str, between: tuple[float, float] | None = None) -> None:
    """``answer`` is a single real number (Python or numpy), optionally within ``between``."""
    if not _is_number(answer):
        _fail(f"{_named(name)} should be a single number, but it is a {_type_name(answer)}.")
    if math.isnan(float(answer)):
        _fail(f"{_named(name)} is NaN (not a number): check for missing values in your calculation.")
    if between is not None and not between[0] <= float(answer) <= between[1]:
        _fail(f"{_named(name)} is {_show(answer)}, outside the plausible range {between[0]} to {between[1]}.")


def expect_integers(answer, *, name: str) -> None:
    """``answer`` is a list (or tuple, Series, array) of whole numbers; numpy integers count."""
    if isinstance(answer, (str, bytes, dict)) or not isinstance(answer, Iterable):
        _fail(f"{_named(name)} should be a list of whole numbers, but it is a {_type_name(answer)}.")
    for item in answer:
        if not _is_integer(item):
            _fail(f"{_named(name)} should hold whole numbers (integers such as 2019), but it holds "
                  f"{_show(item)}, a {_type_name(item)}.")


def _numbers(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(dtype=float)


def expect_close(answer, expected, *, name: str, digits: int | None = None, rel: float = 1e-4,
                 abs_tol: float = 1e-6, hint: str | None = None) -> None:
    """``answer`` equals ``expected`` within tolerance (numbers, Series or DataFrames).

    ``digits`` is the precision the question asks for: values are compared as if rounded to
    that many decimal places, so an answer rounded to it passes. Without it the comparison
    allows floating-point noise only (``rel``, ``abs_tol``). ``hint`` (what to check, in the
    student's terms) is added to the message of a failure. Series and DataFrames are compared
    after aligning on their index (row order does not matter); DataFrames on the expected
    columns only.
    """
    if isinstance(expected, pd.DataFrame):
        expect_frame(answer, name=name, columns=list(expected.columns), rows=len(expected))
        for column in expected.columns:
            expect_close(answer[column], expected[column], name=f"{name}[{_show(column)}]", digits=digits,
                         rel=rel, abs_tol=abs_tol, hint=hint)
        return
    rtol, atol = _tolerances(digits, rel, abs_tol)
    if isinstance(expected, pd.Series):
        numeric = pd.api.types.is_numeric_dtype(expected.dtype)
        expect_series(answer, name=name, length=len(expected), index=expected.index, numeric=numeric)
        got = answer.copy()
        got.index = [_plain(x) for x in got.index]
        got = got[~pd.Index(got.index).duplicated()].reindex([_plain(x) for x in expected.index])
        if numeric:
            off = ~np.isclose(_numbers(got), _numbers(expected), rtol=rtol, atol=atol, equal_nan=True)
        else:
            off = (got.astype(str).to_numpy() != expected.astype(str).to_numpy())
        if off.any():
            at = int(np.flatnonzero(off)[0])
            _fail(_with_hint(
                f"{int(off.sum())} of {len(expected)} values of {_named(name)} differ from the values recomputed "
                f"from the data{_precision(digits)}; the first is at {_show(expected.index[at])}, where yours "
                f"is {_show(got.iloc[at])}.", hint))
        return
    expect_number(answer, name=name)
    if not math.isclose(float(answer), float(expected), rel_tol=rtol, abs_tol=atol):
        _fail(_with_hint(f"{_named(name)} is {_show(answer)}, which does not match the value recomputed from the "
                         f"data{_precision(digits)}.", hint))


def _item(value):
    value = _plain(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def expect_same_items(answer, expected: Iterable, *, name: str, hint: str | None = None) -> None:
    """``answer`` holds the same items as ``expected``, in any order (list, set, Series, Index).

    Items are compared as text, with numpy numbers as the Python numbers they stand for.
    """
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
        _fail(f"{_named(name)} should be a collection (a list, set or Series), but it is a {_type_name(answer)}.")
    have = [_item(x) for x in answer]
    if len(set(have)) != len(have):
        _fail(f"{_named(name)} lists some items more than once.")
    wanted = {_item(x) for x in expected}
    missing, extra = wanted - set(have), sorted(set(have) - wanted)
    if missing or extra:
        example = f" (for example {extra[0]})" if extra else ""
        _fail(_with_hint(f"{_named(name)} is not right: {len(missing)} item(s) that belong in it are missing and "
                         f"{len(extra)} do not belong in it{example}.", hint))


def passed(what: str) -> None:
    """Print the line a visible test cell shows when its checks pass."""
    print(f"Visible checks passed for {what}. Hidden tests will also be run when your work is graded.")
