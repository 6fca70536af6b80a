"""Writing a repository's metadata (records, collections, dataset types, datasets, files) to YAML.

The file layout (``version`` 1.0.0)::

    description: Chamberlain export
    version: 1.0.0
    universe: {namespace: chamberlain, version: 1}
    root: /abs/path/of/the/source/repository   # file paths below are relative to it
    dimensions:                                  # in dependency order
      - element: exposure
        records:
          - {instrument: SimCam, id: 1, ..., timespan: [begin_ns, end_ns]}
    collections:                                 # chains after their children
      - {name: run1, type: RUN, doc: null}
      - {name: chain, type: CHAINED, doc: null, children: [run1, tagged]}
    dataset_types:
      - {name: calexp, dimensions: [instrument, visit, detector], storage_class: Exposure, is_calibration: false}
    datasets:                                    # grouped by dataset type and run
      - dataset_type: calexp
        run: run1
        records:
          - {id: <uuid>, data_id: {instrument: SimCam, visit: 1, detector: 0}, path: run1/calexp/..., formatter: ...,
             storage_class: Exposure, checksum: null, file_size: 123}
    associations:
      - {collection: tagged, type: TAGGED, dataset_ids: [<uuid>, ...]}
      - {collection: calib, type: CALIBRATION, validity_ranges: [{timespan: [b, e], dataset_ids: [...]}]}

Regions are the hex of the sphgeom encoding; timespans are TAI nanoseconds
with null for an unbounded side; skymap hashes are hex.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..datasets import DatasetRef, DatasetType
from ..errors import DatastoreError, MissingCollectionError
from ..registry import CollectionType, Registry
from ..repository import check_outside_repository
from ._records import RecordCollector, row_to_file
from ._yaml import dump

if TYPE_CHECKING:
    from ..butler import Butler

__all__ = ["EXPORT_DESCRIPTION", "EXPORT_VERSION", "ExportSummary", "export_repository"]

EXPORT_DESCRIPTION = "Chamberlain export"
EXPORT_VERSION = "1.0.0"


@dataclasses.dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: counts of records, collections, dataset types, datasets and files."""

    records: int
    collections: int
    dataset_types: int
    datasets: int
    files: int


def _selected_collections(registry: Registry, collections: str | Sequence[str] | None) -> list[str]:
    if collections is None:
        return registry.query_collections("*")
    patterns = [collections] if isinstance(collections, str) else list(collections)
    out: list[str] = []
    for pattern in patterns:
        if any(c in pattern for c in "*?["):
            matches = registry.query_collections(pattern)
        else:
            registry.get_collection_type(pattern)  # MissingCollectionError names it
            matches = [pattern]
        out += [m for m in matches if m not in out]
    return out


def _with_chain_members(registry: Registry, names: list[str]) -> list[tuple[str, CollectionType]]:
    """The collections and, recursively, the children of chains among them; children first."""
    out: dict[str, CollectionType] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in out or name in path:
            return
        kind = registry.get_collection_type(name)
        if kind is CollectionType.CHAINED:
            for child in registry.get_collection_chain(name):
                visit(child, (*path, name))
        out[name] = kind

    for n in names:
        visit(n, ())
    return list(out.items())


def _find_datasets(
    registry: Registry, types: list[DatasetType], searched: list[str], where: str | None
) -> list[DatasetRef]:
    if not searched:
        return []
    refs: dict[uuid.UUID, DatasetRef] = {}
    for dt in types:
        for ref in registry.query_datasets(dt, searched, where=where or "", find_first=False):
            refs.setdefault(ref.id, ref)
    return list(refs.values())


def _memberships(
    registry: Registry, collections: list[tuple[str, CollectionType]], ids: set[uuid.UUID]
) -> list[dict[str, Any]]:
    """TAGGED and CALIBRATION memberships of the exported datasets (one SELECT per dataset-type table)."""
    wanted = [(n, k) for n, k in collections if k in (CollectionType.TAGGED, CollectionType.CALIBRATION)]
    if not wanted:
        return []
    out: list[dict[str, Any]] = []
    tagged: dict[str, list[str]] = {n: [] for n, k in wanted if k is CollectionType.TAGGED}
    ranges: dict[str, dict[tuple[int | None, int | None], list[str]]] = {
        n: {} for n, k in wanted if k is CollectionType.CALIBRATION
    }
    for a in registry.query_dataset_associations([n for n, _ in wanted]):
        if a.dataset_id not in ids:
            continue
        if a.timespan is None:
            tagged[a.collection].append(str(a.dataset_id))
        else:
            ranges[a.collection].setdefault((a.timespan.begin, a.timespan.end), []).append(str(a.dataset_id))
    for name, kind in wanted:
        if kind is CollectionType.TAGGED:
            out.append({"collection": name, "type": "TAGGED", "dataset_ids": sorted(tagged[name])})
        else:
            out.append(
                {
                    "collection": name,
                    "type": "CALIBRATION",
                    "validity_ranges": [
                        {"timespan": [b, e], "dataset_ids": sorted(v)}
                        for (b, e), v in sorted(ranges[name].items(), key=repr)
                    ],
                }
            )
    return out


def _export_target(file: str | os.PathLike[str]) -> Path:
    """The export file's path, once its directory is known to exist and it is not a directory."""
    target = Path(file)
    parent = target.absolute().parent
    if not parent.is_dir():
        problem = "is not a directory" if parent.exists() else "does not exist"
        raise DatastoreError(
            f"Cannot write the export file {str(file)!r}: its directory {str(parent)!r} {problem}; "
            "create it first or choose another path."
        )
    if target.is_dir():
        raise DatastoreError(f"Cannot write the export file {str(file)!r}: it is a directory.")
    return target


def export_repository(
    butler: Butler,
    file: str | os.PathLike[str],
    *,
    collections: str | Sequence[str] | None = None,
    dataset_types: str | Iterable[str] | None = None,
    where: str | None = None,
    with_files: bool = True,
) -> ExportSummary:
    """Write a repository's metadata to a YAML export file.

    Exported: the selected datasets (with their original IDs and, with
    ``with_files``, their file paths relative to the repository root,
    formatter, storage class, checksum and size), their dataset types, the
    selected collections (chains with their children, recursively) plus the
    RUN of every exported dataset, the TAGGED and CALIBRATION memberships
    (with validity ranges) of exported datasets in exported collections, and
    every dimension record the datasets' data IDs need (with no selection at
    all, the whole repository is exported: every record of every element): their own, the
    records they imply (a visit's physical_filter and day_obs) and the records
    populated with them (a visit's visit_definition, visit_system_membership
    and visit_detector_region rows, and the exposures and visit systems those
    name). Reads run in bulk: one query per dataset type, one per element and
    batch of keys, one per membership table. No file is copied.

    Parameters
    ----------
    butler
        The repository to export from.
    file
        The YAML file to write.
    collections
        Names or glob patterns; all collections when None.
    dataset_types
        Names or glob patterns; all dataset types when None.
    where
        A query expression restricting the datasets (see `Registry.query_datasets`).
    with_files
        Include the datastore records (paths); without them an import makes
        registry-only datasets.

    Returns
    -------
    ExportSummary
        Counts of what was written.

    Raises
    ------
    MissingCollectionError
        If a named (non-glob) collection does not exist.
    InvalidQueryError
        If ``where`` is not a valid expression.
    DatastoreError
        If ``file``'s directory does not exist or the file cannot be written;
        checked before anything is read.
    """
    target = _export_target(file)
    check_outside_repository(target, butler.config.root, "export")
    registry = butler.registry
    selected = _selected_collections(registry, collections)
    patterns = (
        ["*"]
        if dataset_types is None
        else [dataset_types]
        if isinstance(dataset_types, str)
        else list(dataset_types)
    )
    types = registry.query_dataset_types(patterns)
    for p in patterns:
        if not any(c in p for c in "*?[") and not any(fnmatch.fnmatchcase(t.name, p) for t in types):
            registry.get_dataset_type(p)  # MissingDatasetTypeError names it
    coll_list = _with_chain_members(registry, selected)
    searched = [n for n, k in coll_list if k is not CollectionType.CHAINED]
    refs = _find_datasets(registry, types, searched, where)
    refs.sort(key=lambda r: (r.dataset_type.name, r.run, repr(r.data_id.required_values), str(r.id)))
    ids = {r.id for r in refs}

    # Collections: the selection (children first) plus every run that holds an exported dataset.
    known = {n for n, _ in coll_list}
    runs = sorted({r.run for r in refs} - known)
    coll_list = [(n, CollectionType.RUN) for n in runs] + coll_list
    collections_out: list[dict[str, Any]] = []
    for name, kind in coll_list:
        entry: dict[str, Any] = {"name": name, "type": kind.name, "doc": registry.get_collection_doc(name)}
        if kind is CollectionType.CHAINED:
            entry["children"] = registry.get_collection_chain(name)
        collections_out.append(entry)
    for entry in collections_out:
        missing = [c for c in entry.get("children", []) if c not in {e["name"] for e in collections_out}]
        if missing:  # pragma: no cover - children are always visited first
            raise MissingCollectionError(
                f"Chain {entry['name']!r} has children {missing} that were not exported."
            )

    # Dimension records the data IDs need.
    collector = RecordCollector(registry)
    seen_ids: set[tuple[Any, ...]] = set()
    for ref in refs:
        key = (ref.data_id.dimensions.required, ref.data_id.required_values)
        if key not in seen_ids:
            seen_ids.add(key)
            collector.add_data_id(ref.data_id.required)
    if collections is None and dataset_types is None and where is None:
        for element in registry.universe.elements:  # the whole repository: every record
            if element.has_table:
                collector.add_all(element)
    rows = collector.collect()
    universe = registry.universe
    dimensions_out = [
        {"element": name, "records": [row_to_file(universe[name], r) for r in element_rows]}
        for name, element_rows in rows.items()
    ]

    # Dataset types actually used, and datasets grouped by (type, run).
    used_types = sorted(
        {r.dataset_type.name for r in refs} | {t.name for t in types if dataset_types is not None}
    )
    by_name = {t.name: t for t in types}
    types_out = [
        {
            "name": n,
            "dimensions": list(by_name[n].dimensions.required),
            "storage_class": by_name[n].storage_class,
            "is_calibration": by_name[n].is_calibration,
        }
        for n in used_types
        if n in by_name
    ]
    stored = butler.datastore.records.fetch_many(ids) if with_files else {}
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    n_files = 0
    for ref in refs:
        entry = {"id": str(ref.id), "data_id": dict(ref.data_id.required)}
        files = [f for f in stored.get(ref.id, []) if f[1] == ""]
        if files:
            _, _, path, formatter, storage_class, checksum, size = files[0]
            entry.update(
                path=path, formatter=formatter, storage_class=storage_class, checksum=checksum, file_size=size
            )
            n_files += 1
        groups.setdefault((ref.dataset_type.name, ref.run), []).append(entry)
    datasets_out = [{"dataset_type": t, "run": run, "records": recs} for (t, run), recs in groups.items()]

    document = {
        "description": EXPORT_DESCRIPTION,
        "version": EXPORT_VERSION,
        "universe": {"namespace": universe.namespace, "version": universe.version},
        "root": str(butler.config.root),
        "dimensions": dimensions_out,
        "collections": collections_out,
        "dataset_types": types_out,
        "datasets": datasets_out,
        "associations": _memberships(registry, coll_list, ids),
    }
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w") as stream:
            dump(document, stream)
        os.replace(tmp, target)
    except OSError as err:
        raise DatastoreError(f"Cannot write the export file {str(file)!r}: {err.strerror}.") from None
    finally:
        tmp.unlink(missing_ok=True)
    return ExportSummary(
        records=sum(len(d["records"]) for d in dimensions_out),
        collections=len(collections_out),
        dataset_types=len(types_out),
        datasets=len(refs),
        files=n_files,
    )
