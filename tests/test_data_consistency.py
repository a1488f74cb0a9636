"""Across datasets: every state code resolves through the one crosswalk, with one name per state."""

import re

import pandas as pd
import pytest

from mildip import dataset_names, load_dataset


@pytest.fixture(scope="module")
def countries():
    return load_dataset("countries")


def code_columns(frame, kind):
    """(code column, name column or None) pairs for codes of ``kind`` ("cow_code" or "iso3")."""
    pairs = []
    names = [c for c in frame.columns if c.endswith("country") or re.fullmatch(r"country\d", c)]
    for column in frame.columns:
        match = re.fullmatch(rf"(.*){kind}(\d?)", column)
        if not match:
            continue
        prefix, suffix = match.groups()
        candidates = [f"{prefix}country{suffix}"] + ([names[0]] if len(names) == 1 else [])
        pairs.append((column, next((c for c in candidates if c in frame.columns), None)))
    return pairs


DATASETS = [name for name in dataset_names() if name != "countries"]


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("kind", ["cow_code", "iso3"])
def test_codes_resolve_and_names_match_the_crosswalk(name, kind, countries):
    frame = load_dataset(name)
    known = countries.dropna(subset=[kind])
    lookup = pd.Series(known["country"].astype(str).to_numpy(), index=known[kind].astype(str))
    for code_column, name_column in code_columns(frame, kind):
        rows = frame[frame[code_column].notna()]
        codes = rows[code_column].astype(str)
        unknown = sorted(set(codes) - set(lookup.index))
        assert not unknown, f"{name}.{code_column}: codes not in the crosswalk: {unknown[:10]}"
        if name_column is not None:
            expected = codes.map(lookup)
            wrong = rows.loc[rows[name_column].astype(str) != expected, [code_column, name_column]].drop_duplicates()
            assert wrong.empty, f"{name}.{name_column}: names differ from the crosswalk:\n{wrong.head(10)}"


def test_every_state_dataset_uses_the_crosswalk():
    for name in DATASETS:
        frame = load_dataset(name)
        has_names = any(c.endswith("country") or re.fullmatch(r"country\d", c) for c in frame.columns)
        has_codes = code_columns(frame, "cow_code") or code_columns(frame, "iso3")
        if has_names:
            assert has_codes, f"{name} names states but carries no cow_code or iso3 column"


def test_every_ally_in_the_expenditure_table_is_a_member():
    spending = load_dataset("nato_defence_expenditure")
    members = load_dataset("nato_members")
    assert set(spending["iso3"].astype(str)) <= set(members["iso3"].astype(str))
