"""load_dataset: typed frames, clear errors for unknown names and files that break the schema."""

import shutil

import pandas as pd
import pytest

from mildip import DatasetError, cite, dataset_names, load_dataset


@pytest.fixture
def data_copy(tmp_path, monkeypatch, root):
    """A private copy of the datasets folder that a test may damage."""
    target = tmp_path / "datasets"
    shutil.copytree(root / "datasets", target, ignore=shutil.ignore_patterns("scripts"))
    monkeypatch.setenv("MILDIP_DATA", str(target))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return target


def test_names_are_discoverable():
    assert {"nato_members", "nato_defence_expenditure"} <= set(dataset_names())


def test_types_follow_the_schema():
    spending = load_dataset("nato_defence_expenditure")
    assert spending["year"].dtype == "int64"
    assert spending["share_gdp_pct"].dtype == "float64"
    assert spending["estimate"].dtype == bool
    assert isinstance(spending["country"].dtype, pd.CategoricalDtype)
    members = load_dataset("nato_members")
    assert members["enlargement"].cat.ordered
    assert list(members["enlargement"].cat.categories[:2]) == ["founding", "1952"]


def test_cite_returns_the_descriptor_citation():
    assert "Defence Expenditure of NATO Countries (2014-2024)" in cite("nato_defence_expenditure")
    assert load_dataset("nato_members").attrs["citation"] == cite("nato_members")


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(DatasetError, match="unknown dataset 'nato_member'.*nato_members"):
        load_dataset("nato_member")


def test_a_bad_value_is_reported_with_file_row_and_column(data_copy):
    path = data_copy / "nato_members.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("1949-04-04", "4 April 1949")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError) as error:
        load_dataset("nato_members")
    message = str(error.value)
    assert "nato_members.csv" in message
    assert "row 4" in message
    assert "'member_since'" in message


def test_a_duplicate_key_is_reported(data_copy):
    path = data_copy / "nato_defence_expenditure.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="primary-key"):
        load_dataset("nato_defence_expenditure")


def test_a_missing_column_is_reported(data_copy):
    path = data_copy / "nato_members.csv"
    frame = pd.read_csv(path).drop(columns="enlargement")
    frame.to_csv(path, index=False)
    with pytest.raises(DatasetError, match="enlargement"):
        load_dataset("nato_members")


def test_a_missing_file_is_reported(data_copy):
    (data_copy / "nato_members.csv").unlink()
    with pytest.raises(DatasetError, match="nato_members.csv is missing"):
        load_dataset("nato_members")
