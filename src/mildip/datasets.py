"""The course's datasets: discover, validate, load and cite them.

Each dataset is a CSV file in the ``datasets/`` folder with a Frictionless resource
descriptor beside it (``<name>.resource.yaml``). The descriptor holds the title, source,
release, licence, citation and as-of date, and a Table Schema (types, units, allowed
values, keys) that every load is validated against.

>>> from mildip import load_dataset
>>> members = load_dataset("nato_members")
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from mildip.errors import DatasetError

__all__ = ["DatasetError", "Dataset", "dataset_names", "describe", "load_dataset", "cite", "codebook", "data_dir"]


def data_dir() -> Path:
    """The folder holding the datasets (``$MILDIP_DATA`` or the course's ``datasets/``)."""
    override = os.environ.get("MILDIP_DATA")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "datasets"


@dataclass(frozen=True)
class Dataset:
    """What the descriptor of one dataset says."""

    name: str
    descriptor_path: Path
    descriptor: dict

    @property
    def path(self) -> Path:
        return self.descriptor_path.parent / self.descriptor["path"]

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


def dataset_names() -> list[str]:
    """Names accepted by :func:`load_dataset`, in alphabetical order."""
    return sorted(p.name.removesuffix(".resource.yaml") for p in data_dir().glob("*.resource.yaml"))


def describe(name: str) -> Dataset:
    """The descriptor of dataset ``name`` (source, release, licence, schema...)."""
    path = data_dir() / f"{name}.resource.yaml"
    if not path.is_file():
        known = ", ".join(dataset_names()) or "none"
        raise DatasetError(f"unknown dataset {name!r}; the course's datasets are: {known}")
    with path.open(encoding="utf-8") as f:
        descriptor = yaml.safe_load(f)
    return Dataset(name, path, descriptor)


def cite(name: str) -> str:
    """The citation text of dataset ``name``."""
    return " ".join(describe(name).descriptor["citation"].split())


def codebook(name: str) -> pd.DataFrame:
    """One row per column of dataset ``name``: type, unit, meaning and allowed values."""
    dataset = describe(name)
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


def load_dataset(name: str, release: str | None = None) -> pd.DataFrame:
    """Load dataset ``name`` as a typed DataFrame, validated against its schema.

    Dates become ``datetime64`` columns, booleans ``bool``, string fields with a fixed list
    of values (or marked ``categorical``) pandas categories. A file that does not match its
    schema raises :class:`DatasetError` naming the file, row and column.

    Some datasets hold several releases of the same figures (their descriptor lists
    ``releases``, oldest first, and a ``release`` column tells the rows apart). They load one
    release at a time, so that releases are never mixed by accident: the latest by default or
    with ``release="latest"``, an older one by its name (``release="June 2024"``), and every
    row only with ``release="all"``. ``frame.attrs["release"]`` says which release was loaded.
    """
    dataset = describe(name)
    if not dataset.path.is_file():
        raise DatasetError(f"{name}: data file {dataset.path} is missing")
    validate(dataset)
    frame = pd.read_csv(dataset.path, dtype=str, keep_default_na=False, encoding="utf-8")
    for field in dataset.fields:
        frame[field["name"]] = _typed(frame[field["name"]], field)
    frame.attrs.update(name=name, title=dataset.title, release=dataset.release, citation=cite(name))
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

    descriptor = dict(dataset.descriptor, schema=_frictionless_schema(dataset.descriptor["schema"]))
    resource = frictionless.Resource(descriptor, basepath=str(dataset.descriptor_path.parent))
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
