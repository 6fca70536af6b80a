"""Reading Rubin butler YAML exports (format 1.0.x, and the older ``version: 0``).

A Rubin export is ``{description: Butler Data Repository Export, version,
universe_version, universe_namespace, data: [blocks]}`` where each block has a
``type``: ``dimension`` (``element``, ``records``), ``collection``
(``collection_type``, ``name``, ``doc``, ``children`` for chains), ``run``
(legacy: a name), ``dataset_type`` (``name``, ``dimensions``,
``storage_class``, ``is_calibration``), ``dataset`` (``dataset_type``, ``run``,
``records`` of ``{dataset_id: [...], data_id: [...], path, formatter}``) and
``associations`` (``collection``, ``collection_type``, ``dataset_ids`` or
``validity_ranges: [{timespan, dataset_ids}]``).

Conversions made here (each is reported in `RepoContents.notes`):

- record times ``datetime_begin``/``datetime_end`` become the ``timespan``;
- universes before version 2 kept a visit's system in the visit record: a
  ``visit_system_membership`` record is made from it, and ``visit_system`` is
  dropped from dataset type dimensions that also have ``visit``;
- universes before version 6 had no ``day_obs``/``group`` records: they are
  made from the exposures' and visits' ``day_obs`` values (timespan from the
  instrument's day offset) and the exposures' ``group_name``;
- fields our universe lacks are dropped; elements it lacks (the solar-system
  pipeline ones) are skipped;
- Rubin storage classes become ours where one fits (``ExposureF`` ->
  ``Exposure``...); Rubin formatter names are replaced by the storage class's
  Chamberlain formatter;
- legacy integer dataset IDs become UUIDs (UUIDv3 of the integer in a fixed
  namespace, as the Rubin butler does, so associations keep pointing at them).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

import astropy.time
import lsst.sphgeom as sg

from ..dimensions import DimensionUniverse
from ..errors import ChamberlainError
from ..geometry import Timespan, time_to_ns
from ._contents import CollectionSpec, DatasetSpec, DatasetTypeSpec, ExportFormatError, RepoContents

__all__ = ["RUBIN_DESCRIPTION", "RUBIN_STORAGE_CLASSES", "read_rubin_export"]

RUBIN_DESCRIPTION = "Butler Data Repository Export"

#: Rubin storage class name -> the Chamberlain storage class used for it.
RUBIN_STORAGE_CLASSES = {
    "ExposureF": "Exposure",
    "ExposureI": "Exposure",
    "ExposureD": "Exposure",
    "ExposureU": "Exposure",
    "MaskedImageF": "MaskedImage",
    "MaskedImageI": "MaskedImage",
    "MaskedImageD": "MaskedImage",
    "MaskedImageU": "MaskedImage",
    "ImageF": "Image",
    "ImageI": "Image",
    "ImageD": "Image",
    "ImageU": "Image",
    "ArrowAstropy": "AstropyTable",
    "AstropyQTable": "AstropyTable",
    "TaskMetadata": "StructuredDataDict",
    "PropertyList": "StructuredDataDict",
    "PropertySet": "StructuredDataDict",
}

#: Seconds after TAI midnight at which an observing day starts, for instruments we do not know.
_DAY_OFFSETS = {"LSSTCam": 43_200, "LSSTComCam": 43_200, "LSSTComCamSim": 43_200, "LATISS": 43_200}

#: Namespace of the UUIDs made from legacy integer dataset IDs (the Rubin butler's).
_LEGACY_ID_NAMESPACE = uuid.UUID("4d4851f4-2890-4d41-8779-5f38a3f5062b")


def _dataset_id(value: Any, where: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return uuid.uuid3(_LEGACY_ID_NAMESPACE, str(value))
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ExportFormatError(f"{where}: dataset ID {value!r} is neither a UUID nor an integer.") from None


def _ns(value: Any, where: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, datetime.datetime):  # old exports used native YAML timestamps (UTC)
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return time_to_ns(astropy.time.Time(value, scale="utc"))
    raise ExportFormatError(f"{where}: {value!r} is not a time.")


def _day_offset(instrument: str) -> int:
    try:
        from ..instrument import get_instrument

        return int(get_instrument(instrument).day_obs_offset_seconds)
    except (ChamberlainError, ImportError, AttributeError):
        return _DAY_OFFSETS.get(instrument, 0)


class _Reader:
    def __init__(self, universe: DimensionUniverse, where: str, version: int, namespace: str) -> None:
        self.universe = universe
        self.where = where
        self.old_visit_system = namespace == "daf_butler" and version < 2
        self.old_day_obs = namespace == "daf_butler" and version < 6
        self.out = RepoContents()
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.dropped: dict[str, set[str]] = {}
        self.skipped_elements: set[str] = set()
        self.storage_classes: dict[str, str] = {}
        self.formatters_replaced = False

    def note(self, text: str) -> None:
        if text not in self.out.notes:
            self.out.notes.append(text)

    # --- dimension records ---------------------------------------------------------

    def dimension(self, block: Mapping[str, Any]) -> None:
        name = block.get("element")
        if name not in self.universe.element_names:
            self.skipped_elements.add(str(name))
            return
        element = self.universe[name]
        allowed = set(element.field_names)
        target = self.records.setdefault(name, [])
        for raw in block.get("records") or []:
            record = dict(raw)
            where = f"{self.where}: {name} record {record.get('id', record.get('name', ''))!r}"
            begin, end = record.pop("datetime_begin", None), record.pop("datetime_end", None)
            if "timespan" in record and not isinstance(record["timespan"], Timespan | None):
                ts = record["timespan"]
                record["timespan"] = Timespan(_ns(ts.get("begin"), where), _ns(ts.get("end"), where))
            if element.temporal and "timespan" not in record and (begin is not None or end is not None):
                record["timespan"] = Timespan(_ns(begin, where), _ns(end, where))
            if isinstance(record.get("region"), str):
                record["region"] = sg.Region.decode(bytes.fromhex(record["region"]))
            if name == "visit" and "visit_system" in record:
                system = record.pop("visit_system")
                if self.old_visit_system and system is not None:
                    self.records.setdefault("visit_system_membership", []).append(
                        {"instrument": record["instrument"], "visit_system": system, "visit": record["id"]}
                    )
                    self.note(
                        "visit_system_membership records were made from the visit records' visit_system."
                    )
            if self.old_day_obs and name in ("exposure", "visit"):
                self._day_obs_and_group(name, record, where)
            for field in set(record) - allowed:
                record.pop(field)
                self.dropped.setdefault(name, set()).add(field)
            target.append(record)

    def _day_obs_and_group(self, name: str, record: dict[str, Any], where: str) -> None:
        instrument = record.get("instrument")
        day_obs = record.get("day_obs")
        if day_obs is None:
            ts = record.get("timespan")
            if ts is None or ts.begin is None:
                raise ExportFormatError(
                    f"{where} has neither day_obs nor a start time; cannot make its day_obs."
                )
            from ..instrument.base import day_obs_from_tai_ns

            day_obs = record["day_obs"] = day_obs_from_tai_ns(ts.begin, _day_offset(str(instrument)))
        offset = _day_offset(str(instrument))
        self.records.setdefault("day_obs", []).append(
            {"instrument": instrument, "id": day_obs, "timespan": Timespan.from_day_obs(int(day_obs), offset)}
        )
        self.note(
            "day_obs records were made from exposure/visit day_obs values (older universe), with "
            "timespans from each instrument's day offset."
        )
        if name == "exposure":
            group = record.pop("group_name", None)
            if group is None:
                group = str(record.get("obs_id") or record["id"])
            record["group"] = group
            self.records.setdefault("group", []).append({"instrument": instrument, "name": group})
            self.note("group records were made from the exposures' group_name (older universe).")

    def finish_records(self) -> None:
        for name in self.universe.element_names:
            records = self.records.get(name)
            if not records:
                continue
            if name in ("day_obs", "group"):  # synthesised ones may repeat or duplicate exported ones
                unique: dict[tuple[Any, ...], dict[str, Any]] = {}
                for r in records:
                    unique.setdefault((r["instrument"], r.get("id", r.get("name"))), r)
                records = list(unique.values())
            self.out.records[name] = records
        for name, fields in sorted(self.dropped.items()):
            self.note(f"Dropped {name} fields this universe does not have: {', '.join(sorted(fields))}.")
        if self.skipped_elements:
            self.note(
                f"Skipped records of elements this universe does not have: {', '.join(sorted(self.skipped_elements))}."
            )

    # --- the other blocks -------------------------------------------------------------

    def collection(self, block: Mapping[str, Any]) -> None:
        kind = str(block.get("collection_type", "")).upper()
        children = []
        for child in block.get("children") or []:
            children.append(child if isinstance(child, str) else child[0])  # old (name, restriction) pairs
        self.out.collections.append(CollectionSpec(str(block["name"]), kind, block.get("doc"), children))

    def dataset_type(self, block: Mapping[str, Any]) -> None:
        dims = list(block.get("dimensions") or [])
        if self.old_visit_system and "visit" in dims and "visit_system" in dims:
            dims.remove("visit_system")
        storage_class = str(block["storage_class"])
        mapped = RUBIN_STORAGE_CLASSES.get(storage_class, storage_class)
        if mapped != storage_class:
            self.storage_classes[storage_class] = mapped
        name = str(block["name"])
        if any(t.name == name for t in self.out.dataset_types):
            return
        self.out.dataset_types.append(
            DatasetTypeSpec(name, dims, mapped, bool(block.get("is_calibration", False)))
        )

    def datasets(self, block: Mapping[str, Any]) -> None:
        type_name, run = str(block["dataset_type"]), str(block["run"])
        for rec in block.get("records") or []:
            ids = rec.get("dataset_id")
            data_ids = rec.get("data_id")
            ids = ids if isinstance(ids, list) else [ids]
            data_ids = data_ids if isinstance(data_ids, list) else [data_ids]
            if len(ids) != len(data_ids):
                raise ExportFormatError(
                    f"{self.where}: a {type_name!r} dataset entry has {len(ids)} IDs but {len(data_ids)} data IDs."
                )
            if rec.get("formatter"):
                self.formatters_replaced = True
            for dataset_id, data_id in zip(ids, data_ids):
                self.out.datasets.append(
                    DatasetSpec(
                        _dataset_id(dataset_id, self.where),
                        type_name,
                        run,
                        dict(data_id or {}),
                        rec.get("path"),
                    )
                )

    def associations(self, block: Mapping[str, Any]) -> None:
        name = str(block["collection"])
        kind = str(block.get("collection_type", "")).upper()
        if kind == "TAGGED":
            ids = [_dataset_id(i, self.where) for i in block.get("dataset_ids") or []]
            self.out.tagged.setdefault(name, []).extend(ids)
        elif kind == "CALIBRATION":
            for vr in block.get("validity_ranges") or []:
                ts = vr.get("timespan")
                if ts is None:  # the oldest form: begin/end keys
                    ts = Timespan(_ns(vr.get("begin"), self.where), _ns(vr.get("end"), self.where))
                elif not isinstance(ts, Timespan):
                    raise ExportFormatError(
                        f"{self.where}: validity range {ts!r} of {name!r} is not a timespan."
                    )
                ids = [_dataset_id(i, self.where) for i in vr.get("dataset_ids") or []]
                self.out.calibrations.setdefault(name, []).append((ts, ids))
        else:
            raise ExportFormatError(f"{self.where}: associations of {name!r} have collection_type {kind!r}.")


def _check_version(doc: Mapping[str, Any], where: str) -> None:
    version = doc.get("version")
    if version == 0:
        return
    parts = str(version).split(".")
    if len(parts) != 3 or parts[0] != "1" or parts[1] != "0":
        raise ExportFormatError(
            f"{where} is a Rubin butler export of format version {version!r}; Chamberlain reads 1.0.x (and 0)."
        )


def read_rubin_export(doc: Mapping[str, Any], universe: DimensionUniverse, where: str) -> RepoContents:
    """Convert a parsed Rubin butler export into `RepoContents` (see the module notes for conversions).

    Raises
    ------
    ExportFormatError
        For an unsupported version, an unknown block type or a malformed entry.
    """
    _check_version(doc, where)
    namespace = str(doc.get("universe_namespace", "daf_butler"))
    version = int(doc.get("universe_version", 0))
    reader = _Reader(universe, where, version, namespace)
    handlers = {
        "dimension": reader.dimension,
        "collection": reader.collection,
        "run": lambda b: reader.out.collections.append(CollectionSpec(str(b["name"]), "RUN")),
        "dataset_type": reader.dataset_type,
        "dataset": reader.datasets,
        "associations": reader.associations,
    }
    for i, block in enumerate(doc.get("data") or []):
        kind = block.get("type") if isinstance(block, Mapping) else None
        handler = handlers.get(str(kind))
        if handler is None:
            raise ExportFormatError(
                f"{where}: data entry {i} has type {kind!r}; expected one of {', '.join(handlers)}."
            )
        try:
            handler(block)
        except KeyError as err:
            raise ExportFormatError(
                f"{where}: data entry {i} ({kind}) has no {err.args[0]!r} entry."
            ) from None
    reader.finish_records()
    if reader.storage_classes:
        pairs = ", ".join(f"{k} -> {v}" for k, v in sorted(reader.storage_classes.items()))
        reader.note(f"Rubin storage classes mapped to Chamberlain ones: {pairs}.")
    if reader.formatters_replaced:
        reader.note("Rubin formatter names were replaced by each storage class's Chamberlain formatter.")
    # Chains after the collections they contain.
    reader.out.collections.sort(key=lambda c: c.type == "CHAINED")
    return reader.out
