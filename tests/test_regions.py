"""The analysis rules chapters share (mildip.regions): region schemes and the German state."""

import math

import pandas as pd
import pytest

from mildip import load_dataset, regions


@pytest.mark.parametrize(("lat", "lon", "region"), [
    (59.3, 18.1, "Europe"),          # Stockholm
    (41.0, 29.0, "Europe"),          # Istanbul
    (21.3, -157.9, "Asia-Pacific"),  # Hawaii
    (13.7, 100.5, "Asia-Pacific"),   # Bangkok
    (18.5, -66.1, "Americas"),       # Puerto Rico
    (26.2, 50.6, "Middle East"),     # Bahrain
    (11.6, 43.1, "Africa"),          # Djibouti
    (math.nan, 10.0, "Not located"),
])
def test_exercise_regions_follow_the_coordinates(lat, lon, region):
    assert regions.exercise_region(lat, lon) == region


@pytest.mark.parametrize(("code", "name", "region"), [
    (2, "United States", "Americas"), (255, "Germany", "Europe"), (740, "Japan", "East Asia and Pacific"),
    (732, "South Korea", "East Asia and Pacific"), (703, "Kyrgyzstan", "South and Central Asia"),
    (750, "India", "South and Central Asia"), (652, "Syria", "Middle East and North Africa"),
    (625, "Sudan", "Sub-Saharan Africa"), (522, "Djibouti", "Sub-Saharan Africa"),
    (None, "Guam", "US territories"), (pd.NA, "Greenland", "Europe"), (math.nan, "Kashmir", "South and Central Asia"),
    (None, "Somewhere else", "Other dependencies"),
])
def test_host_regions_follow_cow_codes_and_names(code, name, region):
    assert regions.host_region(code, name) == region


def test_every_host_in_the_troop_data_has_a_region():
    troops = load_dataset("us_troops_abroad")
    names = regions.germany_as_one(troops["host_country"])
    found = {regions.host_region(c, n) for c, n in zip(troops["cow_code"], names)}
    assert found <= set(regions.HOST_REGIONS) | {"Other dependencies"}
    assert set(regions.HOST_REGIONS) <= found


def test_the_two_german_states_of_the_data_are_one_germany():
    names = pd.Series(["German Federal Republic", "Germany", "German Democratic Republic"])
    assert list(regions.germany_as_one(names)) == ["Germany", "Germany", "German Democratic Republic"]


def test_germany_has_the_cow_code_of_the_year():
    crosswalk = {"FRA": 220, "DEU": 255}
    assert regions.cow_code("DEU", 1989, crosswalk) == 260
    assert regions.cow_code("DEU", 1990, crosswalk) == 260
    assert regions.cow_code("DEU", 1991, crosswalk) == 255
    assert regions.cow_code("FRA", 1950, crosswalk) == 220
