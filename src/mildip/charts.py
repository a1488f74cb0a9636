"""Chart defaults shared by every chapter and notebook.

Importing this module enables the course's Altair theme: a colour-blind-safe palette
(Okabe and Ito's eight colours) and readable defaults. Every chart carries a text
``description`` (its alt text): pass it with :func:`describe` or ``.properties(description=...)``.

Rendering mode has one switch, the ``MILDIP_BOOK`` environment variable, which the book's
Sphinx extension (:mod:`mildip.book`) sets while the book is built. Then charts are written
as a ``<div>`` holding the chart's JSON specification, and a script bundled into the site
draws them, so they stay interactive without a kernel or any network. In JupyterLab the
variable is unset and Altair's own renderer is used: nothing changes for students.
"""

from __future__ import annotations

import html
import json
import os
import uuid

import altair as alt

#: Okabe & Ito (2008) palette, safe for the common forms of colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
#: Two-colour contrast used for "meets / misses" encodings (blue and orange from PALETTE).
MEETS, MISSES = PALETTE[0], PALETTE[1]

BOOK_RENDERER = "mildip-book"


def _theme() -> dict:
    return {
        "config": {
            "range": {"category": PALETTE},
            "font": "sans-serif",
            "axis": {"labelFontSize": 12, "titleFontSize": 13},
            "legend": {"labelFontSize": 12, "titleFontSize": 13},
            "title": {"fontSize": 15, "anchor": "start"},
            "view": {"continuousWidth": 480, "continuousHeight": 300},
        }
    }


def in_book() -> bool:
    """True while the book is being built (set by :mod:`mildip.book`)."""
    return os.environ.get("MILDIP_BOOK") == "1"


def book_mimebundle(spec: dict, **_) -> dict:
    """Render a Vega-Lite spec as HTML for the static book (drawn by the bundled script)."""
    description = spec.get("description")
    if not description:
        raise ValueError("every chart in the book needs alt text: set .properties(description=...)")
    payload = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    chart_id = f"mildip-chart-{uuid.uuid4().hex[:10]}"
    markup = (
        f'<div class="mildip-chart" id="{chart_id}">'
        '<div class="mildip-chart-view"></div>'
        f'<script type="application/json" class="mildip-chart-spec">{payload}</script>'
        f'<noscript><p>{html.escape(description)}</p></noscript>'
        "</div>"
    )
    return {"text/html": markup}


def setup() -> None:
    """Enable the course theme, and the book renderer when building the book."""
    alt.theme.register("mildip", enable=True)(_theme)
    alt.renderers.register(BOOK_RENDERER, book_mimebundle)
    if in_book():
        alt.renderers.enable(BOOK_RENDERER)


setup()
