"""Writing one batch of translated raws: dimension records, dataset rows and files in one transaction.

`BatchWriter.write` takes the plain dicts the header readers return (see
`chamberlain.tasks._ingest_read.translate_raw_file`) and

1. drops files that clash inside the batch (two files for one data ID, or two
   files describing one exposure differently);
2. reads the stored exposure records of the batch (one SELECT) and fails the
   files whose exposure is stored with different values;
3. asks which deterministic dataset IDs are already stored (already present);
4. in ONE transaction inserts the missing physical_filter/detector (real
   instruments without plug-in), group, day_obs and exposure records in bulk
   (``skip_existing``), compares the stored exposures with the headers again
   (another process may have stored one since step 2), then inserts the
   dataset rows and the file records through `Butler.ingest`, which
   transfers the files.

If step 4 fails the batch rolls back whole. The cause may be another
process ingesting the same files at the same moment (it committed between
steps 3 and 4): steps 2 and 3 run again, files whose raw is stored now count
as already present, and the rest is written again. If that fails too (a
file vanished, a record field too long...), the files are retried one at a
time, unless failing fast, so that only the culprits fail. Dataset rows are
inserted before any file is transferred, so a batch that conflicts with
another process's rows fails before it touches a file.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chamberlain.datasets import DatasetIdGenEnum, DatasetRef, DatasetType, deterministic_id
from chamberlain.datastore import FileDataset
from chamberlain.dimensions import DataCoordinate, DimensionRecord
from chamberlain.errors import ChamberlainError, ConflictingDefinitionError, IngestError
from chamberlain.geometry.timespan import Timespan
from chamberlain.instrument import EXPOSURE_FIELDS, Instrument
from chamberlain.instrument.registration import register_instrument

from ._ingest_read import plugin_for

if TYPE_CHECKING:
    from chamberlain.butler import Butler

__all__ = ["RAW_DATASET_TYPE", "RAW_FORMATTER", "RAW_STORAGE_CLASS", "BatchResult", "BatchWriter"]

_log = logging.getLogger(__name__)

RAW_DATASET_TYPE = "raw"
RAW_STORAGE_CLASS = "RawExposure"
RAW_FORMATTER = "fits_raw"
_RAW_DIMENSIONS = ("instrument", "exposure", "detector")

Item = dict[str, Any]
Failure = tuple[str, str]


class BatchResult:
    """What one batch did: refs ingested, paths already present, failures ``(path, reason)``."""

    __slots__ = ("already_present", "failed", "ingested")

    def __init__(self) -> None:
        self.ingested: list[DatasetRef] = []
        self.already_present: list[str] = []
        self.failed: list[Failure] = []


def _exposure_differences(stored: dict[str, Any], given: dict[str, Any]) -> list[str]:
    diffs = []
    for field in EXPOSURE_FIELDS:
        if stored[field] != given[field]:
            diffs.append(f"{field}: stored {stored[field]!r}, header says {given[field]!r}")
    return diffs


class BatchWriter:
    """Writes batches of translated raws into a butler (see the module docstring).

    Parameters
    ----------
    butler
        A writeable butler.
    run
        The RUN for every raw, or None for ``<instrument>/raw/all``.
    transfer
        Transfer mode for `Butler.ingest`.
    fail_fast
        Raise `IngestError` at the first failing file instead of reporting it.
    """

    def __init__(self, butler: Butler, run: str | None, transfer: str | None, fail_fast: bool) -> None:
        self._butler = butler
        self._registry = butler.registry
        self._run = run
        self._transfer = transfer
        self._fail_fast = fail_fast
        self._universe = self._registry.universe
        self._group = self._universe.conform(_RAW_DIMENSIONS)
        self._dataset_type: DatasetType | None = None
        self._ready_instruments: set[str] = set()
        self._detectors: dict[str, dict[int, DimensionRecord]] = {}
        self._bands: dict[str, dict[str, str]] = {}

    # --- set-up, once per call -------------------------------------------------------------

    def _raw_type(self) -> DatasetType:
        if self._dataset_type is None:
            registry = self._registry
            existing = [
                t for t in registry.query_dataset_types(RAW_DATASET_TYPE) if t.name == RAW_DATASET_TYPE
            ]
            if existing:
                found = existing[0]
                if found.dimensions != self._group:
                    raise IngestError(
                        f"Dataset type {RAW_DATASET_TYPE!r} is registered with dimensions "
                        f"{list(found.dimensions.required)}; raw ingest needs {list(self._group.required)}."
                    )
                self._dataset_type = found
            else:
                dataset_type = DatasetType(RAW_DATASET_TYPE, self._group, RAW_STORAGE_CLASS)
                registry.register_dataset_type(dataset_type)
                self._dataset_type = dataset_type
        return self._dataset_type

    def _prepare_instrument(self, item: Item) -> None:
        name = item["instrument"]
        if name in self._ready_instruments:
            return
        registry = self._registry
        plugin = plugin_for(name) if item["plugin"] else None
        if plugin is not None:
            if registry.get_dimension_record("instrument", instrument=name) is None:
                try:
                    register_instrument(registry, plugin)
                except ChamberlainError:
                    # Another process may have registered it at the same moment; registering
                    # again compares with what it stored (and raises if that really differs).
                    register_instrument(registry, plugin)
            self._remember_plugin(plugin)
        else:
            registry.insert_dimension_records(
                "instrument",
                [{"name": name, "visit_max": None, "visit_system": 0, "exposure_max": None,
                  "detector_max": None, "class_name": None}],
                skip_existing=True,
            )  # fmt: skip
            self._detectors[name] = {}
            self._bands[name] = {}
        self._ready_instruments.add(name)

    def _remember_plugin(self, plugin: Instrument) -> None:
        detector_class = self._universe["detector"].RecordClass
        self._detectors[plugin.name] = {r["id"]: detector_class(**r) for r in plugin.detector_records()}
        self._bands[plugin.name] = dict(plugin.filters)

    # --- refs --------------------------------------------------------------------------------

    def _run_of(self, item: Item) -> str:
        return self._run or f"{item['instrument']}/raw/all"

    def _ref(self, item: Item) -> DatasetRef:
        dataset_type = self._raw_type()
        name = item["instrument"]
        exposure = item["exposure"]
        detector = item["detector"]
        run = self._run_of(item)
        required = {"instrument": name, "exposure": exposure["id"], "detector": detector}
        dataset_id = deterministic_id(DatasetIdGenEnum.DATAID_TYPE_RUN, dataset_type.name, run, required)
        detector_record = self._detectors[name].get(detector)
        if detector_record is None and item["detector_record"] is not None:
            detector_record = self._universe["detector"].RecordClass(**item["detector_record"])
            self._detectors[name][detector] = detector_record
        band = self._bands[name].get(exposure["physical_filter"])
        if band is None and item["physical_filter"] is not None:
            band = item["physical_filter"]["band"]
        full = {
            "instrument": name,
            "detector": detector,
            "exposure": exposure["id"],
            "band": band,
            "physical_filter": exposure["physical_filter"],
            "group": exposure["group"],
            "day_obs": exposure["day_obs"],
        }
        records = {
            "exposure": self._universe["exposure"].RecordClass(**exposure),
            "detector": detector_record,
        }
        values = tuple(full[d] for d in self._group.required)
        data_id = DataCoordinate(self._group, values, full, records)
        return DatasetRef(dataset_type, data_id, run, dataset_id)

    # --- checks before writing -------------------------------------------------------------

    def _stored_exposures(self, items: Sequence[Item]) -> dict[tuple[str, int], dict[str, Any]]:
        keys = sorted({(item["instrument"], item["exposure"]["id"]) for item in items})
        out: dict[tuple[str, int], dict[str, Any]] = {}
        for record in self._registry.fetch_dimension_records("exposure", keys):
            values = {f: getattr(record, f) for f in EXPOSURE_FIELDS}
            if values["timespan"] is None:
                values["timespan"] = Timespan(None, None)
            out[(record.instrument, record.id)] = values
        return out

    def _fail(self, result: BatchResult, path: str, reason: str) -> None:
        if self._fail_fast:
            raise IngestError(f"{path}: {reason}. Nothing from its batch was written (--fail-fast).")
        result.failed.append((path, reason))

    def _screen(self, items: Sequence[Item], result: BatchResult) -> list[tuple[Item, DatasetRef]]:
        """Drop in-batch clashes, exposures stored differently and datasets already present."""
        by_data_id: dict[tuple[str, int, int, str], str] = {}
        by_exposure: dict[tuple[str, int], Item] = {}
        kept: list[Item] = []
        for item in items:
            exposure = item["exposure"]
            key = (item["instrument"], exposure["id"], item["detector"], self._run_of(item))
            other = by_data_id.get(key)
            if other is not None:
                self._fail(
                    result, item["path"],
                    f"it holds the same instrument, exposure and detector as {other} "
                    f"({item['instrument']}, exposure {exposure['id']}, detector {item['detector']})",
                )  # fmt: skip
                continue
            first = by_exposure.setdefault((item["instrument"], exposure["id"]), item)
            if first is not item:
                diffs = [
                    f"{f}: {first['exposure'][f]!r} there, {exposure[f]!r} here"
                    for f in EXPOSURE_FIELDS
                    if first["exposure"][f] != exposure[f]
                ]
                if diffs:
                    self._fail(
                        result, item["path"],
                        f"it describes exposure {exposure['id']} differently from {first['path']} "
                        f"({'; '.join(diffs)})",
                    )  # fmt: skip
                    continue
            by_data_id[key] = item["path"]
            kept.append(item)
        stored = self._stored_exposures(kept)
        checked: list[Item] = []
        for item in kept:
            exposure = item["exposure"]
            found = stored.get((item["instrument"], exposure["id"]))
            if found is not None:
                diffs = _exposure_differences(found, exposure)
                if diffs:
                    self._fail(
                        result, item["path"],
                        f"exposure {exposure['id']} of {item['instrument']} is already stored with different "
                        f"values ({'; '.join(diffs)})",
                    )  # fmt: skip
                    continue
            checked.append(item)
        return [(item, self._ref(item)) for item in checked]

    # --- writing -----------------------------------------------------------------------------

    def _insert(self, pairs: Sequence[tuple[Item, DatasetRef]], stored_ids: set[tuple[str, int]]) -> None:
        registry = self._registry
        items = [item for item, _ in pairs]
        filters = {
            (i["instrument"], i["physical_filter"]["name"]): i["physical_filter"]
            for i in items
            if not i["plugin"]
        }
        detectors = {(i["instrument"], i["detector"]): i["detector_record"] for i in items if not i["plugin"]}
        groups = {(i["instrument"], i["group"]["name"]): i["group"] for i in items}
        days = {(i["instrument"], i["day_obs"]["id"]): i["day_obs"] for i in items}
        exposures = {
            (i["instrument"], i["exposure"]["id"]): i["exposure"]
            for i in items
            if (i["instrument"], i["exposure"]["id"]) not in stored_ids
        }
        with self._butler.transaction():
            for element, records in (
                ("physical_filter", filters),
                ("detector", detectors),
                ("group", groups),
                ("day_obs", days),
                ("exposure", exposures),
            ):
                if records:
                    registry.insert_dimension_records(element, list(records.values()), skip_existing=True)
            self._check_exposures_unchanged(items)
            self._butler.ingest(
                *(FileDataset(item["path"], ref, formatter=RAW_FORMATTER) for item, ref in pairs),
                transfer=self._transfer,
            )

    def _check_exposures_unchanged(self, items: Sequence[Item]) -> None:
        """Raise if an exposure this batch relies on is stored with other values than its headers say.

        Run inside the batch's transaction, after the exposure records were
        inserted with ``skip_existing``: another process may have stored one
        of them after the batch was screened, and a record found stored (or
        skipped) is not compared otherwise. One SELECT per instrument.

        Parameters
        ----------
        items
            The batch's translated raws.

        Raises
        ------
        ConflictingDefinitionError
            If a stored exposure differs (the batch is then screened again).
        """
        stored = self._stored_exposures(items)
        for item in items:
            key = (item["instrument"], item["exposure"]["id"])
            diffs = _exposure_differences(stored[key], item["exposure"]) if key in stored else []
            if diffs:
                raise ConflictingDefinitionError(
                    f"exposure {key[1]} of {key[0]} was stored meanwhile with different values "
                    f"({'; '.join(diffs)})"
                )

    def _not_present(
        self, pairs: Sequence[tuple[Item, DatasetRef]], result: BatchResult
    ) -> list[tuple[Item, DatasetRef]]:
        """The pairs whose dataset is not stored yet; the others count as already present.

        Raw dataset IDs are deterministic (dataset type, data ID and run), so a
        stored dataset with the same ID is the same raw.
        """
        present = {r.id for r in self._registry.get_datasets([ref.id for _, ref in pairs])}
        todo = []
        for item, ref in pairs:
            if ref.id in present:
                result.already_present.append(item["path"])
            else:
                todo.append((item, ref))
        return todo

    def _try_insert(self, pairs: Sequence[tuple[Item, DatasetRef]]) -> Exception | None:
        """Insert ``pairs`` in one transaction; the error if it rolled back, else None."""
        try:
            self._insert(pairs, set(self._stored_exposures([item for item, _ in pairs])))
        except (ChamberlainError, OSError) as err:
            return err
        return None

    def write(self, items: Sequence[Item]) -> BatchResult:
        """Ingest one batch of translated raws (see the module docstring).

        Another process may ingest the same files at the same time: when the
        batch's transaction fails, the files are screened again against what
        is stored now, those whose raw another process stored count as
        already present, and the rest are tried again (as a batch, then one
        at a time), so only files that really cannot be ingested fail.

        Parameters
        ----------
        items
            Translated raws (`chamberlain.tasks._ingest_read.translate_raw_file`).

        Returns
        -------
        BatchResult
            The refs ingested, the paths already present and the failures.

        Raises
        ------
        IngestError
            With ``fail_fast``, at the first file that cannot be ingested;
            nothing from the batch is written.
        """
        result = BatchResult()
        if not items:
            return result
        self._raw_type()
        for item in items:
            self._prepare_instrument(item)
        todo = self._not_present(self._screen(items, result), result)
        if not todo:
            return result
        err = self._try_insert(todo)
        if err is not None:
            # Perhaps another process stored some of these raws since they were screened:
            # screen what is left again (stored exposures, present datasets) and retry.
            _log.info("Batch of %d raws failed (%s); screening it again.", len(todo), err)
            todo = self._not_present(self._screen([item for item, _ in todo], result), result)
            if not todo:
                return result
            err = self._try_insert(todo)
        if err is None:
            result.ingested.extend(ref for _, ref in todo)
            return result
        if self._fail_fast:
            raise IngestError(
                f"A batch of {len(todo)} raw file(s) failed and nothing from it was written "
                f"(--fail-fast): {err}"
            ) from err
        if len(todo) > 1:
            _log.info("Batch of %d raws failed (%s); retrying them one by one.", len(todo), err)
        for pair in todo:
            one = err if len(todo) == 1 else self._try_insert([pair])
            if one is None:
                result.ingested.append(pair[1])
            elif self._registry.get_datasets([pair[1].id]):  # stored by another process meanwhile
                result.already_present.append(pair[0]["path"])
            else:
                result.failed.append((pair[0]["path"], f"cannot be ingested: {one}"))
        return result
