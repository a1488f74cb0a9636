"""The live-notebook explorer: operating a control changes what it shows."""

import pytest

from mildip.widgets import nato_spending_explorer, nato_spending_table


def test_moving_the_year_slider_changes_the_table_and_summary():
    explorer = nato_spending_explorer()
    before_table, before_summary = explorer.table.value, explorer.summary.value
    assert "23 of 31 Allies" in before_summary
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
    assert (table["Meets 2%"] == "yes").sum() == 23
    with pytest.raises(ValueError, match="no figures for 1990"):
        nato_spending_table(1990)
