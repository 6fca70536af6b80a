"""Reading an export file (Chamberlain's or a Rubin butler's) into a repository.

Everything is written in one registry transaction: dimension records (after a
vectorised comparison with the stored ones that refuses any conflict),
collections, dataset types, datasets with their original IDs, their files
(transferred like `Butler.ingest` does), TAGGED memberships and validity
ranges. If anything fails, nothing is written and files already transferred
are removed (or moved back).
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..datasets import DatasetRef, DatasetType
from ..datastore import FileDataset
from ..dimensions import DataCoordinate, DimensionUniverse
from ..errors import (
    ConflictingDefinitionError,
    FileIntegrityError,
    IngestError,
    ReadOnlyError,
)
from ..geometry import Timespan
from ..registry import CollectionType, Registry
from ._contents import CollectionSpec, DatasetSpec, DatasetTypeSpec, ExportFormatError, RepoContents
from ._records import record_from_file
from ._sync import plan_records
from ._yaml import load
from .export import EXPORT_DESCRIPTION, EXPORT_VERSION
from .rubin_yaml import RUBIN_DESCRIPTION, read_rubin_export

if TYPE_CHECKING:
    from ..butler import Butler

__all__ = ["ImportSummary", "import_repository", "read_export"]


@dataclasses.dataclass(frozen=True)
class ImportSummary:
    """What an import wrote.

    Attributes
    ----------
    records, records_skipped
        Dimension records inserted, and those already stored identically.
    collections
        Collections created.
    dataset_types
        Dataset types registered.
    datasets, datasets_skipped
        Datasets inserted, and those already present with the same ID and definition.
    files
        Files transferred (or recorded, with ``direct``).
    notes
        Conversions made while reading (older Rubin universes, dropped fields, registry-only datasets).
    """

    records: int
    records_skipped: int
    collections: int
    dataset_types: int
    datasets: int
    datasets_skipped: int
    files: int
    notes: tuple[str, ...] = ()


def _require(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise ExportFormatError(f"{where} has no {key!r} entry.")
    return mapping[key]


def _read_chamberlain(doc: Mapping[str, Any], universe: DimensionUniverse, where: str) -> RepoContents:
    version = str(doc.get("version", ""))
    if version.split(".")[0] != EXPORT_VERSION.split(".")[0]:
        raise ExportFormatError(
            f"{where} has export format version {version!r}; this Chamberlain reads {EXPORT_VERSION.split('.')[0]}.x."
        )
    uni = _require(doc, "universe", where)
    if (uni.get("namespace"), uni.get("version")) != (universe.namespace, universe.version):
        raise ExportFormatError(
            f"{where} was written with dimension universe {uni.get('namespace')}:{uni.get('version')}; the "
            f"repository uses {universe.namespace}:{universe.version}. Migrate one of them first."
        )
    out = RepoContents(root=doc.get("root"))
    for block in doc.get("dimensions") or []:
        name = _require(block, "element", f"a dimensions entry of {where}")
        if name not in universe.element_names:
            raise ExportFormatError(
                f"{where} has records of element {name!r}, which the universe does not have; "
                f"known elements: {', '.join(universe.element_names)}."
            )
        element = universe[name]
        records = [record_from_file(element, r, where) for r in block.get("records") or []]
        out.records.setdefault(name, []).extend(records)
    for c in doc.get("collections") or []:
        out.collections.append(
            CollectionSpec(
                _require(c, "name", f"a collection of {where}"),
                _require(c, "type", f"collection {c.get('name')!r} of {where}"),
                c.get("doc"),
                list(c.get("children") or []),
            )
        )
    for t in doc.get("dataset_types") or []:
        out.dataset_types.append(
            DatasetTypeSpec(
                _require(t, "name", f"a dataset type of {where}"),
                list(_require(t, "dimensions", f"dataset type {t.get('name')!r} of {where}")),
                _require(t, "storage_class", f"dataset type {t.get('name')!r} of {where}"),
                bool(t.get("is_calibration", False)),
            )
        )
    for block in doc.get("datasets") or []:
        type_name = _require(block, "dataset_type", f"a datasets entry of {where}")
        run = _require(block, "run", f"the {type_name!r} datasets of {where}")
        for r in block.get("records") or []:
            try:
                dataset_id = uuid.UUID(str(_require(r, "id", f"a {type_name!r} dataset of {where}")))
            except ValueError:
                raise ExportFormatError(f"{where}: dataset ID {r.get('id')!r} is not a UUID.") from None
            out.datasets.append(
                DatasetSpec(
                    dataset_id,
                    type_name,
                    run,
                    dict(_require(r, "data_id", f"dataset {dataset_id} of {where}")),
                    r.get("path"),
                    r.get("formatter"),
                    r.get("checksum"),
                    r.get("file_size"),
                )
            )
    for a in doc.get("associations") or []:
        name = _require(a, "collection", f"an associations entry of {where}")
        kind = _require(a, "type", f"the associations of {name!r} in {where}")
        if kind == "TAGGED":
            out.tagged.setdefault(name, []).extend(uuid.UUID(str(i)) for i in a.get("dataset_ids") or [])
        elif kind == "CALIBRATION":
            for vr in a.get("validity_ranges") or []:
                begin, end = _require(vr, "timespan", f"a validity range of {name!r} in {where}")
                ids = [uuid.UUID(str(i)) for i in vr.get("dataset_ids") or []]
                out.calibrations.setdefault(name, []).append((Timespan(begin, end), ids))
        else:
            raise ExportFormatError(
                f"{where}: associations of {name!r} have type {kind!r}; expected TAGGED or CALIBRATION."
            )
    return out


def read_export(file: str | os.PathLike[str], universe: DimensionUniverse) -> RepoContents:
    """Read a Chamberlain or Rubin butler YAML export into `RepoContents` (no database access).

    Raises
    ------
    ExportFormatError
        If the file is not valid YAML, not an export, of an unsupported
        version, or written for an incompatible universe.
    """
    where = str(file)
    try:
        with open(file) as stream:
            doc = load(stream)
    except FileNotFoundError:
        raise ExportFormatError(f"Export file {where} does not exist.") from None
    except yaml.YAMLError as err:
        raise ExportFormatError(
            f"Export file {where} is not valid YAML: {' '.join(str(err).split())}"
        ) from None
    description = doc.get("description") if isinstance(doc, Mapping) else None
    if description == EXPORT_DESCRIPTION:
        return _read_chamberlain(doc, universe, where)
    if description == RUBIN_DESCRIPTION:
        contents = read_rubin_export(doc, universe, where)
        contents.root = str(Path(file).absolute().parent)
        return contents
    raise ExportFormatError(
        f"{where} is not an export file: its description is {description!r}; expected "
        f"{EXPORT_DESCRIPTION!r} or {RUBIN_DESCRIPTION!r}."
    )


def _register_collections(registry: Registry, specs: list[CollectionSpec]) -> int:
    created = 0
    chains: list[CollectionSpec] = []
    for spec in specs:
        kind = CollectionType.from_name(spec.type)
        if kind is CollectionType.CHAINED:
            chains.append(spec)
            continue
        created += registry.register_collection(spec.name, kind, spec.doc)
    fresh = [
        spec for spec in chains if registry.register_collection(spec.name, CollectionType.CHAINED, spec.doc)
    ]
    for spec in chains:
        if spec in fresh:
            registry.set_collection_chain(spec.name, spec.children)
            continue
        current = registry.get_collection_chain(spec.name)
        if current != spec.children:
            raise ConflictingDefinitionError(
                f"Chain {spec.name!r} exists with children {current}; the export gives {spec.children}."
            )
    created += len(fresh)
    return created


def _refs(
    registry: Registry, datasets: list[DatasetSpec]
) -> tuple[list[DatasetRef], dict[uuid.UUID, DatasetRef]]:
    """Refs of the datasets to insert, and of every dataset of the export (new or already present)."""
    types: dict[str, DatasetType] = {}
    refs: dict[uuid.UUID, DatasetRef] = {}
    for d in datasets:
        dt = types.get(d.dataset_type)
        if dt is None:
            dt = types[d.dataset_type] = registry.get_dataset_type(d.dataset_type)
        coord = DataCoordinate.standardize(d.data_id, dimensions=dt.dimensions)
        if d.id in refs:
            raise ExportFormatError(f"Dataset ID {d.id} appears twice in the export.")
        refs[d.id] = DatasetRef(dt, coord, d.run, d.id)
    existing = {r.id: r for r in registry.get_datasets(refs)}
    new: list[DatasetRef] = []
    for dataset_id, ref in refs.items():
        old = existing.get(dataset_id)
        if old is None:
            new.append(ref)
        elif (old.dataset_type.name, old.run, old.data_id) != (ref.dataset_type.name, ref.run, ref.data_id):
            raise ConflictingDefinitionError(
                f"Dataset {dataset_id} exists as {old.dataset_type.name!r} {old.data_id} in run {old.run!r}; "
                f"the export has it as {ref.dataset_type.name!r} {ref.data_id} in run {ref.run!r}."
            )
    return new, refs


def _add_missing_refs(registry: Registry, contents: RepoContents, refs: dict[uuid.UUID, DatasetRef]) -> None:
    """Resolve association IDs that are not datasets of the export from the repository (bulk)."""
    wanted = {i for ids in contents.tagged.values() for i in ids}
    wanted |= {i for ranges in contents.calibrations.values() for _, ids in ranges for i in ids}
    missing = wanted - refs.keys()
    if not missing:
        return
    for ref in registry.get_datasets(missing):
        refs[ref.id] = ref
    unknown = sorted(str(i) for i in missing - refs.keys())
    if unknown:
        raise ExportFormatError(
            f"The export associates dataset(s) {', '.join(unknown[:5])} with collections, but neither the export "
            "nor the repository has them."
        )


def _file_datasets(
    contents: RepoContents, new: list[DatasetRef], directory: str | None
) -> tuple[list[FileDataset], int]:
    """Files of the new datasets, checked to exist with the exported size; and the count without a file."""
    specs = {d.id: d for d in contents.datasets}
    base = directory or contents.root
    by_path: dict[str, list[DatasetRef]] = {}
    formatters: dict[str, str | None] = {}
    no_file = 0
    for ref in new:
        spec = specs[ref.id]
        if spec.path is None:
            no_file += 1
            continue
        if os.path.isabs(spec.path):
            source = spec.path
        elif base is None:
            raise IngestError(
                f"Cannot find the file {spec.path!r} of dataset {ref.id}: the export names no root; pass directory=."
            )
        else:
            source = os.path.join(base, spec.path)
        try:
            size = os.stat(source).st_size
        except FileNotFoundError:
            raise IngestError(
                f"The file of dataset {ref.id} ({ref.dataset_type.name} {ref.data_id}) is missing: {source}. "
                "Pass directory= where the files are, or without_datastore=True to import the metadata only."
            ) from None
        if spec.file_size is not None and spec.file_size >= 0 and size != spec.file_size:
            raise FileIntegrityError(
                f"The file of dataset {ref.id} has {size} bytes but the export recorded {spec.file_size}: {source}."
            )
        by_path.setdefault(source, []).append(ref)
        formatters[source] = spec.formatter
    return [FileDataset(p, refs, formatters[p]) for p, refs in by_path.items()], no_file


def import_repository(
    butler: Butler,
    file: str | os.PathLike[str],
    *,
    directory: str | os.PathLike[str] | None = None,
    transfer: str | None = "auto",
    skip_dimensions: bool = False,
    without_datastore: bool = False,
) -> ImportSummary:
    """Import an export file (Chamberlain or Rubin butler YAML) into a repository, all or nothing.

    Parameters
    ----------
    butler
        The target repository, opened writeable.
    file
        The export file.
    directory
        Where relative file paths start; by default the exporting
        repository's root (Chamberlain exports) or the export file's
        directory (Rubin exports).
    transfer
        How files get into the repository, as for `Butler.ingest`: ``auto``
        (copy files that are outside the repository), ``copy``, ``move``,
        ``symlink``, ``hardlink``, ``relsymlink``, ``link``, ``direct``.
    skip_dimensions
        Do not import dimension records (they must already exist).
    without_datastore
        Import the registry metadata only: datasets get no files.

    Returns
    -------
    ImportSummary
        Counts of what was written, and notes on conversions.

    Raises
    ------
    ConflictingRecordError
        If a dimension record in the export differs from the stored one (the
        message names element, key and the differing fields with both values).
    ConflictingDefinitionError
        If a dataset type, chain or dataset ID conflicts with the repository's.
    IngestError, FileIntegrityError
        If a file is missing or its size differs from the exported size.
    ExportFormatError
        If the file cannot be read (see `read_export`).
    ReadOnlyError
        If the butler is read-only.
    """
    if not butler.writeable:
        raise ReadOnlyError(f"Cannot import: the butler for {butler.config.root} was opened read-only.")
    registry = butler.registry
    contents = read_export(file, registry.universe)
    notes = list(contents.notes)
    try:
        with registry.transaction():
            inserted = skipped = 0
            if not skip_dimensions:
                to_insert, skipped = plan_records(registry, contents.records)
                for element, records in to_insert.items():
                    inserted += registry.insert_dimension_records(element, records)
            n_types = 0
            for t in contents.dataset_types:
                dt = DatasetType(
                    t.name, t.dimensions, t.storage_class, registry.universe, is_calibration=t.is_calibration
                )
                n_types += registry.register_dataset_type(dt)
            n_collections = _register_collections(registry, contents.collections)
            new, refs = _refs(registry, contents.datasets)
            registry.import_datasets(new)
            n_files = 0
            if not without_datastore:
                files, no_file = _file_datasets(
                    contents, new, None if directory is None else os.fspath(directory)
                )
                if files:
                    butler.datastore.ingest(files, transfer)
                n_files = len(files)
                if no_file:
                    notes.append(
                        f"{no_file} dataset(s) had no file in the export and were imported without one."
                    )
            _add_missing_refs(registry, contents, refs)
            for name, ids in contents.tagged.items():
                registry.associate(name, [refs[i] for i in ids])
            for name, ranges in contents.calibrations.items():
                for timespan, ids in ranges:
                    registry.certify(name, [refs[i] for i in ids], timespan)
    except BaseException:
        registry.refresh()
        raise
    return ImportSummary(
        records=inserted,
        records_skipped=skipped,
        collections=n_collections,
        dataset_types=n_types,
        datasets=len(new),
        datasets_skipped=len(refs) - len(new),
        files=n_files,
        notes=tuple(notes),
    )
