"""ipywidgets explorers over the course datasets, for students in a live notebook.

Each explorer returns a widget whose output is a table (readable by screen readers), and
exposes the same table as a DataFrame through a plain function, so the text equivalent is
available without any widget at all:

=============================  ==========================================  ===========================
Explorer                       Controls                                    Text equivalent
=============================  ==========================================  ===========================
:func:`nato_spending_explorer`  year slider, sort menu                      :func:`nato_spending_table`
:func:`us_troops_explorer`      year slider, number of hosts                :func:`us_troops_table`
:func:`alliance_partners_explorer`  state menu, year slider                 :func:`alliance_partners_table`
:func:`exercise_partners_explorer`  state menu, number of partners          :func:`exercise_partners_table`
=============================  ==========================================  ===========================

Every explorer widget has the attributes ``summary`` (an HTML widget with one sentence) and
``table`` (an HTML widget with the current table), plus one attribute per control.

The widgets need a running kernel. Each explorer decides how to show itself when it is called
(with :func:`mildip.charts.in_book`, the switch the charts use): while the book is built it
creates no widget at all and displays its initial table with a note, so the static book never
shows controls that could not work; the book's own explorers are client-side charts. In
JupyterLab, or in a notebook downloaded from the book, it is the live widget.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from mildip.charts import in_book
from mildip.datasets import load_dataset

NATO_GUIDELINE_PCT = 2.0

_YES_NO = {True: "yes", False: "no"}


def _table_html(frame: pd.DataFrame, caption: str) -> str:
    """An HTML table with a caption (announced by screen readers) and no index column."""
    markup = frame.to_html(index=False, border=0, classes="mildip-table", na_rep="")
    start = markup.index(">") + 1
    return f"{markup[:start]}\n<caption>{html.escape(caption)}</caption>{markup[start:]}"


class BookExplorer:
    """What an explorer shows in the static book: its initial table and a note, no widget."""

    def __init__(self, title: str, summary: str, table: str):
        self.title, self.summary, self.table = title, summary, table

    def _repr_html_(self) -> str:
        return (
            '<div class="mildip-explorer-static">'
            f"<p><strong>{html.escape(self.title)}.</strong> {self.summary} In a live notebook "
            "this is an interactive explorer; here it shows its initial table.</p>"
            f"{self.table}</div>"
        )


def _explorer(title: str, view, **controls) -> widgets.VBox:
    """A box of ``controls`` over a summary and a table, both drawn by ``view(**values)``.

    ``view`` returns ``(summary_html, table_html)`` for the controls' values. Every control's
    change redraws. The box has attributes ``summary``, ``table`` and one per control.
    """
    summary, table = widgets.HTML(), widgets.HTML()

    def redraw(*_):
        summary.value, table.value = view(**{name: control.value for name, control in controls.items()})

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox(list(controls.values())), summary, table])
    box.summary, box.table = summary, table
    for name, control in controls.items():
        setattr(box, name, control)
    return box


def _in_book(title: str, view, **values) -> BookExplorer:
    """The book's stand-in for an explorer: no widget is created, so no widget state is saved."""
    return BookExplorer(title, *view(**values))


# NATO defence expenditure ------------------------------------------------------------------


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
            "Meets 2%": (rows["share_gdp_pct"] >= NATO_GUIDELINE_PCT).map(_YES_NO),
            "Estimate": rows["estimate"].map(_YES_NO),
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

    def view(year, sort_by):
        current = nato_spending_table(year, data, sort_by=sort_by)
        meets = int((current["Meets 2%"] == "yes").sum())
        note = " (NATO estimate)" if (current["Estimate"] == "yes").any() else ""
        summary = f"<p>{year}{note}: {meets} of {len(current)} Allies at or above 2% of GDP.</p>"
        return summary, _table_html(current, f"NATO Allies' defence expenditure, {year}")

    title = "NATO defence expenditure"
    if in_book():
        return _in_book(title, view, year=int(years[-1]), sort_by="share")
    year = widgets.IntSlider(value=years[-1], min=years[0], max=years[-1], step=1, description="Year")
    sort_by = widgets.Dropdown(
        options=[("Share of GDP", "share"), ("Country", "country")], value="share", description="Sort by"
    )
    return _explorer(title, view, year=year, sort_by=sort_by)


# US troops abroad --------------------------------------------------------------------------


def us_troops_table(year: int, data: pd.DataFrame | None = None, *, top: int = 15) -> pd.DataFrame:
    """The ``top`` hosts of US military personnel in ``year`` (DMDC figures), largest first.

    Columns: rank, host, US personnel, and the host's share of all personnel abroad that year.
    """
    data = load_dataset("us_troops_abroad") if data is None else data
    rows = data[data["year"] == year]
    if rows.empty:
        raise ValueError(f"no figures for {year}; the data cover {data['year'].min()}-{data['year'].max()}")
    total = int(rows["troops"].sum())
    rows = rows.assign(host=rows["host_country"].astype(str)).sort_values(["troops", "host"], ascending=[False, True])
    rows = rows.head(top)
    return pd.DataFrame(
        {
            "Rank": range(1, len(rows) + 1),
            "Host": rows["host"].to_numpy(),
            "US personnel": rows["troops"].to_numpy(),
            "Share of all abroad (%)": (100 * rows["troops"] / total).round(1).to_numpy() if total else 0.0,
        }
    )


def us_troops_explorer(data: pd.DataFrame | None = None, *, top: int = 15) -> widgets.VBox:
    """A year slider and a "how many hosts" menu over :func:`us_troops_table`."""
    data = load_dataset("us_troops_abroad") if data is None else data
    years = sorted(data["year"].unique())
    counts = [5, 10, 15, 20, 30]
    top = top if top in counts else 15

    def view(year, count):
        in_year = data[data["year"] == year]
        current = us_troops_table(year, data, top=count)
        total = int(in_year["troops"].sum())
        share = current["US personnel"].sum() / total * 100 if total else 0.0
        summary = (
            f"<p>{year}: {total:,} US military personnel in {len(in_year)} host countries and "
            f"territories; the top {len(current)} hosts had {share:.0f}% of them.</p>"
        )
        return summary, _table_html(current, f"Top {len(current)} hosts of US military personnel, {year}")

    title = "US troops abroad"
    if in_book():
        return _in_book(title, view, year=int(years[-1]), count=top)
    year = widgets.IntSlider(value=years[-1], min=years[0], max=years[-1], step=1, description="Year")
    count = widgets.Dropdown(options=counts, value=top, description="Hosts shown")
    return _explorer(title, view, year=year, count=count)


# Alliance partners (ATOP) ------------------------------------------------------------------

_OBLIGATIONS = {
    "defense": "Defence",
    "offense": "Offence",
    "neutrality": "Neutrality",
    "nonaggression": "Non-aggression",
    "consultation": "Consultation",
}


def _alliance_states(data: pd.DataFrame) -> list[str]:
    names = set(data["country1"].astype(str)) | set(data["country2"].astype(str))
    return sorted(names)


def alliance_partners_table(country: str, year: int, data: pd.DataFrame | None = None) -> pd.DataFrame:
    """``country``'s alliance partners in ``year`` (ATOP dyads), with the obligations they share.

    One row per partner, sorted by name; each obligation column is "yes" or "no". An empty
    table means the state had no alliance that year.
    """
    data = load_dataset("alliance_dyads") if data is None else data
    if country not in _alliance_states(data):
        raise ValueError(f"{country!r} is in no alliance in the data; names follow load_dataset('countries')")
    if not data["year"].min() <= year <= data["year"].max():
        raise ValueError(f"no figures for {year}; the data cover {data['year'].min()}-{data['year'].max()}")
    in_year = data[data["year"] == year]
    first = in_year[in_year["country1"].astype(str) == country]
    second = in_year[in_year["country2"].astype(str) == country]
    partners = pd.concat(
        [first.assign(partner=first["country2"].astype(str)), second.assign(partner=second["country1"].astype(str))]
    )
    table = pd.DataFrame({"Partner": partners["partner"].to_numpy()})
    for column, title in _OBLIGATIONS.items():
        table[title] = partners[column].map(_YES_NO).to_numpy()
    return table.sort_values("Partner").reset_index(drop=True)


def alliance_partners_explorer(data: pd.DataFrame | None = None, *, country: str = "United States",
                               year: int | None = None) -> widgets.VBox:
    """A state menu and a year slider over :func:`alliance_partners_table`."""
    data = load_dataset("alliance_dyads") if data is None else data
    states = _alliance_states(data)
    first, last = int(data["year"].min()), int(data["year"].max())
    country = country if country in states else states[0]
    year = last if year is None else year

    def view(state, year):
        current = alliance_partners_table(state, year, data)
        who = html.escape(state)
        if current.empty:
            summary = f"<p>{who} had no alliance partners in {year} (ATOP).</p>"
        else:
            defence = int((current["Defence"] == "yes").sum())
            summary = (
                f"<p>{who} in {year}: {len(current)} alliance partners, "
                f"{defence} of them with a defence obligation (ATOP).</p>"
            )
        return summary, _table_html(current, f"Alliance partners of {state}, {year}")

    title = "Alliance partners"
    if in_book():
        return _in_book(title, view, state=country, year=year)
    state = widgets.Dropdown(options=states, value=country, description="State")
    year_slider = widgets.IntSlider(value=year, min=first, max=last, step=1, description="Year")
    return _explorer(title, view, state=state, year=year_slider)


# Multinational exercises (MME) -------------------------------------------------------------


def _exercise_states(participants: pd.DataFrame) -> list[str]:
    return sorted(participants["country"].astype(str).unique())


def exercise_partners_table(
    country: str,
    participants: pd.DataFrame | None = None,
    exercises: pd.DataFrame | None = None,
    *,
    top: int = 10,
) -> pd.DataFrame:
    """The states that most often exercised with ``country`` (Multinational Military Exercises).

    Columns: partner, number of joint exercises, first and last year they exercised together.
    """
    participants = load_dataset("exercise_participants") if participants is None else participants
    exercises = load_dataset("multinational_exercises") if exercises is None else exercises
    names = participants["country"].astype(str)
    if country not in set(names):
        raise ValueError(f"{country!r} took part in no exercise in the data; names follow load_dataset('countries')")
    own = set(participants.loc[names == country, "exercise_id"])
    joint = participants[participants["exercise_id"].isin(own) & (names != country)]
    joint = joint.assign(partner=joint["country"].astype(str)).merge(
        exercises[["exercise_id", "start_year"]], on="exercise_id", how="left"
    )
    grouped = (
        joint.groupby("partner")
        .agg(n=("exercise_id", "nunique"), first=("start_year", "min"), last=("start_year", "max"))
        .reset_index()
        .sort_values(["n", "partner"], ascending=[False, True])
        .head(top)
    )
    return pd.DataFrame(
        {
            "Partner": grouped["partner"].to_numpy(),
            "Joint exercises": grouped["n"].to_numpy(),
            "First year": grouped["first"].to_numpy(),
            "Last year": grouped["last"].to_numpy(),
        }
    )


def exercise_partners_explorer(
    participants: pd.DataFrame | None = None,
    exercises: pd.DataFrame | None = None,
    *,
    country: str = "United States",
    top: int = 10,
) -> widgets.VBox:
    """A state menu and a "how many partners" menu over :func:`exercise_partners_table`."""
    participants = load_dataset("exercise_participants") if participants is None else participants
    exercises = load_dataset("multinational_exercises") if exercises is None else exercises
    states = _exercise_states(participants)
    country = country if country in states else states[0]
    counts = [5, 10, 20]
    top = top if top in counts else 10
    first, last = int(exercises["start_year"].min()), int(exercises["start_year"].max())
    names = participants["country"].astype(str)

    def view(state, count):
        current = exercise_partners_table(state, participants, exercises, top=count)
        n_exercises = participants.loc[names == state, "exercise_id"].nunique()
        summary = f"<p>{html.escape(state)} took part in {n_exercises} multinational exercises, {first}-{last}.</p>"
        return summary, _table_html(current, f"Most frequent exercise partners of {state}, {first}-{last}")

    title = "Multinational exercise partners"
    if in_book():
        return _in_book(title, view, state=country, count=top)
    state = widgets.Dropdown(options=states, value=country, description="State")
    count = widgets.Dropdown(options=counts, value=top, description="Partners")
    return _explorer(title, view, state=state, count=count)
