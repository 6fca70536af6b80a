"""What an export file holds, read into plain objects (the same for both file formats)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from ..errors import ExportFormatError
from ..geometry import Timespan

__all__ = [
    "CollectionSpec",
    "DatasetSpec",
    "DatasetTypeSpec",
    "ExportFormatError",
    "RepoContents",
]


@dataclasses.dataclass
class CollectionSpec:
    """A collection to create: name, type name (RUN, TAGGED, CHAINED, CALIBRATION), doc, chain children."""

    name: str
    type: str
    doc: str | None = None
    children: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class DatasetTypeSpec:
    """A dataset type to register."""

    name: str
    dimensions: list[str]
    storage_class: str
    is_calibration: bool = False


@dataclasses.dataclass
class DatasetSpec:
    """One dataset: ID, type, run, required data ID values and (optionally) its file."""

    id: uuid.UUID
    dataset_type: str
    run: str
    data_id: dict[str, Any]
    path: str | None = None
    formatter: str | None = None
    checksum: str | None = None
    file_size: int | None = None


@dataclasses.dataclass
class RepoContents:
    """Everything read from an export file.

    Attributes
    ----------
    records
        Dimension records by element name, as field mappings (``region`` a
        sphgeom region, ``timespan`` a `Timespan`, hashes bytes), in the
        universe's dependency order.
    collections
        Collections to create (chains after their children).
    dataset_types
        Dataset types to register.
    datasets
        Datasets with their original IDs.
    tagged
        TAGGED collection name -> dataset IDs.
    calibrations
        CALIBRATION collection name -> (validity range, dataset IDs) pairs.
    root
        Directory that relative file paths are relative to (None: unknown).
    notes
        Conversions made while reading (older universes, dropped fields).
    """

    records: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    collections: list[CollectionSpec] = dataclasses.field(default_factory=list)
    dataset_types: list[DatasetTypeSpec] = dataclasses.field(default_factory=list)
    datasets: list[DatasetSpec] = dataclasses.field(default_factory=list)
    tagged: dict[str, list[uuid.UUID]] = dataclasses.field(default_factory=dict)
    calibrations: dict[str, list[tuple[Timespan, list[uuid.UUID]]]] = dataclasses.field(default_factory=dict)
    root: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
