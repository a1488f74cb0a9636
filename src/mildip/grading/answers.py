"""Answers as plain data: how a student's values cross from the sandbox to the tests.

:func:`encode` runs in the student's kernel and turns a value into JSON-compatible data:
numbers, strings, booleans, None, lists, tuples, sets, dicts, pandas Series, DataFrames and
Index objects, numpy arrays, timestamps and time spans, each converted to its base type (a
numpy integer becomes an ``int``, a subclass of Series a Series). Anything else arrives as an
:class:`Opaque` stand-in that carries only its type's name, and a function as a reference the
tests can call back (:class:`StudentFunction`).

:func:`decode` runs where the tests run. It trusts nothing: every field is checked, only a
short list of dtypes is accepted, sizes are bounded, and a malformed answer raises
:class:`AnswerError`. Nothing is ever unpickled or evaluated.
"""

from __future__ import annotations

import datetime
import inspect
import math
from collections.abc import Callable

import numpy as np
import pandas as pd

MISSING = {"t": "missing"}
MAX_DEPTH = 20
MAX_ITEMS = 2_000_000

INTEGER_DTYPES = {f"{s}int{b}" for s in ("", "u") for b in (8, 16, 32, 64)}
FLOAT_DTYPES = {"float16", "float32", "float64"}
NULLABLE_DTYPES = {f"{s}Int{b}" for s in ("", "U") for b in (8, 16, 32, 64)} | {"Float32", "Float64", "boolean"}
TIME_UNITS = {"s", "ms", "us", "ns"}


class AnswerError(ValueError):
    """An encoded answer is malformed or too large."""


class Budget:
    """How much data one capture may still send (approximate bytes)."""

    def __init__(self, limit: int):
        self.left = limit

    def spend(self, amount: int) -> None:
        self.left -= amount
        if self.left < 0:
            raise OverflowError("too large")


class Opaque:
    """Stands in for a value that is not plain data; only its type's name crosses over."""

    def __init__(self, type_name: str, why: str = ""):
        self.type_name, self.why = type_name, why

    def __repr__(self) -> str:
        return f"<{self.type_name}{': ' + self.why if self.why else ''}>"


def opaque_class(type_name: str, why: str = "") -> Opaque:
    """An :class:`Opaque` whose own type has the original type's name, so messages read well."""
    safe = "".join(ch for ch in type_name if ch.isalnum() or ch == "_")[:60] or "object"
    return type(safe, (Opaque,), {})(type_name, why)


class StudentFunction:
    """A student's function, called where it was defined, with plain data in and out."""

    def __init__(self, name: str, caller: Callable):
        self.__name__, self._caller = name, caller

    def __call__(self, *args, **kwargs):
        return self._caller(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__} (the student's)>"


class StudentError(Exception):
    """An exception raised by a student's function when a test called it."""


# --- encoding (runs in the student's kernel) -------------------------------------------


def opaque(value, why: str = "") -> dict:
    return {"t": "opaque", "type": type(value).__name__[:100], "why": why}


def _float(x: float):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _scalar(value, budget: Budget) -> dict | None:
    """The encoding of a scalar, or None if ``value`` is not one."""
    if value is None:
        return {"t": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, (int, np.integer)):
        budget.spend(8)
        return {"t": "int", "v": int(value)}
    if isinstance(value, (float, np.floating)):
        budget.spend(8)
        return {"t": "float", "v": _float(float(value))}
    if isinstance(value, (str, np.str_)):
        budget.spend(len(value) + 2)
        return {"t": "str", "v": str(value)}
    if value is pd.NaT:
        return {"t": "nat"}
    if value is pd.NA:
        return {"t": "na"}
    if isinstance(value, (pd.Timestamp, np.datetime64)) or type(value) is datetime.datetime:
        stamp = pd.Timestamp(value)
        if stamp is pd.NaT:
            return {"t": "nat"}
        return {"t": "timestamp", "v": stamp.value, "unit": "ns", "tz": str(stamp.tz) if stamp.tz else None}
    if isinstance(value, datetime.date):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, (pd.Timedelta, np.timedelta64, datetime.timedelta)):
        span = pd.Timedelta(value)
        return {"t": "nat"} if span is pd.NaT else {"t": "timedelta", "v": span.value}
    return None


def _column(values, budget: Budget) -> dict:
    """A 1-D array-like (Series values, Index, array) as a typed column."""
    array = pd.array(values) if not isinstance(values, (pd.Index, pd.Series)) else values
    dtype = array.dtype
    n = len(array)
    if n > MAX_ITEMS:
        raise OverflowError("too large")
    name = str(dtype)
    if isinstance(dtype, pd.CategoricalDtype):
        categorical = pd.Categorical(array)
        return {"dtype": "category", "categories": _column(categorical.categories, budget),
                "codes": categorical.codes.astype(int).tolist(), "ordered": bool(categorical.ordered)}
    if name in INTEGER_DTYPES or name == "bool":
        budget.spend(8 * n)
        return {"dtype": name, "values": np.asarray(array).tolist()}
    if name in FLOAT_DTYPES:
        budget.spend(8 * n)
        return {"dtype": name, "values": [_float(x) for x in np.asarray(array, dtype=float).tolist()]}
    if name in NULLABLE_DTYPES:
        budget.spend(8 * n)
        masked = pd.array(array, dtype=name)
        out = [None if pd.isna(x) else (bool(x) if name == "boolean" else _float(float(x)) if "Float" in name
                                         else int(x)) for x in masked]
        return {"dtype": name, "values": out}
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = pd.DatetimeIndex(array)
        unit = getattr(stamps, "unit", "ns")
        budget.spend(8 * n)
        ints = stamps.asi8.tolist()
        mask = stamps.isna()
        return {"dtype": "datetime", "unit": unit, "tz": str(stamps.tz) if stamps.tz else None,
                "values": [None if m else v for v, m in zip(ints, mask)]}
    if pd.api.types.is_timedelta64_dtype(dtype):
        spans = pd.TimedeltaIndex(array).as_unit("ns")
        budget.spend(8 * n)
        return {"dtype": "timedelta", "values": [None if m else v for v, m in zip(spans.asi8.tolist(), spans.isna())]}
    if isinstance(dtype, pd.StringDtype):
        out = [None if pd.isna(x) else str(x) for x in array]
        budget.spend(sum(len(x) + 2 for x in out if x is not None) + n)
        # pandas' default string dtype ("str", missing values NaN) or the nullable "string"
        return {"dtype": "str" if name == "str" else "string", "values": out}
    # object (and anything else): each item encoded on its own
    return {"dtype": "object", "values": [_encode(x, budget, 1) for x in np.asarray(array, dtype=object).tolist()]}


def _index(index: pd.Index, budget: Budget) -> dict:
    if isinstance(index, pd.RangeIndex):
        return {"kind": "range", "start": int(index.start), "stop": int(index.stop), "step": int(index.step),
                "name": _encode(index.name, budget, 1)}
    if isinstance(index, pd.MultiIndex):
        return {"kind": "multi", "levels": [_column(index.get_level_values(i), budget) for i in range(index.nlevels)],
                "names": [_encode(n, budget, 1) for n in index.names]}
    return {"kind": "plain", "values": _column(index, budget), "name": _encode(index.name, budget, 1)}


def _encode(value, budget: Budget, depth: int) -> dict:
    if depth > MAX_DEPTH:
        raise OverflowError("nested too deeply")
    scalar = _scalar(value, budget)
    if scalar is not None:
        return scalar
    if isinstance(value, pd.DataFrame):
        return {"t": "frame", "columns": _index(value.columns, budget), "index": _index(value.index, budget),
                "data": [_column(value.iloc[:, i], budget) for i in range(value.shape[1])]}
    if isinstance(value, pd.Series):
        return {"t": "series", "name": _encode(value.name, budget, depth + 1), "index": _index(value.index, budget),
                "values": _column(value, budget)}
    if isinstance(value, pd.Index):
        return {"t": "index", "index": _index(value, budget)}
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _encode(value.item(), budget, depth + 1)
        return {"t": "array", "shape": list(value.shape), "values": _column(value.reshape(-1), budget)}
    if isinstance(value, (list, tuple, set, frozenset)):
        if len(value) > MAX_ITEMS:
            raise OverflowError("too large")
        kind = "list" if isinstance(value, list) else "tuple" if isinstance(value, tuple) else "set"
        return {"t": kind, "v": [_encode(x, budget, depth + 1) for x in value]}
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise OverflowError("too large")
        return {"t": "dict", "v": [[_encode(k, budget, depth + 1), _encode(v, budget, depth + 1)]
                                   for k, v in value.items()]}
    if inspect.isfunction(value) and depth == 0:
        return {"t": "function"}  # the caller adds the name it is known by
    return opaque(value)


def encode(value, budget: Budget) -> dict:
    """The plain-data form of ``value``; a value over the budget is sent as a stand-in."""
    try:
        return _encode(value, budget, 0)
    except OverflowError as error:
        return opaque(value, str(error))
    except RecursionError:
        return opaque(value, "nested too deeply")


# --- decoding (runs where the tests run) ------------------------------------------------


def _need(condition: bool, what: str) -> None:
    if not condition:
        raise AnswerError(what)


def _as_float(x) -> float:
    if isinstance(x, bool):
        raise AnswerError("a number was expected")
    if isinstance(x, (int, float)):
        return float(x)
    _need(x in ("nan", "inf", "-inf"), "a number was expected")
    return float(x)


def _as_int(x) -> int:
    _need(isinstance(x, int) and not isinstance(x, bool), "an integer was expected")
    return x


def _list(x, what: str) -> list:
    _need(isinstance(x, list) and len(x) <= MAX_ITEMS, f"{what} should be a list")
    return x


def _decode_column(data, caller, length: int | None = None):
    _need(isinstance(data, dict), "a column should be a mapping")
    dtype = data.get("dtype")
    _need(isinstance(dtype, str), "a column needs a dtype")
    if dtype == "category":
        categories = _decode_column(data.get("categories"), caller)
        codes = [_as_int(c) for c in _list(data.get("codes"), "codes")]
        _need(all(-1 <= c < len(categories) for c in codes), "category codes out of range")
        _need(isinstance(data.get("ordered"), bool), "ordered should be true or false")
        result = pd.Categorical.from_codes(codes, categories=pd.Index(categories), ordered=data["ordered"])
    else:
        values = _list(data.get("values"), "values")
        if dtype in INTEGER_DTYPES:
            result = np.array([_as_int(v) for v in values], dtype=dtype)
        elif dtype == "bool":
            _need(all(isinstance(v, bool) for v in values), "booleans were expected")
            result = np.array(values, dtype=bool)
        elif dtype in FLOAT_DTYPES:
            result = np.array([_as_float(v) for v in values], dtype=dtype)
        elif dtype in NULLABLE_DTYPES:
            if dtype == "boolean":
                _need(all(v is None or isinstance(v, bool) for v in values), "booleans were expected")
                items = values
            elif "Float" in dtype:
                items = [None if v is None else _as_float(v) for v in values]
            else:
                items = [None if v is None else _as_int(v) for v in values]
            result = pd.array(items, dtype=dtype)
        elif dtype == "datetime":
            unit, tz = data.get("unit"), data.get("tz")
            _need(unit in TIME_UNITS, "unknown time unit")
            _need(tz is None or (isinstance(tz, str) and len(tz) < 64), "bad time zone")
            ints = [np.iinfo("int64").min if v is None else _as_int(v) for v in values]
            stamps = pd.DatetimeIndex(np.array(ints, dtype="int64").view(f"datetime64[{unit}]"))
            try:
                result = stamps.tz_localize("UTC").tz_convert(tz) if tz else stamps
            except Exception as error:  # noqa: BLE001
                raise AnswerError("bad time zone") from error
        elif dtype == "timedelta":
            ints = [np.iinfo("int64").min if v is None else _as_int(v) for v in values]
            result = pd.TimedeltaIndex(np.array(ints, dtype="int64").view("timedelta64[ns]"))
        elif dtype in ("str", "string"):
            _need(all(v is None or isinstance(v, str) for v in values), "strings were expected")
            result = pd.array(values, dtype=dtype)
        elif dtype == "object":
            result = np.empty(len(values), dtype=object)
            for i, v in enumerate(values):
                result[i] = _decode(v, caller, 1)
        else:
            raise AnswerError(f"dtype {dtype[:40]!r} is not accepted")
    if length is not None:
        _need(len(result) == length, "a column has the wrong length")
    return result


def _decode_index(data, caller) -> pd.Index:
    _need(isinstance(data, dict), "an index should be a mapping")
    kind = data.get("kind")
    if kind == "range":
        start, stop, step = (_as_int(data.get(k)) for k in ("start", "stop", "step"))
        _need(step != 0 and len(range(start, stop, step)) <= MAX_ITEMS, "bad range")
        return pd.RangeIndex(start, stop, step, name=_hashable(_decode(data.get("name"), caller, 1)))
    if kind == "multi":
        levels = [_decode_column(level, caller) for level in _list(data.get("levels"), "levels")]
        _need(len(levels) >= 1 and len({len(level) for level in levels}) == 1, "uneven index levels")
        names = [_hashable(_decode(n, caller, 1)) for n in _list(data.get("names"), "names")]
        _need(len(names) == len(levels), "index names do not match its levels")
        return pd.MultiIndex.from_arrays(levels, names=names)
    if kind == "plain":
        return pd.Index(_decode_column(data.get("values"), caller),
                        name=_hashable(_decode(data.get("name"), caller, 1)), tupleize_cols=False)
    raise AnswerError("unknown kind of index")


def _hashable(value):
    try:
        hash(value)
    except TypeError as error:
        raise AnswerError("a name or key should be hashable") from error
    return value


def _decode(data, caller, depth: int):
    _need(depth <= MAX_DEPTH + 2, "nested too deeply")
    _need(isinstance(data, dict), "an answer should be a mapping")
    kind = data.get("t")
    value = data.get("v")
    if kind == "none":
        return None
    if kind == "bool":
        _need(isinstance(value, bool), "a boolean was expected")
        return value
    if kind == "int":
        return _as_int(value)
    if kind == "float":
        return _as_float(value)
    if kind == "str":
        _need(isinstance(value, str), "a string was expected")
        return value
    if kind == "nat":
        return pd.NaT
    if kind == "na":
        return pd.NA
    if kind == "timestamp":
        tz = data.get("tz")
        _need(tz is None or (isinstance(tz, str) and len(tz) < 64), "bad time zone")
        try:
            return pd.Timestamp(_as_int(value), unit="ns", tz="UTC").tz_convert(tz) if tz else pd.Timestamp(
                _as_int(value), unit="ns")
        except Exception as error:  # noqa: BLE001
            raise AnswerError("bad timestamp") from error
    if kind == "date":
        _need(isinstance(value, str), "a date was expected")
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as error:
            raise AnswerError("bad date") from error
    if kind == "timedelta":
        return pd.Timedelta(_as_int(value), unit="ns")
    if kind in ("list", "tuple", "set"):
        items = [_decode(x, caller, depth + 1) for x in _list(value, kind)]
        if kind == "list":
            return items
        return tuple(items) if kind == "tuple" else {_hashable(x) for x in items}
    if kind == "dict":
        result = {}
        for pair in _list(value, "dict"):
            _need(isinstance(pair, list) and len(pair) == 2, "a dict item should be a pair")
            result[_hashable(_decode(pair[0], caller, depth + 1))] = _decode(pair[1], caller, depth + 1)
        return result
    if kind == "series":
        index = _decode_index(data.get("index"), caller)
        values = _decode_column(data.get("values"), caller, len(index))
        return pd.Series(values, index=index, name=_hashable(_decode(data.get("name"), caller, depth + 1)), copy=False)
    if kind == "frame":
        index = _decode_index(data.get("index"), caller)
        columns = _decode_index(data.get("columns"), caller)
        data_columns = _list(data.get("data"), "data")
        _need(len(data_columns) == len(columns), "a frame's columns do not match its data")
        frame = pd.DataFrame({i: _decode_column(c, caller, len(index)) for i, c in enumerate(data_columns)},
                             index=index)
        frame.columns = columns
        return frame
    if kind == "index":
        return _decode_index(data.get("index"), caller)
    if kind == "array":
        shape = [_as_int(s) for s in _list(data.get("shape"), "shape")]
        _need(1 <= len(shape) <= 8 and all(s >= 0 for s in shape), "bad array shape")
        flat = _decode_column(data.get("values"), caller, math.prod(shape))
        return np.asarray(flat).reshape(shape)
    if kind == "function":
        name = data.get("name")
        _need(isinstance(name, str), "a function needs a name")
        if caller is None:
            return opaque_class("function", "a student's function cannot be called here")
        return StudentFunction(name, caller)
    if kind == "opaque":
        type_name, why = data.get("type"), data.get("why", "")
        _need(isinstance(type_name, str) and isinstance(why, str), "bad stand-in")
        return opaque_class(type_name[:100], why[:200])
    raise AnswerError("unknown kind of answer")


def decode(data, caller: Callable | None = None):
    """The value an encoded answer stands for; raises :class:`AnswerError` if malformed.

    ``caller(name, args, kwargs)`` is what calling a decoded student function does.
    """
    try:
        return _decode(data, caller, 0)
    except AnswerError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError, MemoryError) as error:
        raise AnswerError(f"malformed ({type(error).__name__})") from error
