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


# --- where datasets are found: data_home, then $MILDIP_DATA, then the installed package -----------


def write_dataset(folder, name="nato_members", rows=None, **changes):
    """A copy of one installed dataset in ``folder``: the descriptor with ``changes``, the first ``rows``."""
    import yaml

    from mildip.datasets import describe as installed

    folder.mkdir(parents=True, exist_ok=True)
    source = installed(name)
    descriptor = dict(source.descriptor, **changes)
    (folder / f"{name}.resource.yaml").write_text(yaml.safe_dump(descriptor, sort_keys=False), encoding="utf-8")
    lines = source.path.read_text(encoding="utf-8").splitlines()
    (folder / source.descriptor["path"]).write_text("\n".join(lines[:(rows or len(lines) - 1) + 1]) + "\n",
                                                    encoding="utf-8")
    return folder


@pytest.fixture
def no_override(monkeypatch, tmp_path):
    monkeypatch.delenv("MILDIP_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_the_installed_datasets_load_from_the_package(no_override):
    from importlib import resources

    from mildip.datasets import describe

    assert describe("nato_members").folder == resources.files("mildip.data")
    assert len(load_dataset("nato_members")) == 32


def test_data_home_comes_first_then_the_environment_then_the_package(no_override, tmp_path, monkeypatch):
    from mildip import describe

    home = write_dataset(tmp_path / "home", rows=3, title="From data_home")
    env = write_dataset(tmp_path / "env", rows=5, title="From the environment")
    write_dataset(env, name="asean_members", title="ASEAN from the environment")
    monkeypatch.setenv("MILDIP_DATA", str(env))
    assert describe("nato_members", data_home=home).title == "From data_home"
    assert len(load_dataset("nato_members", data_home=home)) == 3
    assert describe("nato_members").title == "From the environment"
    assert len(load_dataset("nato_members")) == 5
    # a folder that lacks a dataset leaves it to the next folder
    assert describe("asean_members", data_home=home).title == "ASEAN from the environment"
    assert describe("countries", data_home=home).title != "From data_home"
    assert len(load_dataset("countries", data_home=home)) > 100


def test_names_come_from_every_folder_searched(no_override, tmp_path):
    extra = tmp_path / "mine"
    write_dataset(extra)
    (extra / "nato_members.resource.yaml").rename(extra / "my_members.resource.yaml")
    assert "my_members" in dataset_names(data_home=extra)
    assert set(dataset_names()) < set(dataset_names(data_home=extra))


def test_an_unknown_name_lists_the_datasets_and_every_folder_searched(no_override, tmp_path, monkeypatch):
    home, env = write_dataset(tmp_path / "home"), write_dataset(tmp_path / "env")
    monkeypatch.setenv("MILDIP_DATA", str(env))
    with pytest.raises(DatasetError) as error:
        load_dataset("nato_member", data_home=home)
    message = str(error.value)
    assert "did you mean 'nato_members'?" in message
    assert "countries" in message and "us_troops_abroad" in message
    assert str(home) in message and str(env) in message and "installed with mildip" in message
    assert "\n" not in message


@pytest.mark.parametrize("name", ["../exercises/nbgrader_config", "/etc/passwd", "", "nato_members.csv"])
def test_a_name_is_never_read_as_a_path(no_override, name):
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset(name)


def test_a_name_or_folder_of_the_wrong_type_is_refused_clearly(no_override):
    with pytest.raises(DatasetError, match="named by a string"):
        load_dataset(["nato_members"])
    with pytest.raises(DatasetError, match="data_home is a folder's path, not int"):
        load_dataset("nato_members", data_home=3)


def test_a_missing_folder_is_an_error_not_silently_skipped(no_override, tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match=r"data_home '.*nowhere' is not a folder"):
        load_dataset("nato_members", data_home=tmp_path / "nowhere")
    monkeypatch.setenv("MILDIP_DATA", str(tmp_path / "elsewhere"))
    with pytest.raises(DatasetError, match=r"\$MILDIP_DATA \(.*elsewhere\) is not a folder"):
        dataset_names()


def test_a_broken_descriptor_is_reported_with_its_file(no_override, tmp_path):
    home = write_dataset(tmp_path / "home")
    (home / "nato_members.resource.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="nato_members.resource.yaml is not valid YAML"):
        load_dataset("nato_members", data_home=home)


def test_cite_codebook_and_describe_follow_the_same_search(no_override, tmp_path):
    from mildip import codebook, describe

    home = write_dataset(tmp_path / "home", title="From data_home", citation="Mine.")
    assert cite("nato_members", data_home=home) == "Mine."
    assert load_dataset("nato_members", data_home=home).attrs["citation"] == "Mine."
    assert describe("nato_members", data_home=home).title == "From data_home"
    assert list(codebook("nato_members", data_home=home)["column"]) == list(codebook("nato_members")["column"])
