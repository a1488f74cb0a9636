"""The analysis rules the chapters share, as tested functions a student can call.

Two region schemes are used in the book, for two kinds of data, and they differ on purpose:

- :func:`exercise_region` places a multinational exercise by the coordinates of its location
  (the regional-cooperation chapter): five regions, :data:`EXERCISE_REGIONS`.
- :func:`host_region` places a host of US personnel by its Correlates of War state code, or by
  name for the territories and dependencies that have none (the basing chapter): seven regions
  and "Other dependencies", :data:`HOST_REGIONS`.

:func:`germany_as_one` names the two German states of the data as one, "Germany": the German
Federal Republic (COW code 260, until 3 October 1990) and Germany (COW code 255) afterwards;
:func:`cow_code` gives an ISO3 code's COW code in a year by the same rule (Germany is 260 to 1990).

>>> exercise_region(59.3, 18.1)
'Europe'
>>> host_region(740, "Japan")
'East Asia and Pacific'
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["EXERCISE_REGIONS", "HOST_REGIONS", "exercise_region", "host_region", "cow_code", "germany_as_one"]

#: Regions of exercise locations (:func:`exercise_region`), in the order charts show them.
EXERCISE_REGIONS = ["Europe", "Asia-Pacific", "Americas", "Middle East", "Africa"]
#: Regions of hosts of US personnel (:func:`host_region`), in the order charts show them.
HOST_REGIONS = ["Europe", "East Asia and Pacific", "Middle East and North Africa", "Americas",
                "Sub-Saharan Africa", "South and Central Asia", "US territories"]

GERMANY = "Germany"
WEST_GERMANY = "German Federal Republic"
GERMANY_COW, WEST_GERMANY_COW = 255, 260


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def exercise_region(lat: float, lon: float) -> str:
    """Broad region of an exercise's location, from its latitude and longitude (MME data).

    Hawaii, the mid-Pacific and the Pacific islands are Asia-Pacific; Türkiye, the Caucasus and
    European Russia are Europe; an exercise without coordinates is "Not located".
    """
    if _missing(lat) or _missing(lon):
        return "Not located"
    if lon <= -140 or (lon < -100 and lat < 15):
        return "Asia-Pacific"
    if lon < -25:
        return "Americas"
    if (lat >= 36 and lon <= 45) or (lat >= 38 and lon <= 51) or (lat >= 42 and lon <= 60):
        return "Europe"
    if 34 <= lon <= 63 and 12 <= lat < 42:
        return "Middle East"
    if lat < 37 and lon <= 52:
        return "Africa"
    return "Asia-Pacific"  # South, Central, East and Southeast Asia, Oceania


_TERRITORIES = {
    "US territories": {"American Samoa", "Guam", "Johnston Island", "Mariana Islands", "Midway Islands",
                       "Puerto Rico", "US Virgin Islands", "Wake Island"},
    "Europe": {"Azores", "Gibraltar", "Greenland", "Vatican City"},
    "Americas": {"Antigua", "Aruba", "Bermuda", "British Virgin Islands", "British West Indies",
                 "Netherlands Antilles", "Turks and Caicos Islands"},
    "Middle East and North Africa": {"Aden", "Western Sahara"},
    "East Asia and Pacific": {"Eniwetok (J.T.F. 7)", "Fiji and Tonga", "Hong Kong", "Indo-China", "Line Islands",
                              "Sarawak"},
    "South and Central Asia": {"Kashmir"},
}


def host_region(cow_code, name: str) -> str:
    """Region of a host of US personnel: by COW code ranges, by name where there is no code.

    Codes below 200 are the Americas, 200-399 Europe, 400-599 (and Sudan, 625, and South Sudan,
    626) Sub-Saharan Africa, 600-699 the Middle East and North Africa, 700-705 (Central Asia) and
    750-790 (South Asia) South and Central Asia, the rest East Asia and Pacific. A place without
    a code that is none of the named territories is "Other dependencies".
    """
    if _missing(cow_code):
        for region, names in _TERRITORIES.items():
            if name in names:
                return region
        return "Other dependencies"
    code = int(cow_code)
    if code < 200:
        return "Americas"
    if code < 400:
        return "Europe"
    if code < 600 or code in (625, 626):
        return "Sub-Saharan Africa"
    if code < 700:
        return "Middle East and North Africa"
    if code <= 705 or 750 <= code <= 790:
        return "South and Central Asia"
    return "East Asia and Pacific"


def cow_code(iso3: str, year: int, crosswalk: dict[str, int]) -> int:
    """The COW state code of ``iso3`` in ``year``: Germany (DEU) is the German Federal Republic, 260,
    to 1990 and Germany, 255, from 1991 (COW counts united Germany from 3 October 1990); every
    other state has the code ``crosswalk`` gives (e.g. from ``load_dataset("countries")``)."""
    if iso3 == "DEU":
        return WEST_GERMANY_COW if year <= 1990 else GERMANY_COW
    return int(crosswalk[iso3])


def germany_as_one(names: pd.Series) -> pd.Series:
    """State names with the German Federal Republic (to 1990) and Germany written as "Germany"."""
    return names.astype(str).replace({WEST_GERMANY: GERMANY})
