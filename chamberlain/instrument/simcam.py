"""SimCam: the built-in simulated instrument.

Nine 2048 x 2048 science detectors at 0.2 arcsec/pixel in a 3 x 3 focal plane
(one raft ``R00``; detector ``id = 3 * row + column``, named ``S<row><column>``,
full name ``R00_S<row><column>``; row 0 is at ``-v``, column 0 at ``-u``),
separated by gaps of 50 pixels (10 arcsec). Each detector is mounted with a
small fixed rotation (at most 0.03 degrees), as real ones are. Filters
``SimCam-g/r/i/z`` carry bands ``g/r/i/z``. The telescope sits at Cerro Pachon.
An observing day (``day_obs``) is the TAI date of ``time - 12 h``.

`simulate_raws` (in `chamberlain.instrument.simulate`) writes raw files whose
headers `SimCam.translate_raw_header` reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import astropy.time

from chamberlain.errors import InstrumentError
from chamberlain.geometry.timespan import Timespan, time_to_ns

from ._headers import HeaderReader
from .base import Instrument, RawInfo
from .camera import DetectorGeometry

__all__ = ["OBSERVATORY", "SKY_OBSERVATION_TYPES", "SimCam"]

OBSERVATORY: dict[str, float] = {"longitude": -70.749417, "latitude": -30.244639, "height": 2663.0}
"""Cerro Pachon: geodetic longitude and latitude (degrees) and height (metres)."""

SKY_OBSERVATION_TYPES = frozenset({"science", "acq", "focus"})
"""Observation types for which the camera sees the sky (``can_see_sky``)."""

_SIZE = 2048
_SCALE = 0.2
_GAP = 50
_PITCH = (_SIZE + _GAP) * _SCALE  # arcsec between detector centres
_MOUNT_ROTATIONS = (0.012, -0.021, 0.005, -0.008, 0.0, 0.017, -0.03, 0.009, -0.014)


def _make_detectors() -> tuple[DetectorGeometry, ...]:
    detectors = []
    for row in range(3):
        for col in range(3):
            det_id = 3 * row + col
            name = f"S{row}{col}"
            detectors.append(
                DetectorGeometry(
                    id=det_id,
                    full_name=f"R00_{name}",
                    name_in_raft=name,
                    raft="R00",
                    purpose="SCIENCE",
                    width=_SIZE,
                    height=_SIZE,
                    pixel_scale=_SCALE,
                    x_center=(col - 1) * _PITCH,
                    y_center=(row - 1) * _PITCH,
                    rotation=_MOUNT_ROTATIONS[det_id],
                )
            )
    return tuple(detectors)


_DETECTORS = _make_detectors()
_FILTERS = {"SimCam-g": "g", "SimCam-r": "r", "SimCam-i": "i", "SimCam-z": "z"}


class SimCam(Instrument):
    """The simulated instrument (see the module docstring for its layout).

    Exposure IDs are ``day_obs * 100000 + seq_num``; visit IDs may also be
    ``int("9" + str(exposure_id))`` (the first snap of a multi-snap visit),
    hence ``visit_max = 10**14``.
    """

    name: ClassVar[str] = "SimCam"
    visit_max: ClassVar[int] = 10**14
    exposure_max: ClassVar[int] = 10**13
    detector_max: ClassVar[int] = 9
    day_obs_offset_seconds: ClassVar[int] = 12 * 3600
    telescope: ClassVar[str] = "SimTel"

    @property
    def detectors(self) -> Sequence[DetectorGeometry]:
        """The nine science detectors."""
        return _DETECTORS

    @property
    def filters(self) -> Mapping[str, str]:
        """``SimCam-g/r/i/z`` -> ``g/r/i/z``."""
        return dict(_FILTERS)

    def translate_raw_header(self, header: Mapping[str, Any]) -> RawInfo:
        """Translate the primary header of a SimCam raw (as written by `simulate_raws`).

        Required keywords: ``INSTRUME`` (must be ``SimCam``), ``DATE-OBS``
        (UTC, ISO), ``EXPTIME``, ``FILTER``, ``OBSTYPE``, ``OBSID``,
        ``EXPID``, ``SEQNUM`` and ``DET-ID`` (or ``DETECTOR``, the full
        name; if both are given they must name the same detector).
        Optional: ``DARKTIME`` (default ``EXPTIME``), ``GROUPID``
        (default ``OBSID``), ``SEQSTART``/``SEQEND`` (default ``SEQNUM``),
        ``DAYOBS`` (default computed from ``DATE-OBS``), ``OBJECT``,
        ``PROGRAM``, ``OBSREASN``, ``RA``/``DEC``/``ROTPA``, ``AZ``/``ALT``,
        ``SIMULATE``.

        The timespan is ``[DATE-OBS, DATE-OBS + EXPTIME)`` in TAI; a
        zero-second exposure (a bias) gets a 1 ns timespan so that it still
        contains its own start time. ``can_see_sky`` is true only for the
        observation types in `SKY_OBSERVATION_TYPES`.

        Parameters
        ----------
        header
            As for `Instrument.translate_raw_header`.

        Returns
        -------
        RawInfo
            The detector ID and the ``exposure`` record.

        Raises
        ------
        InstrumentError
            If a required keyword is missing, a keyword has a bad value, the
            header is from another instrument, or the detector or filter is
            unknown; the message names the keyword or value.
        """
        h = HeaderReader(header, self.name)
        instrument = h.string("INSTRUME")
        if instrument != self.name:
            raise InstrumentError(
                f"Header keyword 'INSTRUME' is {instrument!r}; {self.name} can only translate its own raws."
            )
        if "DET-ID" in header:
            geometry = self.get_detector(h.integer("DET-ID"))
            detector = geometry.id
            if "DETECTOR" in header and h.string("DETECTOR") != geometry.full_name:
                raise InstrumentError(
                    f"Header keywords 'DET-ID' and 'DETECTOR' disagree: DET-ID {detector} is detector "
                    f"{geometry.full_name!r}, but DETECTOR is {h.string('DETECTOR')!r}."
                )
        else:
            detector = self.get_detector_by_name(h.string("DETECTOR")).id

        date_obs = h.string("DATE-OBS")
        try:
            begin = time_to_ns(astropy.time.Time(date_obs, format="isot", scale="utc"))
        except ValueError:
            raise InstrumentError(
                f"{self.name} raw header keyword 'DATE-OBS' has value {date_obs!r}, "
                "which is not an ISO UTC time such as '2025-03-15T02:00:00.000'."
            ) from None
        exposure_time = h.number("EXPTIME")
        if exposure_time < 0:
            raise InstrumentError(f"{self.name} raw header keyword 'EXPTIME' is negative: {exposure_time!r}.")
        end = begin + max(round(exposure_time * 1e9), 1)

        physical_filter = h.string("FILTER")
        self.band_for(physical_filter)
        observation_type = h.string("OBSTYPE").lower()
        obs_id = h.string("OBSID")
        seq_num = h.integer("SEQNUM")
        day_obs = h.integer("DAYOBS", None)
        if day_obs is None:
            day_obs = self.day_obs_for(begin)
        exposure_id = h.integer("EXPID")
        if not 0 <= exposure_id < self.exposure_max:
            raise InstrumentError(
                f"{self.name} raw header keyword 'EXPID' is {exposure_id}, outside [0, {self.exposure_max})."
            )
        exposure = {
            "instrument": self.name,
            "id": exposure_id,
            "obs_id": obs_id,
            "physical_filter": physical_filter,
            "group": h.string("GROUPID", obs_id),
            "day_obs": day_obs,
            "exposure_time": exposure_time,
            "dark_time": h.number("DARKTIME", exposure_time),
            "observation_type": observation_type,
            "observation_reason": h.string("OBSREASN", None),
            "seq_num": seq_num,
            "seq_start": h.integer("SEQSTART", seq_num),
            "seq_end": h.integer("SEQEND", seq_num),
            "target_name": h.string("OBJECT", None),
            "science_program": h.string("PROGRAM", None),
            "tracking_ra": h.number("RA", None),
            "tracking_dec": h.number("DEC", None),
            "sky_angle": h.number("ROTPA", None),
            "azimuth": h.number("AZ", None),
            "zenith_angle": None,
            "has_simulated": h.boolean("SIMULATE", True),
            "can_see_sky": observation_type in SKY_OBSERVATION_TYPES,
            "timespan": Timespan(begin, end),
        }
        altitude = h.number("ALT", None)
        if altitude is not None:
            exposure["zenith_angle"] = 90.0 - altitude
        return RawInfo(detector=detector, exposure=exposure)
