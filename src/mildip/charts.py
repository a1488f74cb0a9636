"""Chart defaults shared by every chapter and notebook.

Importing this module enables the course's Altair theme (a colour-blind-safe palette, Okabe
and Ito's eight colours, readable defaults, one date style) and its renderer. Every chart
carries a text ``description`` (its alt text): set it with ``.properties(description=...)``.

The renderer decides how to show a chart when the chart is drawn, not when this module is
imported: while the book is being built (:mod:`mildip.book` marks the build) a chart is written
as a ``<div>`` holding its Vega spec, compiled from Vega-Lite and fitted to its column, which a
script bundled into the site draws, so charts stay interactive with no kernel and no network.
Anywhere else (JupyterLab, a notebook downloaded from the book) Altair's own renderer is used.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import altair as alt

#: Okabe & Ito (2008) palette, safe for the common forms of colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
#: Two-colour contrast used for "meets / misses" encodings (blue and orange from PALETTE).
MEETS, MISSES = PALETTE[0], PALETTE[1]
#: d3-time-format pattern for dates shown to readers ("29 August 2016"), the book's one style.
DATE_FORMAT = "%-d %B %Y"

RENDERER = "mildip"
#: Version of the markup book_mimebundle writes; the book's execution cache is dropped when it changes.
MARKUP_VERSION = "vega-columns-2"
BOOK_ENV = "MILDIP_BOOK"
#: Country outlines for maps: world-atlas (Natural Earth 1:110m), copied into the site by mildip.book.
OUTLINES = "countries-110m.json"


def _theme() -> dict:
    return {
        "config": {
            "range": {"category": PALETTE},
            "font": "sans-serif",
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "labelOverlap": True},
            "legend": {"labelFontSize": 12, "titleFontSize": 13},
            "title": {"fontSize": 15, "anchor": "start"},
            "view": {"continuousWidth": 480, "continuousHeight": 300},
            "timeFormat": DATE_FORMAT,
        }
    }


def in_book() -> bool:
    """True while the book is being built (the mark :mod:`mildip.book` sets), checked when asked."""
    return os.environ.get(BOOK_ENV) == "1"


# Fitting a Vega-Lite spec to its column -----------------------------------------------------

_SINGLE = ("mark", "layer")


def responsive(spec: dict) -> dict:
    """The spec with every view as wide as its column (Vega-Lite ``width: "container"``).

    Single and layered views fit their container's width (axes and legends included);
    side-by-side views are stacked, so they reflow on a phone; views stacked on top of each
    other share the container's width. Heights are kept.
    """
    spec = dict(spec)
    if any(key in spec for key in _SINGLE) and "facet" not in spec and "repeat" not in spec:
        spec["width"] = "container"
        # resize: lay the chart out again whenever its content changes (a control, a filter)
        spec["autosize"] = {"type": "fit-x", "contains": "padding", "resize": True}
    elif "hconcat" in spec or "concat" in spec:
        children = spec.pop("hconcat", None) or spec.pop("concat")
        spec["vconcat"] = children
        spec.pop("columns", None)
    if "vconcat" in spec:
        spec["vconcat"] = [_fill_width(child) for child in spec["vconcat"]]
    return spec


def _fill_width(child: dict) -> dict:
    child = dict(child)
    if any(key in child for key in _SINGLE):
        child["width"] = "container"
    elif "hconcat" in child or "vconcat" in child or "concat" in child:
        child = responsive(child)
    return child


# Keeping pages light ------------------------------------------------------------------------


def render(spec: dict, **kwargs) -> dict:
    """The course's Altair renderer: the book's markup while the book is built, else Altair's own."""
    if in_book():
        from mildip.book.markup import book_mimebundle

        return book_mimebundle(spec)
    from altair.vegalite.v6.display import html_renderer  # what Altair enables as "default"

    return html_renderer(spec, **kwargs)


# Maps ---------------------------------------------------------------------------------------


def world_outlines() -> alt.Data | alt.InlineData:
    """Country outlines (Natural Earth via the npm package world-atlas) for ``mark_geoshape``.

    In the book they are a file of the site; in a notebook they are read from the project's
    ``node_modules`` when it is there, else the map is drawn without outlines (an empty layer).
    """
    if in_book():
        return alt.Data(url=OUTLINES, format=alt.DataFormat(type="topojson", feature="countries"))
    for folder in (Path.cwd(), *Path.cwd().parents):
        path = folder / "node_modules" / "world-atlas" / OUTLINES
        if path.is_file():
            return alt.InlineData(values=json.loads(path.read_text(encoding="utf-8")),
                                  format=alt.DataFormat(type="topojson", feature="countries"))
    return alt.InlineData(values={"type": "FeatureCollection", "features": []},
                          format=alt.DataFormat(type="json", property="features"))


def setup() -> None:
    """Enable the course theme and renderer (idempotent)."""
    alt.theme.register("mildip", enable=True)(_theme)
    alt.renderers.register(RENDERER, render)
    alt.renderers.enable(RENDERER)


setup()
