"""The markup a chart becomes in the book: its Vega spec in a ``<div>`` the site's script draws.

While the book is built, :func:`mildip.charts.render` hands each chart here: the Vega-Lite spec is
fitted to its column (:func:`mildip.charts.responsive`), compiled to Vega with vl-convert, its data
written compactly, and wrapped with its alt text. Only the book build needs this (``mildip[book]``).
"""

from __future__ import annotations

import html
import json
import math
import uuid

import altair as alt

from mildip.charts import responsive


def _round(value):
    if isinstance(value, float) and math.isfinite(value) and value != int(value):
        return float(f"{value:.6g}")
    return value


def compact_data(vega: dict) -> dict:
    """Inline data sets written as columns (a field name once, not once per row), floats to six
    significant digits; the book's script restores the rows."""
    for data in vega.get("data", []):
        rows = data.get("values")
        if not isinstance(rows, list) or not rows or not all(isinstance(row, dict) for row in rows):
            continue
        names = list(dict.fromkeys(name for row in rows for name in row))
        data["mildip:columns"] = {name: [_round(row.get(name)) for row in rows] for name in names}
        del data["values"]
    return vega


def to_vega(spec: dict) -> dict:
    """Compile a Vega-Lite spec (fitted with :func:`responsive`) to Vega, as the book ships it."""
    import vl_convert

    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    return compact_data(vl_convert.vegalite_to_vega(responsive(spec), vl_version=f"{major}.{minor}"))


def book_mimebundle(spec: dict, **_) -> dict:
    """Render a Vega-Lite spec as HTML for the static book (drawn by the bundled script)."""
    description = spec.get("description")
    if not description:
        raise ValueError("every chart in the book needs alt text: set .properties(description=...)")
    vega = to_vega(spec)
    vega["description"] = description
    payload = json.dumps(vega, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
    chart_id = f"mildip-chart-{uuid.uuid4().hex[:10]}"
    markup = (
        f'<div class="mildip-chart" id="{chart_id}">'
        '<div class="mildip-chart-view"></div>'
        f'<script type="application/json" class="mildip-chart-spec">{payload}</script>'
        f"<noscript><p>{html.escape(description)}</p></noscript>"
        "</div>"
    )
    return {"text/html": markup}
