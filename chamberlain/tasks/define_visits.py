"""`DefineVisitsTask`: group exposures into visits and write the visits' records with sky regions.

For a set of exposures already in the registry the task

1. keeps those that can see the sky (``tracking_ra``, ``tracking_dec`` and
   ``sky_angle`` set, ``can_see_sky`` not False); the others are skipped and counted;
2. groups them into visits with the ``group_exposures`` subtask (``one-to-one``,
   ``by-group-metadata``, ``by-counter-and-exposure``; see
   `chamberlain.tasks._visits_grouping`);
3. computes each visit's region and its detectors' regions with the
   ``compute_visit_regions`` subtask (``by-camera-geometry`` or
   ``single-raw-wcs``; see `chamberlain.tasks._visits_regions`), optionally in a
   process pool;
4. writes, for each visit, its ``visit``, ``visit_definition``,
   ``visit_system_membership`` and ``visit_detector_region`` records in **one
   transaction per visit** (the registry stores their overlaps with tracts and
   patches in the same transaction), so an interrupted run leaves every visit
   either complete or absent. All writes happen in the calling process.

Re-running is a no-op: visits already stored with the same content are skipped.
A stored visit with different content is an error (raised before anything is
written) unless ``update_records`` is set.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chamberlain._progress import ProgressCallback
from chamberlain.butler import Butler
from chamberlain.dimensions import DimensionRecord
from chamberlain.errors import ConflictingDefinitionError, DataIdValueError, TaskError
from chamberlain.pipe import Config, RegistryField, Struct, Task, choice_field, field
from chamberlain.registry import Registry

from ._visits_grouping import (
    GROUP_EXPOSURES,
    VISIT_SYSTEMS,
    ExposureRecord,
    GroupExposuresTask,
    VisitDefinition,
)
from ._visits_records import VisitRows, differing_fields, visit_rows
from ._visits_regions import (
    COMPUTE_VISIT_REGIONS,
    ComputeVisitRegionsTask,
    ExposurePointing,
    VisitRegions,
    compute_encoded,
    decode_regions,
)
from ._visits_wcs import raw_wcs_from_butler

__all__ = ["DefineVisitsConfig", "DefineVisitsTask"]

#: Below this many visits a process pool costs more than it saves.
_MIN_POOL_VISITS = 64


class DefineVisitsConfig(Config):
    """Configuration of `DefineVisitsTask`."""

    group_exposures: RegistryField = GROUP_EXPOSURES.make_field(
        "How exposures are grouped into visits.", default="one-to-one"
    )
    compute_visit_regions: RegistryField = COMPUTE_VISIT_REGIONS.make_field(
        "How visit and detector regions are computed.", default="by-camera-geometry"
    )
    ignore_non_science_exposures: bool = field(
        True, "Skip exposures that cannot see the sky (True) or fail on them (False)."
    )
    pool_start_method: str = choice_field(
        "fork",
        "How worker processes are started when processes > 1. Workers only compute regions: "
        "they never use the parent's database connection, so 'fork' (milliseconds to start) is safe "
        "on Linux; 'spawn' and 'forkserver' start fresh interpreters (about a second each).",
        allowed={
            "fork": "forked from this process (POSIX only; the default)",
            "forkserver": "forked from a clean server process",
            "spawn": "fresh interpreters (works everywhere)",
        },
    )


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _on_sky(e: ExposureRecord) -> bool:
    return (
        e.tracking_ra is not None
        and e.tracking_dec is not None
        and e.sky_angle is not None
        and e.can_see_sky is not False
    )


class DefineVisitsTask(Task):
    """Define visits (and their sky regions) from the exposures of a repository.

    Parameters
    ----------
    config
        The configuration (`DefineVisitsConfig`).
    butler
        The repository read from and written to (through ``butler.registry``'s
        public API). With the ``single-raw-wcs`` region algorithm each raw's
        WCS is read from it (header only); see `run`'s ``collections``.
    **kwargs
        Passed to `Task` (``name``, ``parent_task``, ``log``).
    """

    ConfigClass = DefineVisitsConfig
    config: DefineVisitsConfig
    default_name = "define_visits"
    can_multiprocess = False
    group_exposures: GroupExposuresTask
    compute_visit_regions: ComputeVisitRegionsTask

    def __init__(self, config: DefineVisitsConfig | None = None, *, butler: Butler, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.butler = butler
        self.registry: Registry = butler.registry
        self.make_subtask("group_exposures")
        self.make_subtask("compute_visit_regions")

    # ------------------------------------------------------------------ public

    def run(
        self,
        data_ids: Iterable[Mapping[str, Any] | ExposureRecord],
        *,
        collections: str | Sequence[str] | None = None,
        processes: int = 1,
        update_records: bool = False,
        incremental: bool = False,
        progress: ProgressCallback | None = None,
    ) -> Struct:
        """Define visits for the given exposures and write their records.

        Runs a few SQL queries up front (exposure records, stored visits), computes
        regions (in ``processes`` worker processes if more than 1), then runs one
        write transaction per visit that is new or changed.

        Parameters
        ----------
        data_ids
            Exposure data IDs (mappings with ``instrument`` and ``exposure``) or
            ``exposure`` dimension records, all of one instrument. Duplicates are
            ignored.
        collections
            Collections holding the raws, searched in order, for the
            ``single-raw-wcs`` region algorithm (None: the butler's default
            collections); unused by ``by-camera-geometry``.
        processes
            Worker processes for region computation (1: none).
        update_records
            Overwrite stored visits whose content differs, with their detector regions.
        incremental
            Pull in exposures already in the registry that belong to the same
            visits (snaps arriving later), and update stored visits that changed
            (detector regions are rewritten only if the visit region changed).
        progress
            Called as ``progress(done, total)`` with ``done = 0`` once the visits to
            write are known, then after each visit's transaction commits
            (``total`` counts only the visits that need writing).

        Returns
        -------
        Struct
            ``n_visits`` (visits defined), ``n_new`` (written), ``n_skipped``
            (already stored, identical), ``n_updated`` (overwritten),
            ``n_not_on_sky`` (exposures skipped because they cannot see the sky).

        Raises
        ------
        TaskError
            Bad input (unknown type, several instruments, processes < 1), an
            exposure that cannot see the sky when ``ignore_non_science_exposures``
            is False, or ``single-raw-wcs`` regions with no collections to read
            the raws from.
        DataIdValueError
            A data ID names an exposure with no record.
        ConflictingDefinitionError
            A stored visit differs from the one defined (and neither
            ``update_records`` nor ``incremental`` is set); the message names each
            such visit and its differing fields. Nothing is written then.
        """
        if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
            raise TaskError(f"processes must be a positive integer; got {processes!r}.")
        with self.timer("select"):
            instrument, exposures = self._select(data_ids)
            exposures, n_not_on_sky = self._filter_on_sky(exposures)
            if incremental and exposures:
                exposures = self._add_missing(instrument, exposures)
        if not exposures:
            self.log.info("No on-sky exposures to define visits for (%d skipped).", n_not_on_sky)
            return Struct(n_visits=0, n_new=0, n_skipped=0, n_updated=0, n_not_on_sky=n_not_on_sky)
        visits = self.group_exposures.group(exposures)
        self._check_ids(instrument, visits)
        self._sync_visit_systems(instrument, visits)
        existing = self._existing_visits(instrument, [v.id for v in visits])
        with self.timer("computeRegions"):
            self._provide_raw_wcs(collections)
            regions = self._compute_regions(instrument, visits, processes)
        rows = visit_rows(visits, regions)
        update = update_records or incremental
        plan: list[tuple[VisitRows, bool, bool]] = []  # rows, replace, replace_regions
        conflicts: list[str] = []
        n_skipped = 0
        for r in rows:
            stored = existing.get(r.visit["id"])
            if stored is None:
                plan.append((r, False, False))
                continue
            diffs = differing_fields(stored, r.visit)
            if not diffs and not incremental:
                n_skipped += 1
            elif not diffs:
                plan.append((r, False, False))  # may gain new visit_definition rows
            elif update:
                plan.append((r, True, update_records or "region" in diffs))
            else:
                conflicts.append(_describe_conflict(stored, r.visit, diffs))
        if conflicts:
            shown = "; ".join(conflicts[:5]) + (
                f"; and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
            )
            raise ConflictingDefinitionError(
                f"{len(conflicts)} visit(s) of instrument {instrument!r} are already stored with different "
                f"content: {shown}. Nothing was written; pass update_records=True to overwrite them."
            )
        n_new = n_updated = 0
        if progress is not None:
            progress(0, len(plan))
        with self.timer("write"):
            for done, (r, replace, replace_regions) in enumerate(plan, start=1):
                is_new = r.visit["id"] not in existing
                self._write(r, is_new=is_new, replace=replace, replace_regions=replace_regions)
                if is_new:
                    n_new += 1
                elif replace:
                    n_updated += 1
                else:
                    n_skipped += 1
                self._visit_written(r.visit["id"])
                if progress is not None:
                    progress(done, len(plan))
        result = Struct(
            n_visits=len(visits),
            n_new=n_new,
            n_skipped=n_skipped,
            n_updated=n_updated,
            n_not_on_sky=n_not_on_sky,
        )
        for key, value in result.get_dict().items():
            self.metadata[key] = value
        self.log.info(
            "Defined %d visits of %s: %d new, %d unchanged, %d updated; %d exposures not on sky.",
            len(visits),
            instrument,
            n_new,
            n_skipped,
            n_updated,
            n_not_on_sky,
        )
        return result

    # ------------------------------------------------------------------ selection

    def _select(
        self, data_ids: Iterable[Mapping[str, Any] | ExposureRecord]
    ) -> tuple[str, list[ExposureRecord]]:
        """Exposure records for the inputs (one query for those given as data IDs)."""
        records: dict[tuple[str, int], ExposureRecord] = {}
        wanted: dict[tuple[str, int], None] = {}
        for item in data_ids:
            if isinstance(item, DimensionRecord):
                if item.element.name != "exposure":
                    raise TaskError(
                        f"DefineVisitsTask needs exposure data IDs or exposure records; got a "
                        f"{item.element.name!r} record ({item!r})."
                    )
                exposure: ExposureRecord = item
                records[(exposure.instrument, exposure.id)] = item
            elif isinstance(item, Mapping):
                try:
                    key = (item["instrument"], item["exposure"])
                except KeyError as err:
                    raise TaskError(
                        f"Data ID {dict(item)!r} has no {err.args[0]!r} value; exposure data IDs need "
                        "'instrument' and 'exposure'."
                    ) from None
                wanted[key] = None
            else:
                raise TaskError(
                    f"DefineVisitsTask needs exposure data IDs (mappings) or exposure records; got {item!r}."
                )
        instruments = sorted({k[0] for k in records} | {k[0] for k in wanted})
        if len(instruments) > 1:
            raise TaskError(
                f"All exposures must belong to one instrument; got exposures of {', '.join(map(repr, instruments))}."
            )
        if not instruments:
            return "", []
        instrument = instruments[0]
        ids = [k[1] for k in wanted if k not in records]
        if ids:
            fetched = self._fetch_exposures(instrument, ids)
            missing = sorted(set(ids) - {r.id for r in fetched})
            if missing:
                raise DataIdValueError(
                    f"No exposure record for instrument {instrument!r} and exposure(s) "
                    f"{', '.join(map(str, missing[:10]))}{' ...' if len(missing) > 10 else ''}; ingest the raws first."
                )
            for r in fetched:
                records[(instrument, r.id)] = r
        return instrument, sorted(records.values(), key=lambda r: r.id)

    def _fetch_exposures(self, instrument: str, ids: Sequence[int]) -> list[ExposureRecord]:
        return self.registry.fetch_dimension_records("exposure", [(instrument, i) for i in ids])

    def _filter_on_sky(self, exposures: list[ExposureRecord]) -> tuple[list[ExposureRecord], int]:
        kept = [e for e in exposures if _on_sky(e)]
        n_skipped = len(exposures) - len(kept)
        if n_skipped and not self.config.ignore_non_science_exposures:
            bad = next(e for e in exposures if not _on_sky(e))
            raise TaskError(
                f"Exposure {bad.id} ({bad.obs_id}, observation_type {bad.observation_type!r}) cannot see the sky "
                f"(tracking_ra={bad.tracking_ra!r}, tracking_dec={bad.tracking_dec!r}, sky_angle={bad.sky_angle!r}, "
                f"can_see_sky={bad.can_see_sky!r}); set ignore_non_science_exposures=True to skip such exposures."
            )
        if n_skipped:
            self.log.info("Skipping %d exposures that cannot see the sky.", n_skipped)
        return kept, n_skipped

    def _add_missing(self, instrument: str, exposures: list[ExposureRecord]) -> list[ExposureRecord]:
        match = self.group_exposures.missing_exposures_match(exposures)
        if match is None:
            return exposures
        fields, values = match
        have = {e.id for e in exposures}
        extra = self.registry.fetch_dimension_records("exposure", values, fields=fields)
        added, _ = self._filter_on_sky([e for e in extra if e.id not in have])
        return sorted([*exposures, *added], key=lambda e: e.id)

    # ------------------------------------------------------------------ checks and reads

    def _check_ids(self, instrument: str, visits: Sequence[VisitDefinition]) -> None:
        seen: dict[int, VisitDefinition] = {}
        for v in visits:
            other = seen.get(v.id)
            if other is not None:
                raise TaskError(
                    f"Visits {other.name!r} and {v.name!r} of instrument {instrument!r} both get visit ID {v.id}; "
                    "the grouping cannot tell them apart."
                )
            seen[v.id] = v
        record = self.registry.get_dimension_record("instrument", instrument=instrument)
        if record is None:
            raise DataIdValueError(f"No instrument record for {instrument!r}; register the instrument first.")
        visit_max = getattr(record, "visit_max", None)
        if visit_max is not None:
            for v in visits:
                if not 0 <= v.id < visit_max:
                    raise TaskError(
                        f"Visit {v.name!r} gets ID {v.id}, outside [0, {visit_max}) allowed for {instrument!r}."
                    )

    def _sync_visit_systems(self, instrument: str, visits: Sequence[VisitDefinition]) -> None:
        used = sorted({s for v in visits for s in v.visit_systems})
        for system in used:
            self.registry.sync_dimension_record(
                "visit_system", {"instrument": instrument, "id": system, "name": VISIT_SYSTEMS[system]}
            )

    def _existing_visits(self, instrument: str, ids: Sequence[int]) -> dict[int, ExposureRecord]:
        records = self.registry.fetch_dimension_records("visit", [(instrument, i) for i in ids])
        return {r.id: r for r in records}

    # ------------------------------------------------------------------ regions

    def _provide_raw_wcs(self, collections: str | Sequence[str] | None) -> None:
        """Give the region subtask a raw-WCS reader on the butler, if it needs one and has none."""
        task = self.compute_visit_regions
        if not task.needs_raw_wcs or task.raw_wcs is not None:
            return
        searched = self.butler.collections if collections is None else collections
        if not searched:
            raise TaskError(
                "The 'single-raw-wcs' region algorithm reads one raw's WCS per exposure: pass "
                "collections= (holding the raws) to DefineVisitsTask.run, give the butler default "
                "collections, or choose 'by-camera-geometry'."
            )
        task.raw_wcs = raw_wcs_from_butler(self.butler, searched)

    def _compute_regions(
        self, instrument: str, visits: Sequence[VisitDefinition], processes: int
    ) -> list[VisitRegions]:
        pointings = [
            [ExposurePointing(e.id, e.tracking_ra, e.tracking_dec, e.sky_angle) for e in v.exposures]
            for v in visits
        ]
        task = self.compute_visit_regions
        if processes == 1 or len(visits) < _MIN_POOL_VISITS:
            return task.compute(instrument, pointings)
        size = -(-len(pointings) // (processes * 2))
        jobs = [
            (type(task), task.config, task.raw_wcs, instrument, chunk) for chunk in _chunks(pointings, size)
        ]
        context = multiprocessing.get_context(self.config.pool_start_method)
        with context.Pool(processes) as pool:
            encoded = pool.starmap(compute_encoded, jobs)
        return [r for part in encoded for r in decode_regions(part)]

    # ------------------------------------------------------------------ writing

    def _write(self, rows: VisitRows, *, is_new: bool, replace: bool, replace_regions: bool) -> None:
        """Write one visit's records in one transaction."""
        registry = self.registry
        with registry.transaction():
            if is_new:
                registry.insert_dimension_records("visit", [rows.visit])
                registry.insert_dimension_records("visit_definition", rows.definitions)
                registry.insert_dimension_records("visit_system_membership", rows.memberships)
                registry.insert_dimension_records("visit_detector_region", rows.detector_regions)
                return
            if replace:
                registry.insert_dimension_records("visit", [rows.visit], replace=True)
            registry.insert_dimension_records("visit_definition", rows.definitions, skip_existing=True)
            registry.insert_dimension_records("visit_system_membership", rows.memberships, skip_existing=True)
            if replace_regions:
                registry.insert_dimension_records(
                    "visit_detector_region", rows.detector_regions, replace=True
                )

    def _visit_written(self, visit_id: int) -> None:
        """Hook called after each visit's transaction commits (tests slow the task down here)."""


def _describe_conflict(stored: ExposureRecord, new: Mapping[str, Any], diffs: Sequence[str]) -> str:
    parts = []
    for f in diffs:
        if f == "region":
            parts.append("region")
        else:
            parts.append(f"{f} (stored {getattr(stored, f)!r}, new {new.get(f)!r})")
    return f"visit {stored.id} ({stored.name!r}) differs in {', '.join(parts)}"
