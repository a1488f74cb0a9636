"""ipywidgets explorers over the course datasets, for students in a live notebook.

Each explorer returns a widget whose output is a table (readable by screen readers), and
exposes the same table as a DataFrame through a plain function, so the text equivalent is
available without any widget at all. The widgets need a running kernel: the book shows
client-side charts instead (see :mod:`mildip.charts`).
"""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from mildip.datasets import load_dataset

NATO_GUIDELINE_PCT = 2.0


def nato_spending_table(year: int, data: pd.DataFrame | None = None, *, sort_by: str = "share") -> pd.DataFrame:
    """Allies' defence expenditure in ``year``: share of GDP, equipment share, 2% status.

    ``sort_by`` is ``"share"`` (highest share first) or ``"country"``.
    """
    data = load_dataset("nato_defence_expenditure") if data is None else data
    rows = data[data["year"] == year]
    if rows.empty:
        years = f"{data['year'].min()}-{data['year'].max()}"
        raise ValueError(f"no figures for {year}; the data cover {years}")
    table = pd.DataFrame(
        {
            "Ally": rows["country"].astype(str),
            "Share of GDP (%)": rows["share_gdp_pct"].round(2),
            "Equipment share (%)": rows["equipment_share_pct"].round(1),
            "Meets 2%": (rows["share_gdp_pct"] >= NATO_GUIDELINE_PCT).map({True: "yes", False: "no"}),
            "Estimate": rows["estimate"].map({True: "yes", False: "no"}),
        }
    )
    key = ["Share of GDP (%)", "Ally"] if sort_by == "share" else ["Ally"]
    ascending = [False, True] if sort_by == "share" else [True]
    return table.sort_values(key, ascending=ascending).reset_index(drop=True)


def nato_spending_explorer(data: pd.DataFrame | None = None) -> widgets.VBox:
    """A year slider and a sort menu over :func:`nato_spending_table`.

    The widget's ``table`` attribute is the HTML widget showing the current table.
    """
    data = load_dataset("nato_defence_expenditure") if data is None else data
    years = sorted(data["year"].unique())
    year = widgets.IntSlider(value=years[-1], min=years[0], max=years[-1], step=1, description="Year")
    sort_by = widgets.Dropdown(
        options=[("Share of GDP", "share"), ("Country", "country")], value="share", description="Sort by"
    )
    summary = widgets.HTML()
    table = widgets.HTML()

    def redraw(*_):
        current = nato_spending_table(year.value, data, sort_by=sort_by.value)
        meets = int((current["Meets 2%"] == "yes").sum())
        note = " (NATO estimate)" if (current["Estimate"] == "yes").any() else ""
        summary.value = f"<p>{year.value}{note}: {meets} of {len(current)} Allies at or above 2% of GDP.</p>"
        table.value = current.to_html(index=False, border=0, classes="mildip-table")

    year.observe(redraw, names="value")
    sort_by.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([year, sort_by]), summary, table])
    box.year, box.sort_by, box.summary, box.table = year, sort_by, summary, table
    return box
