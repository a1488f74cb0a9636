"""The live-notebook explorer: operating a control changes what it shows."""

import pytest

from mildip.widgets import nato_spending_explorer, nato_spending_table


def test_moving_the_year_slider_changes_the_table_and_summary():
    explorer = nato_spending_explorer()
    before_table, before_summary = explorer.table.value, explorer.summary.value
    assert "30 of 31 Allies" in before_summary  # 2026, NATO's estimate in its latest (July 2026) release
    explorer.year.value = 2014
    assert explorer.table.value != before_table
    assert "3 of 31 Allies" in explorer.summary.value


def test_the_sort_menu_reorders_the_table():
    explorer = nato_spending_explorer()
    by_share = explorer.table.value
    explorer.sort_by.value = "country"
    assert explorer.table.value != by_share
    assert explorer.table.value.index("Albania") < explorer.table.value.index("Poland")


def test_table_equivalent_is_available_without_widgets():
    table = nato_spending_table(2024)
    assert len(table) == 31
    assert table.iloc[0]["Ally"] == "Poland"
    assert (table["Meets 2%"] == "yes").sum() == 17  # final 2024 figures, July 2026 release
    with pytest.raises(ValueError, match="no figures for 1990"):
        nato_spending_table(1990)


# US troops abroad, alliance partners and exercise partners ---------------------------------

from mildip.widgets import (  # noqa: E402
    BookExplorer,
    alliance_partners_explorer,
    alliance_partners_table,
    exercise_partners_explorer,
    exercise_partners_table,
    us_troops_explorer,
    us_troops_table,
)


def test_us_troops_year_slider_changes_the_table():
    explorer = us_troops_explorer()
    assert explorer.year.value == 2025  # the December 2025 DMDC report
    before_table, before_summary = explorer.table.value, explorer.summary.value
    assert "Japan" in before_table and "<caption>" in before_table
    explorer.year.value = 1970
    assert explorer.table.value != before_table
    assert explorer.summary.value != before_summary
    assert "1970" in explorer.summary.value
    assert "Vietnam" in explorer.table.value


def test_us_troops_host_count_menu_changes_the_number_of_rows():
    explorer = us_troops_explorer()
    explorer.count.value = 5
    assert explorer.table.value.split("<tbody>")[1].count("<tr>") == 5


def test_us_troops_table_equivalent():
    table = us_troops_table(2024, top=3)
    assert list(table["Host"]) == ["Japan", "Germany", "South Korea"]
    assert table["US personnel"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="no figures for 1900"):
        us_troops_table(1900)


def test_alliance_partners_state_menu_and_year_slider_change_the_table():
    explorer = alliance_partners_explorer()
    assert explorer.state.value == "United States"
    before = explorer.table.value
    explorer.state.value = "Canada"
    assert explorer.table.value != before
    assert "Canada" in explorer.summary.value
    after_state = explorer.table.value
    explorer.year.value = 1950
    assert explorer.table.value != after_state
    assert "1950" in explorer.summary.value


def test_alliance_partners_table_equivalent():
    table = alliance_partners_table("Canada", 1950)
    assert "United States" in set(table["Partner"])
    us = table.set_index("Partner").loc["United States"]
    assert us["Defence"] == "yes"
    assert list(table["Partner"]) == sorted(table["Partner"])
    with pytest.raises(ValueError, match="Atlantis"):
        alliance_partners_table("Atlantis", 1950)
    with pytest.raises(ValueError, match="no figures for 1800"):
        alliance_partners_table("Canada", 1800)


def test_exercise_partners_state_menu_changes_the_table():
    explorer = exercise_partners_explorer()
    before_table, before_summary = explorer.table.value, explorer.summary.value
    explorer.state.value = "Singapore"
    assert explorer.table.value != before_table
    assert explorer.summary.value != before_summary
    assert "Singapore took part in" in explorer.summary.value
    explorer.count.value = 5
    assert explorer.table.value.split("<tbody>")[1].count("<tr>") == 5


def test_exercise_partners_table_equivalent():
    table = exercise_partners_table("United States", top=5)
    assert len(table) == 5
    assert "United States" not in set(table["Partner"])
    assert table["Joint exercises"].is_monotonic_decreasing
    assert (table["First year"] <= table["Last year"]).all()
    with pytest.raises(ValueError, match="Atlantis"):
        exercise_partners_table("Atlantis")


def test_explorers_make_no_widget_while_the_book_is_built(monkeypatch):
    """One switch: in the book an explorer shows its table and a note, never a dead widget."""
    from ipywidgets.widgets.widget import _instances

    monkeypatch.setenv("MILDIP_BOOK", "1")
    existing = len(_instances)
    for make in (nato_spending_explorer, us_troops_explorer, alliance_partners_explorer, exercise_partners_explorer):
        shown = make()
        assert isinstance(shown, BookExplorer)
        markup = shown._repr_html_()
        assert "<table" in markup and "live notebook" in markup
    assert len(_instances) == existing, "no widget may be created (its state would be saved into the page)"
    monkeypatch.delenv("MILDIP_BOOK")
    assert not isinstance(us_troops_explorer(), BookExplorer)
