"""What every chapter of the book runs first: ``from mildip.preamble import *``.

The shared imports (Altair, pandas, the course's datasets, chart theme, formatter and analysis
rules) and ``glue``, with which a chapter hands a computed value to its text. In the book,
``glue`` is myst-nb's; in a notebook downloaded from the book it is myst-nb's too when myst-nb
is installed, and otherwise keeps each value in :data:`GLUED`, so that running the notebook
computes every number the text quotes: ``GLUED["peak_year"]``.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from mildip import charts, regions, text
from mildip.datasets import cite, describe, load_dataset
from mildip.text import count, date, join, number, percent, verb

#: Values glued by a chapter run outside the book (see the module's description).
GLUED: dict[str, object] = {}

try:
    from myst_nb import glue as _myst_glue
except ImportError:  # a student's notebook without the book's packages
    _myst_glue = None


def glue(name: str, value, display: bool = True):
    """Hand ``value`` to the text under ``name`` (myst-nb's glue; also kept in :data:`GLUED`)."""
    GLUED[name] = value
    if _myst_glue is not None:
        return _myst_glue(name, value, display=display)
    if display:
        from IPython.display import display as show

        show(value)
    return None


__all__ = ["alt", "pd", "charts", "regions", "text", "cite", "describe", "load_dataset", "glue", "GLUED",
           "count", "date", "join", "number", "percent", "verb"]
