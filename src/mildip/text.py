"""Numbers, counts, lists and dates written as prose: the book's one formatter.

Chapters glue the values these functions return, so every number in the text is formatted the
same way ("1,882", never "1882" beside "3,707") and sentences built around a number read
correctly whatever the data say:

>>> number(1882)
'1,882'
>>> count(1, "site")
'1 site'
>>> count(0, "partner")
'no partners'
>>> verb(1, "is", "are")
'is'
>>> join(["United States", "France"])
'United States and France'
>>> join(["United States (95)"], lead="partner")
'partner was United States (95)'
>>> date(datetime.date(1999, 6, 10))
'10 June 1999'
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence

__all__ = ["number", "percent", "count", "verb", "join", "date", "year_range"]

_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def number(value, digits: int = 0, *, words: bool = False) -> str:
    """``value`` with thousands separators and ``digits`` decimals ("3,707", "2.5").

    ``words=True`` spells out whole numbers up to ten ("three"), as in running text.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError("no value to format: the data have no figure here")
    if words and digits == 0 and float(value).is_integer() and 0 <= value <= 10:
        return _SMALL[int(value)]
    if digits == 0:
        return f"{round(float(value)):,}"
    return f"{float(value):,.{digits}f}"


def percent(value, digits: int = 0) -> str:
    """A percentage of a share given in per cent ("23%"; "0.5%" with ``digits=1``)."""
    return f"{number(value, digits)}%"


def _plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def count(n, singular: str, plural: str | None = None, *, zero: str = "no", words: bool = False) -> str:
    """``n`` with its noun in the right number: "1 site", "2 sites", "no sites".

    ``zero`` is what replaces the number 0 ("no", or e.g. "none of the"); pass ``zero=""`` to
    write "0 sites".
    """
    plural = plural or _plural(singular)
    noun = singular if n == 1 else plural
    if n == 0 and zero:
        return f"{zero} {plural}"
    return f"{number(n, words=words)} {noun}"


def verb(n, singular: str, plural: str) -> str:
    """The verb agreeing with ``n``: ``verb(1, "is", "are")`` is "is"."""
    return singular if n == 1 else plural


def join(items: Iterable[str], *, conjunction: str = "and", lead: str | None = None,
         lead_plural: str | None = None, empty: str = "none") -> str:
    """A list in prose: "A", "A and B", "A, B and C"; ``empty`` for no items.

    With ``lead`` (a noun), the list follows the noun and the verb agree with it: ``lead="partner"``
    gives "partner was A" or "partners were A and B".
    """
    items = [str(item) for item in items]
    if not items:
        text = empty
    elif len(items) == 1:
        text = items[0]
    else:
        text = f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
    if lead is None:
        return text
    if len(items) == 1:
        return f"{lead} was {text}"
    return f"{lead_plural or _plural(lead)} were {text}"


def date(value: datetime.date | datetime.datetime | str) -> str:
    """A date as the book writes it, "10 June 1999" (no zero padding, any platform)."""
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value[:10])
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        value = value.to_pydatetime()
    return f"{value.day} {value:%B %Y}"


def year_range(years: Sequence[int]) -> str:
    """"1980-2010" for the first and last of ``years`` ("1999" when they are the same)."""
    first, last = int(min(years)), int(max(years))
    return str(first) if first == last else f"{first}-{last}"
