"""Dated events in the politics of US bases abroad (hand-made, one source per row)."""

import pandas as pd
import pytest

from mildip import load_dataset


@pytest.fixture(scope="module")
def events():
    return load_dataset("basing_events")


def event(frame, place, kind):
    found = frame[(frame["base_or_place"] == place) & (frame["event_type"] == kind)]
    assert len(found) == 1, (place, kind)
    return found.iloc[0]


def test_rows_keys_and_sources(events):
    assert len(events) >= 10
    assert not events.duplicated(["date", "base_or_place"]).any()
    assert events["date"].between(pd.Timestamp("1945-01-01"), pd.Timestamp("2025-12-31")).all()
    assert events["source"].str.contains(r"https?://").all()
    # Every source names a date with a year.
    assert events["source"].str.contains(r"(?:19|20)\d\d").all()
    assert events["event"].str.len().between(40, 300).all()


def test_names_follow_the_crosswalk(events):
    names = load_dataset("countries").dropna(subset=["iso3"]).set_index("iso3")["country"]
    coded = events[events["iso3"].notna()]
    assert (coded["host_country"].astype(str) == coded["iso3"].astype(str).map(names)).all()


def test_spot_checks(events):
    # Okinawa reverted to Japan on 15 May 1972 (Stars and Stripes, "Remembering Reversion").
    assert event(events, "Okinawa (Ryukyu Islands)", "reversion")["date"] == pd.Timestamp("1972-05-15")
    # Philippine Senate vote of 12 to 11 on 16 September 1991 (Los Angeles Times, 16 September 1991).
    assert event(events, "Subic Bay Naval Base", "rejection")["date"] == pd.Timestamp("1991-09-16")
    # Last US personnel left Karshi-Khanabad on Monday 21 November 2005 (Al Jazeera, 22 November 2005).
    assert event(events, "Karshi-Khanabad Air Base (K2)", "closure")["date"] == pd.Timestamp("2005-11-21")
    # EDCA signed on 28 April 2014 (U.S. Embassy in the Philippines).
    assert event(events, "Agreed locations in the Philippines", "agreement")["date"] == pd.Timestamp("2014-04-28")
    # Keflavik shut on Saturday 30 September 2006 (Reuters, 30 September 2006).
    assert event(events, "Naval Air Station Keflavik", "closure")["date"] == pd.Timestamp("2006-09-30")
    # Subic was handed over before the last forces left.
    subic = events[events["base_or_place"].str.startswith("Subic")].sort_values("date")
    assert list(subic["event_type"].astype(str)) == ["rejection", "handover", "closure"]
