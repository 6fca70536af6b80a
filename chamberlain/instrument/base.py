"""The `Instrument` base class: what Chamberlain needs to know about a camera.

An instrument names itself, lists its detectors (with camera geometry) and
filters, says how big its IDs may grow, and translates the primary header of
one of its raw files into the ``exposure`` record (and detector ID) the
registry stores. Everything here is pure computation: no files are read and no
SQL is run.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

import numpy.typing as npt
from astropy.wcs import WCS
from lsst.sphgeom import ConvexPolygon

from chamberlain.errors import InstrumentError, format_choices
from chamberlain.geometry.timespan import Timespan

from .camera import CameraGeometry, DetectorGeometry

__all__ = ["EXPOSURE_FIELDS", "Instrument", "RawInfo", "day_obs_from_tai_ns"]

EXPOSURE_FIELDS: tuple[str, ...] = (
    "instrument",
    "id",
    "obs_id",
    "physical_filter",
    "group",
    "day_obs",
    "exposure_time",
    "dark_time",
    "observation_type",
    "observation_reason",
    "seq_num",
    "seq_start",
    "seq_end",
    "target_name",
    "science_program",
    "tracking_ra",
    "tracking_dec",
    "sky_angle",
    "azimuth",
    "zenith_angle",
    "has_simulated",
    "can_see_sky",
    "timespan",
)
"""The keys of an ``exposure`` record, in the order of the dimension universe."""

_NS_PER_DAY = 86_400 * 1_000_000_000
_TAI_EPOCH_DATE = datetime.date(1970, 1, 1)


def day_obs_from_tai_ns(tai_ns: int, offset_seconds: int = 0) -> int:
    """Return the observing day ``YYYYMMDD`` of a time: the TAI calendar date of ``time - offset``.

    Parameters
    ----------
    tai_ns
        TAI nanoseconds since 1970 (as in `Timespan`).
    offset_seconds
        Start of the observing day after TAI midnight (e.g. ``43200``: days
        run from noon to noon).

    Returns
    -------
    day_obs : `int`
        The date as ``year * 10000 + month * 100 + day``.
    """
    days = (int(tai_ns) - offset_seconds * 1_000_000_000) // _NS_PER_DAY
    date = _TAI_EPOCH_DATE + datetime.timedelta(days=days)
    return date.year * 10_000 + date.month * 100 + date.day


@dataclasses.dataclass(frozen=True)
class RawInfo:
    """What one raw file's header says: its detector and its exposure record.

    Attributes
    ----------
    detector
        The detector ID.
    exposure
        The ``exposure`` record: keys exactly `EXPOSURE_FIELDS`; ``timespan``
        is a `Timespan`.

    Raises
    ------
    InstrumentError
        On construction, if ``exposure`` lacks a field or has an unknown one.
    """

    detector: int
    exposure: dict[str, Any]

    def __post_init__(self) -> None:
        keys = set(self.exposure)
        expected = set(EXPOSURE_FIELDS)
        if keys != expected:
            missing = sorted(expected - keys)
            extra = sorted(keys - expected)
            raise InstrumentError(
                f"Exposure record has missing fields {missing} and unknown fields {extra}; "
                f"expected exactly {list(EXPOSURE_FIELDS)}."
            )
        if not isinstance(self.exposure["timespan"], Timespan):
            raise InstrumentError(
                f"Exposure record 'timespan' must be a Timespan, got {self.exposure['timespan']!r}."
            )

    @property
    def group(self) -> str:
        """The exposure's group name."""
        return str(self.exposure["group"])

    @property
    def day_obs(self) -> int:
        """The exposure's observing day ``YYYYMMDD``."""
        return int(self.exposure["day_obs"])


class Instrument(abc.ABC):
    """Base class of instruments: names, detectors, filters, limits and header translation.

    Subclasses set the class attributes and implement `detectors`, `filters`
    and `translate_raw_header`. They must be constructible without arguments
    so `get_instrument` and the ``class_name`` stored in the registry can
    recreate them.

    Attributes
    ----------
    name
        The instrument's name: the ``instrument`` dimension's value.
    raw_storage_class
        Storage class of raw datasets.
    visit_max, exposure_max, detector_max
        Upper bounds (exclusive) for visit, exposure and detector IDs.
    visit_system
        The preferred visit system (0: one-to-one).
    day_obs_offset_seconds
        Observing days start this long after TAI midnight.
    """

    name: ClassVar[str]
    raw_storage_class: ClassVar[str] = "Exposure"
    visit_max: ClassVar[int]
    exposure_max: ClassVar[int]
    detector_max: ClassVar[int]
    visit_system: ClassVar[int] = 0
    day_obs_offset_seconds: ClassVar[int] = 0

    # --- what subclasses provide ---------------------------------------------------------

    @property
    @abc.abstractmethod
    def detectors(self) -> Sequence[DetectorGeometry]:
        """All detectors of the camera."""

    @property
    @abc.abstractmethod
    def filters(self) -> Mapping[str, str]:
        """Physical filter name -> band."""

    @abc.abstractmethod
    def translate_raw_header(self, header: Mapping[str, Any]) -> RawInfo:
        """Translate a raw file's primary header.

        Parameters
        ----------
        header
            Mapping-like header (`dict`, `astropy.io.fits.Header`,
            ``fitsio.FITSHDR``). Not modified.

        Returns
        -------
        info : `RawInfo`
            The detector ID and the ``exposure`` record.

        Raises
        ------
        InstrumentError
            If a keyword the translation needs is missing or has a bad
            value; the message names the keyword.
        """

    # --- derived ---------------------------------------------------------------------------

    @classmethod
    def class_name(cls) -> str:
        """Return the importable ``module.Class`` path of this instrument class.

        Returns
        -------
        path : `str`
            What an ``instrument`` record stores as ``class_name``.
        """
        return f"{cls.__module__}.{cls.__qualname__}"

    @cached_property
    def camera(self) -> CameraGeometry:
        """The camera geometry built from `detectors` (computed once per instance)."""
        return CameraGeometry(self.detectors)

    def get_detector(self, detector_id: int) -> DetectorGeometry:
        """Return the detector with this ID; see `CameraGeometry.detector`.

        Parameters
        ----------
        detector_id
            As for `CameraGeometry.detector`, which raises `InstrumentError`
            (listing the valid IDs) if there is no such detector.

        Returns
        -------
        DetectorGeometry
            The detector.
        """
        return self.camera.detector(detector_id)

    def get_detector_by_name(self, full_name: str) -> DetectorGeometry:
        """Return the detector with this full name.

        Parameters
        ----------
        full_name : `str`
            The detector's full name, e.g. ``"R00_S11"``.

        Returns
        -------
        DetectorGeometry
            The first detector of `detectors` with that name.

        Raises
        ------
        InstrumentError
            If there is no such detector; the message lists the valid names.
        """
        for det in self.detectors:
            if det.full_name == full_name:
                return det
        raise InstrumentError(
            f"{self.name} has no detector named {full_name!r}; valid names: "
            f"{format_choices((d.full_name for d in self.detectors), limit=20)}."
        )

    def band_for(self, physical_filter: str) -> str:
        """Return the band of a physical filter.

        Parameters
        ----------
        physical_filter : `str`
            A physical filter of this instrument.

        Returns
        -------
        band : `str`
            Its abstract band.

        Raises
        ------
        InstrumentError
            If the filter is unknown; the message lists the valid filters.
        """
        try:
            return self.filters[physical_filter]
        except KeyError:
            raise InstrumentError(
                f"{self.name} has no physical filter {physical_filter!r}; valid filters: "
                f"{format_choices(self.filters)}."
            ) from None

    def day_obs_for(self, tai_ns: int) -> int:
        """Return the observing day ``YYYYMMDD`` containing a TAI time.

        Parameters
        ----------
        tai_ns : `int`
            TAI nanoseconds since 1970.

        Returns
        -------
        day_obs : `int`
            The observing day, with this instrument's ``day_obs_offset_seconds``.
        """
        return day_obs_from_tai_ns(tai_ns, self.day_obs_offset_seconds)

    # --- dimension records -------------------------------------------------------------------

    def instrument_record(self) -> dict[str, Any]:
        """Return the ``instrument`` record.

        Returns
        -------
        record : `dict` [`str`, `object`]
            Keys ``name, visit_max, visit_system, exposure_max, detector_max, class_name``.
        """
        return {
            "name": self.name,
            "visit_max": self.visit_max,
            "visit_system": self.visit_system,
            "exposure_max": self.exposure_max,
            "detector_max": self.detector_max,
            "class_name": self.class_name(),
        }

    def detector_records(self) -> list[dict[str, Any]]:
        """Return the ``detector`` records.

        Returns
        -------
        records : `list` [`dict` [`str`, `object`]]
            One per detector, keys ``instrument, id, full_name, name_in_raft, raft, purpose``.
        """
        return [
            {
                "instrument": self.name,
                "id": det.id,
                "full_name": det.full_name,
                "name_in_raft": det.name_in_raft,
                "raft": det.raft,
                "purpose": det.purpose,
            }
            for det in self.detectors
        ]

    def physical_filter_records(self) -> list[dict[str, Any]]:
        """Return the ``physical_filter`` records.

        Returns
        -------
        records : `list` [`dict` [`str`, `object`]]
            One per filter, keys ``instrument, name, band``.
        """
        return [{"instrument": self.name, "name": name, "band": band} for name, band in self.filters.items()]

    def group_record(self, group: str) -> dict[str, Any]:
        """Return the ``group`` record of a group name.

        Parameters
        ----------
        group : `str`
            The group name.

        Returns
        -------
        record : `dict` [`str`, `object`]
            ``{instrument, name}``.
        """
        return {"instrument": self.name, "name": str(group)}

    def day_obs_record(self, day_obs: int) -> dict[str, Any]:
        """Return the ``day_obs`` record; its timespan covers the observing day.

        Parameters
        ----------
        day_obs : `int`
            The observing day ``YYYYMMDD``.

        Returns
        -------
        record : `dict` [`str`, `object`]
            ``{instrument, id, timespan}``.

        Raises
        ------
        InstrumentError
            If ``day_obs`` is not a valid ``YYYYMMDD`` date.
        """
        try:
            timespan = Timespan.from_day_obs(int(day_obs), self.day_obs_offset_seconds)
        except (TypeError, ValueError) as err:
            raise InstrumentError(f"Invalid day_obs {day_obs!r} for {self.name}: {err}") from None
        return {"instrument": self.name, "id": int(day_obs), "timespan": timespan}

    # --- camera geometry ---------------------------------------------------------------------

    def detector_wcs(self, detector_id: int, ra_deg: float, dec_deg: float, rotation_deg: float) -> WCS:
        """Return the TAN WCS of a detector for a boresight (ICRS degrees) and sky angle (degrees).

        See `chamberlain.instrument.camera` for the conventions.

        Parameters
        ----------
        detector_id, ra_deg, dec_deg, rotation_deg
            As ``detector_id, ra, dec, rotation`` of `CameraGeometry.wcs_header`.

        Returns
        -------
        wcs : `astropy.wcs.WCS`
            From `CameraGeometry.detector_wcs`.
        """
        return self.camera.detector_wcs(detector_id, ra_deg, dec_deg, rotation_deg)

    def detector_region(
        self, detector_id: int, ra: float, dec: float, rotation: float, padding_pixels: float = 0.0
    ) -> ConvexPolygon:
        """Return the sky polygon of a detector's pixel box grown by ``padding_pixels`` (via astropy WCS).

        Parameters
        ----------
        detector_id, ra, dec, rotation, padding_pixels
            As ``detector_id, ra, dec, rotation, padding`` of `CameraGeometry.detector_region`.

        Returns
        -------
        region : `lsst.sphgeom.ConvexPolygon`
            From `CameraGeometry.detector_region`.
        """
        return self.camera.detector_region(detector_id, ra, dec, rotation, padding_pixels)

    def detector_regions(
        self, ra: float, dec: float, rotation: float, padding: float = 0.0
    ) -> dict[int, ConvexPolygon]:
        """Return the sky polygons of all detectors for one pointing, computed with numpy in one pass.

        Parameters
        ----------
        ra, dec, rotation, padding
            As for `CameraGeometry.detector_regions`.

        Returns
        -------
        regions : `dict` [`int`, `lsst.sphgeom.ConvexPolygon`]
            From `CameraGeometry.detector_regions`.
        """
        return self.camera.detector_regions(ra, dec, rotation, padding)

    def detector_regions_many(
        self, ra: npt.ArrayLike, dec: npt.ArrayLike, rotation: npt.ArrayLike, padding: float = 0.0
    ) -> list[dict[int, ConvexPolygon]]:
        """Compute `detector_regions` for many pointings (equal-length 1-D arrays) in one numpy pass.

        Parameters
        ----------
        ra, dec, rotation, padding
            As for `CameraGeometry.detector_regions_many`.

        Returns
        -------
        regions : `list` [`dict` [`int`, `lsst.sphgeom.ConvexPolygon`]]
            From `CameraGeometry.detector_regions_many`.
        """
        return self.camera.detector_regions_many(ra, dec, rotation, padding)

    def visit_region(self, ra: float, dec: float, rotation: float, padding: float = 0.0) -> ConvexPolygon:
        """Return the convex hull of all detectors' padded corners for one pointing.

        Parameters
        ----------
        ra, dec, rotation, padding
            As for `CameraGeometry.visit_region`.

        Returns
        -------
        region : `lsst.sphgeom.ConvexPolygon`
            From `CameraGeometry.visit_region`.
        """
        return self.camera.visit_region(ra, dec, rotation, padding)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
