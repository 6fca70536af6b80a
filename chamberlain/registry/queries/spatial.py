"""Spatial look-ups answered by the registry: which patches overlap a region or an observation.

For stored observations (a visit, or one detector of a visit) the answer is read from
the exact overlaps stored when the records were inserted (one SQL statement). For any
other region the sky-pixel index proposes candidates (one SQL statement) and one exact
sphgeom pass keeps the patches that really overlap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import lsst.sphgeom as sg
import sqlalchemy as sa

from ...dimensions import DataCoordinate, DimensionGroup
from ...errors import DataIdValueError, DimensionNameError, InvalidQueryError, format_choices
from ..overlaps import regions_overlap
from ._query import check_data_id_value

if TYPE_CHECKING:
    from .registry import Registry

__all__ = ["overlapping_patches"]

#: At most this many pixel ranges in the candidate query (the envelope is coarsened beyond).
MAX_PIXEL_RANGES = 64


def overlapping_patches(
    registry: Registry,
    *,
    region: sg.Region | None = None,
    visit: int | None = None,
    detector: int | None = None,
    instrument: str | None = None,
    skymap: str | None = None,
    exact: bool = True,
) -> list[DataCoordinate]:
    """Return the data IDs ``{skymap, tract, patch}`` of the patches whose outer region overlaps a region.

    Give either ``region`` (any sphgeom region), or ``instrument`` and ``visit`` (the
    visit's region) and optionally ``detector`` (that detector's region in the visit).
    The overlap is the exact sphgeom test against the patch outer polygons; for stored
    observations it is read from the overlaps stored at insert time.

    Parameters
    ----------
    registry
        The registry to query (runs one SQL query; a second only to explain an empty answer).
    region
        A sky region.
    visit, detector, instrument
        A stored visit, or visit and detector, of an instrument.
    skymap
        Only patches of this skymap; every registered skymap by default.
    exact
        With ``region``: if False, skip the exact test and return the sky-pixel index
        candidates (a superset, the coarse match of a spatial join). Observation look-ups
        are always exact.

    Returns
    -------
    list[DataCoordinate]
        Patch data IDs sorted by (skymap, tract, patch); empty if nothing overlaps (or
        the observation has no region).

    Raises
    ------
    InvalidQueryError
        If both or neither of ``region`` and ``visit`` are given, ``detector`` is given
        without ``visit``, ``region`` is not a sphgeom region, or a value has the wrong
        type for its dimension (``visit="abc"``) or does not fit (beyond 64 bits, a NUL
        character).
    DimensionNameError
        If ``visit`` is given without ``instrument``.
    DataIdValueError
        If ``skymap`` is not registered, or the visit (or visit-detector region) has no
        record.
    """
    group = registry.universe.conform(["patch"])
    for key, value in (
        ("visit", visit),
        ("detector", detector),
        ("instrument", instrument),
        ("skymap", skymap),
    ):
        check_data_id_value(registry.universe[key].primary_key.type, key, value)
    if detector is not None and visit is None:
        raise InvalidQueryError(f"detector={detector!r} was given without a visit; give visit= too.")
    if (region is None) == (visit is None):
        raise InvalidQueryError(
            "Give either region= or visit= (with instrument= and optionally detector=), "
            f"not {'both' if region is not None else 'neither'}."
        )
    if skymap is not None:
        _check_skymap(registry, skymap)
    if region is not None:
        if not isinstance(region, sg.Region):
            raise InvalidQueryError(f"region must be an lsst.sphgeom.Region; got {type(region).__name__}.")
        return _patches_for_region(registry, group, region, skymap, exact)
    assert visit is not None  # region is None, so visit was given
    if instrument is None:
        raise DimensionNameError(f"visit={visit!r} needs instrument= to identify it.")
    return _patches_for_observation(registry, group, instrument, visit, detector, skymap)


def _check_skymap(registry: Registry, skymap: str) -> None:
    table = registry._tables["skymap"]
    names = list(registry._db.execute(sa.select(table.c.name).order_by(table.c.name)).scalars())
    if skymap not in names:
        raise DataIdValueError(
            f"Skymap {skymap!r} is not registered. Known skymaps: {format_choices(names)}."
        )


def _to_data_ids(group: DimensionGroup, rows: Any) -> list[DataCoordinate]:
    keys = sorted((str(s), int(t), int(p)) for s, t, p in rows)
    return [DataCoordinate.from_required_values(group, k) for k in keys]


def _patches_for_region(
    registry: Registry, group: DimensionGroup, region: sg.Region, skymap: str | None, exact: bool
) -> list[DataCoordinate]:
    pixelization = registry.universe.common_skypix.pixelization
    ranges = pixelization.envelope(region, MAX_PIXEL_RANGES).ranges()
    if not ranges:
        return []
    patch = registry._tables["patch"]
    index = registry._tables["patch_skypix"]
    in_pixels = sa.or_(*[index.c.skypix.between(begin, end - 1) for begin, end in ranges])
    candidates = sa.select(index.c.skymap, index.c.tract, index.c.patch).where(in_pixels)
    if skymap is not None:
        candidates = candidates.where(index.c.skymap == skymap)
    stmt = sa.select(patch.c.skymap, patch.c.tract, patch.c.id, patch.c.region).where(
        sa.tuple_(patch.c.skymap, patch.c.tract, patch.c.id).in_(candidates)
    )
    rows = registry._db.execute(stmt).all()
    hits = [
        (s, t, p)
        for s, t, p, encoded in rows
        if encoded is not None and (not exact or regions_overlap(region, sg.Region.decode(encoded)))
    ]
    return _to_data_ids(group, hits)


def _patches_for_observation(
    registry: Registry,
    group: DimensionGroup,
    instrument: str,
    visit: int,
    detector: int | None,
    skymap: str | None,
) -> list[DataCoordinate]:
    if detector is None:
        overlap = registry._tables["visit_patch_overlap"]
        where = {"instrument": instrument, "visit": visit}
        owner = "visit"
    else:
        overlap = registry._tables["visit_detector_region_patch_overlap"]
        where = {"instrument": instrument, "visit": visit, "detector": detector}
        owner = "visit_detector_region"
    if skymap is not None:
        where["skymap"] = skymap
    stmt = sa.select(overlap.c.skymap, overlap.c.tract, overlap.c.patch).where(
        *[overlap.c[k] == v for k, v in where.items()]
    )
    rows = registry._db.execute(stmt).all()
    if not rows:
        _check_observation_exists(registry, owner, instrument, visit, detector)
    return _to_data_ids(group, rows)


def _check_observation_exists(
    registry: Registry, owner: str, instrument: str, visit: int, detector: int | None
) -> None:
    table = registry._tables[owner]
    key_col = "id" if owner == "visit" else "visit"
    conditions = [table.c.instrument == instrument, table.c[key_col] == visit]
    if detector is not None:
        conditions.append(table.c.detector == detector)
    found = registry._db.execute(
        sa.select(sa.literal(1)).select_from(table).where(*conditions).limit(1)
    ).first()
    if found is None:
        what = f"instrument={instrument!r}, visit={visit!r}"
        if detector is not None:
            what += f", detector={detector!r}"
        raise DataIdValueError(
            f"No {owner} record for {what}; define the visit (with its detector regions) first."
        )
