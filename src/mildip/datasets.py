"""The course's datasets: discover, validate, load and cite them.

Each dataset is a CSV file with a Frictionless resource descriptor beside it
(``<name>.resource.yaml``). The descriptor holds the title, source, release, licence, citation
and as-of date, and a Table Schema (types, units, allowed values, keys) that every load is
validated against.

>>> from mildip import load_dataset
>>> members = load_dataset("nato_members")

Where the datasets are found
----------------------------
Every function here takes ``data_home``. The folders below are searched in this order, and the
first one holding ``<name>.resource.yaml`` provides dataset ``name``:

1. ``data_home``, when given: a folder of your own datasets, or of corrected copies;
2. the folder named by the environment variable ``MILDIP_DATA``, when it is set;
3. the datasets installed with the package (the package ``mildip.data``, read through
   :mod:`importlib.resources`). In the course's repository they are the files of ``datasets/``.

A name found nowhere raises :class:`DatasetError` listing the known datasets and the folders
searched; ``data_home`` or ``MILDIP_DATA`` naming a folder that does not exist is an error too,
never silently skipped.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd
import yaml

from mildip.errors import DatasetError

__all__ = ["DatasetError", "Dataset", "DataLocation", "data_locations", "dataset_names", "describe",
           "load_dataset", "cite", "codebook"]

#: The environment variable naming a folder searched before the installed datasets.
ENV_VAR = "MILDIP_DATA"
#: The package whose files are the installed datasets.
PACKAGE_DATA = "mildip.data"
DESCRIPTOR_SUFFIX = ".resource.yaml"


@dataclass(frozen=True)
class DataLocation:
    """One folder searched for datasets, and how messages name it."""

    label: str
    folder: Traversable

    def names(self) -> set[str]:
        """The datasets described in this folder."""
        return {entry.name.removesuffix(DESCRIPTOR_SUFFIX) for entry in self.folder.iterdir()
                if entry.name.endswith(DESCRIPTOR_SUFFIX) and entry.is_file()}


def data_locations(data_home: str | os.PathLike | None = None) -> list[DataLocation]:
    """The folders searched for datasets, first to last (see the module's documentation)."""
    locations = []
    if data_home is not None:
        locations.append(_folder(data_home, f"data_home {str(data_home)!r}"))
    override = os.environ.get(ENV_VAR)
    if override:
        locations.append(_folder(override, f"${ENV_VAR} ({override})"))
    try:
        locations.append(DataLocation("the datasets installed with mildip", resources.files(PACKAGE_DATA)))
    except ModuleNotFoundError:
        pass  # mildip imported from a source folder that is not installed: no packaged data
    return locations


def _folder(value: str | os.PathLike, label: str) -> DataLocation:
    try:
        folder = Path(value).expanduser()
    except TypeError:
        raise DatasetError(f"data_home is a folder's path, not {type(value).__name__}") from None
    if not folder.is_dir():
        raise DatasetError(f"{label} is not a folder")
    return DataLocation(label, folder)


@dataclass(frozen=True)
class Dataset:
    """What the descriptor of one dataset says, and where its files are."""

    name: str
    folder: Traversable
    descriptor: dict

    @property
    def descriptor_path(self) -> Traversable:
        return self.folder / f"{self.name}{DESCRIPTOR_SUFFIX}"

    @property
    def path(self) -> Traversable:
        return self.folder / self.descriptor["path"]

    @property
    def fields(self) -> list[dict]:
        return self.descriptor["schema"]["fields"]

    @property
    def primary_key(self) -> list[str]:
        return list(self.descriptor["schema"].get("primaryKey", []))

    def __getattr__(self, key):
        # title, description, release, as_of, citation, sources, licenses ...
        try:
            return self.descriptor[key]
        except KeyError:
            raise AttributeError(key) from None


def dataset_names(data_home: str | os.PathLike | None = None) -> list[str]:
    """Names accepted by :func:`load_dataset`, in alphabetical order (from every folder searched)."""
    return sorted(set().union(*(location.names() for location in data_locations(data_home))))


def describe(name: str, data_home: str | os.PathLike | None = None) -> Dataset:
    """The descriptor of dataset ``name`` (source, release, licence, schema...)."""
    if not isinstance(name, str):
        raise DatasetError(f"a dataset is named by a string such as 'nato_members', not {type(name).__name__}")
    locations = data_locations(data_home)
    for location in locations:
        if name in location.names():  # an exact match: a name is never read as a path
            dataset = Dataset(name, location.folder, {})
            try:
                descriptor = yaml.safe_load(dataset.descriptor_path.read_text(encoding="utf-8"))
            except yaml.YAMLError as error:
                raise DatasetError(f"{dataset.descriptor_path} is not valid YAML: {' '.join(str(error).split())}") from None
            if not isinstance(descriptor, dict) or not {"path", "schema"} <= descriptor.keys():
                raise DatasetError(f"{dataset.descriptor_path} is not a resource descriptor (no path or schema)")
            return Dataset(name, location.folder, descriptor)
    raise DatasetError(_unknown(name, locations))


def _unknown(name: str, locations: list[DataLocation]) -> str:
    known = sorted(set().union(*(location.names() for location in locations)))
    where = "; ".join(f"{location.label}: {location.folder}" for location in locations) or "nowhere"
    if not known:
        return f"unknown dataset {name!r}: no datasets found (searched {where})"
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown dataset {name!r}{hint}; the datasets are: {', '.join(known)} (searched {where})"


def cite(name: str, data_home: str | os.PathLike | None = None) -> str:
    """The citation text of dataset ``name``."""
    return _citation(describe(name, data_home))


def _citation(dataset: Dataset) -> str:
    return " ".join(str(dataset.descriptor.get("citation", "")).split())


def codebook(name: str, data_home: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per column of dataset ``name``: type, unit, meaning and allowed values."""
    dataset = describe(name, data_home)
    rows = []
    for field in dataset.fields:
        constraints = field.get("constraints", {})
        allowed = ", ".join(map(str, constraints["enum"])) if "enum" in constraints else ""
        low, high = constraints.get("minimum"), constraints.get("maximum")
        if low is not None and high is not None:
            allowed = f"{low} to {high}"
        elif low is not None:
            allowed = f"at least {low}"
        elif high is not None:
            allowed = f"at most {high}"
        rows.append({
            "column": field["name"],
            "type": field.get("type", "string"),
            "unit": field.get("unit", ""),
            "meaning": ": ".join(filter(None, [field.get("title", ""), " ".join(field.get("description", "").split())])),
            "allowed values": allowed,
            "key": "yes" if field["name"] in dataset.primary_key else "",
        })
    return pd.DataFrame(rows)


def load_dataset(name: str, data_home: str | os.PathLike | None = None, *, release: str | None = None) -> pd.DataFrame:
    """Load dataset ``name`` as a typed DataFrame, validated against its schema.

    ``data_home`` is a folder searched first; then the folder named by the environment
    variable ``MILDIP_DATA``; then the datasets installed with the package (see the module's
    documentation). Dates become ``datetime64`` columns, booleans ``bool``, string fields with
    a fixed list of values (or marked ``categorical``) pandas categories. An unknown name, or a
    file that does not match its schema, raises :class:`DatasetError`: the first lists the
    known datasets and the folders searched, the second names the file, row and column.

    Some datasets hold several releases of the same figures (their descriptor lists
    ``releases``, oldest first, and a ``release`` column tells the rows apart). They load one
    release at a time, so that releases are never mixed by accident: the latest by default or
    with ``release="latest"``, an older one by its name (``release="June 2024"``), and every
    row only with ``release="all"``. ``frame.attrs["release"]`` says which release was loaded.
    """
    dataset = describe(name, data_home)
    if not dataset.path.is_file():
        raise DatasetError(f"{name}: data file {dataset.path} is missing")
    validate(dataset)
    with resources.as_file(dataset.path) as path:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for field in dataset.fields:
        frame[field["name"]] = _typed(frame[field["name"]], field)
    frame.attrs.update(name=name, title=dataset.title, release=dataset.release, citation=_citation(dataset))
    return _select_release(frame, dataset, release)


def _select_release(frame: pd.DataFrame, dataset: Dataset, release: str | None) -> pd.DataFrame:
    """The rows of one release (see :func:`load_dataset`)."""
    listed = dataset.descriptor.get("releases") or []
    names = [item["name"] for item in listed]
    if not names:
        if release in (None, "latest", "all"):
            return frame
        raise DatasetError(f"{dataset.name} has a single release ({dataset.release}); do not pass release=")
    if release == "all":
        frame.attrs["release"] = "; ".join(item["title"] for item in listed)
        return frame
    chosen = names[-1] if release in (None, "latest") else release
    if chosen not in names:
        raise DatasetError(f"{dataset.name} has no release {release!r}; its releases are: {', '.join(names)}, or 'all'")
    rows = frame[frame["release"] == chosen].reset_index(drop=True)
    rows.attrs.update(frame.attrs, release=listed[names.index(chosen)]["title"])
    return rows


def _typed(column: pd.Series, field: dict) -> pd.Series:
    missing = column == ""
    kind = field.get("type", "string")
    if kind == "integer":
        values = pd.to_numeric(column.mask(missing)).astype("Int64")
        return values if missing.any() else values.astype("int64")
    if kind == "number":
        return pd.to_numeric(column.mask(missing)).astype("float64")
    if kind == "boolean":
        return column.map({"true": True, "false": False}).astype("bool" if not missing.any() else "boolean")
    if kind == "date":
        return pd.to_datetime(column.mask(missing), format="%Y-%m-%d")
    enum = field.get("constraints", {}).get("enum")
    if enum is not None or field.get("categorical"):
        categories = enum if enum is not None else sorted(set(column[~missing]))
        return pd.Categorical(column.mask(missing), categories=categories, ordered=bool(field.get("ordered")))
    return column.mask(missing).astype("string")


# --- validation -------------------------------------------------------------------------


def validate(dataset: Dataset) -> None:
    """Check the file against its Table Schema; raise :class:`DatasetError` on the first errors.

    A successful check is remembered (by the content hash of file and descriptor) so that
    loading an unchanged dataset again does not re-validate it.
    """
    digest = _digest(dataset)
    if digest in _validated_digests():
        return
    import frictionless  # imported here: it is slow to import and only needed on first load

    with resources.as_file(dataset.path) as path:
        descriptor = dict(dataset.descriptor, path=path.name, schema=_frictionless_schema(dataset.descriptor["schema"]))
        resource = frictionless.Resource(descriptor, basepath=str(path.parent))
        report = resource.validate()
    if not report.valid:
        raise DatasetError(_describe_errors(dataset, report))
    _remember(digest)


def _frictionless_schema(schema: dict) -> dict:
    """The Table Schema without the course's own field keys (unit, categorical, ordered)."""
    own = {"unit", "categorical", "ordered"}
    return dict(schema, fields=[{k: v for k, v in f.items() if k not in own} for f in schema["fields"]])


def _describe_errors(dataset: Dataset, report) -> str:
    errors = report.flatten(["rowNumber", "fieldName", "type", "note", "message"])
    lines = [f"{dataset.path.name} does not match its schema in {dataset.descriptor_path.name}:"]
    for row, field, kind, note, message in errors[:10]:
        where = ", ".join(part for part in (f"row {row}" if row else "", f"column {field!r}" if field else "") if part)
        lines.append(f"  {where or 'file'}: {kind}: {note or message}")
    if len(errors) > 10:
        lines.append(f"  ... and {len(errors) - 10} more errors")
    return "\n".join(lines)


def _digest(dataset: Dataset) -> str:
    h = hashlib.sha256()
    h.update(dataset.descriptor_path.read_bytes())
    h.update(dataset.path.read_bytes())
    return h.hexdigest()


def _cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mildip" / "validated.json"


@functools.cache
def _validated_digests() -> set[str]:
    try:
        return set(json.loads(_cache_file().read_text()))
    except (OSError, ValueError):
        return set()


def _remember(digest: str) -> None:
    known = _validated_digests()
    known.add(digest)
    try:
        path = _cache_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(sorted(known)[-200:]))
    except OSError:
        pass  # a read-only home only costs a re-validation next time
