"""`VisitInfo`: when, where and how an exposure was taken.

Angles are in degrees, elevations in metres, temperatures in Celsius,
pressures in pascals, humidity in percent. Every field may be `None`
(unknown). ``date`` is the mid-exposure time; it is kept as an astropy
`~astropy.time.Time` and stored in FITS files in TAI to the nanosecond, so two
`VisitInfo` compare equal when their dates agree to the nanosecond.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

import astropy.time
import astropy.units as u
from astropy.coordinates import EarthLocation

from chamberlain.errors import ImageError

__all__ = ["Observatory", "RotType", "VisitInfo", "Weather"]


class RotType(enum.Enum):
    """What the rotator angle ``boresight_rot_angle`` is measured against."""

    UNKNOWN = "UNKNOWN"
    SKY = "SKY"
    HORIZON = "HORIZON"
    MOUNT = "MOUNT"


@dataclasses.dataclass(frozen=True, slots=True)
class Observatory:
    """Where the telescope is: geodetic longitude and latitude (degrees), elevation (metres)."""

    longitude: float
    latitude: float
    elevation: float

    def __post_init__(self) -> None:
        if not -90.0 <= self.latitude <= 90.0:
            raise ImageError(f"Observatory latitude must be within [-90, 90] degrees, got {self.latitude!r}.")

    def to_earth_location(self) -> EarthLocation:
        """Return the observatory's position as an astropy location.

        Returns
        -------
        location : `astropy.coordinates.EarthLocation`
            The geodetic location (longitude and latitude in degrees, elevation
            in metres).
        """
        return EarthLocation.from_geodetic(
            self.longitude * u.deg, self.latitude * u.deg, self.elevation * u.m
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Weather:
    """Conditions at the telescope: air temperature (C), pressure (Pa), relative humidity (%)."""

    air_temperature: float | None = None
    air_pressure: float | None = None
    humidity: float | None = None


def time_key(time: astropy.time.Time | None) -> str | None:
    """Format a time as the TAI ISO string to the nanosecond: how dates are stored and compared.

    Parameters
    ----------
    time : `astropy.time.Time` or None
        A scalar time in any scale.

    Returns
    -------
    key : `str` or None
        ``YYYY-MM-DDThh:mm:ss.sssssssss`` in TAI; None if ``time`` is None.
    """
    if time is None:
        return None
    tai = time.tai
    tai.precision = 9
    return str(tai.isot)


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class VisitInfo:
    """Observation metadata for one exposure (the fields the Rubin ``VisitInfo`` carries)."""

    id: int | None = None
    exposure_time: float | None = None
    dark_time: float | None = None
    date: astropy.time.Time | None = None
    boresight_ra: float | None = None
    boresight_dec: float | None = None
    boresight_az: float | None = None
    boresight_alt: float | None = None
    boresight_airmass: float | None = None
    boresight_rot_angle: float | None = None
    rot_type: RotType = RotType.UNKNOWN
    observatory: Observatory | None = None
    weather: Weather | None = None
    instrument_label: str | None = None
    focus_z: float | None = None
    observation_type: str | None = None
    science_program: str | None = None
    observation_reason: str | None = None
    object: str | None = None
    has_simulated_content: bool = False

    def __post_init__(self) -> None:
        if self.date is not None and (not isinstance(self.date, astropy.time.Time) or not self.date.isscalar):
            raise ImageError(f"VisitInfo date must be a scalar astropy Time, got {self.date!r}.")
        if self.exposure_time is not None and not self.exposure_time >= 0:
            raise ImageError(f"VisitInfo exposure_time must be >= 0 seconds, got {self.exposure_time!r}.")
        if not isinstance(self.rot_type, RotType):
            try:
                object.__setattr__(self, "rot_type", RotType(self.rot_type))
            except ValueError:
                raise ImageError(
                    f"VisitInfo rot_type must be one of {[r.value for r in RotType]}, got {self.rot_type!r}."
                ) from None

    def _key(self) -> tuple[Any, ...]:
        return tuple(
            time_key(self.date) if f.name == "date" else getattr(self, f.name)
            for f in dataclasses.fields(self)
        )

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, VisitInfo):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def era(self) -> float | None:
        """Earth rotation angle at `date` in degrees (needs astropy's UT1 tables)."""
        if self.date is None:
            return None
        return float(self.date.earth_rotation_angle(0.0).to_value(u.deg))

    @property
    def boresight_hour_angle(self) -> float | None:
        """Hour angle of the boresight in degrees, wrapped to [-180, 180): ERA + longitude - RA."""
        if self.date is None or self.observatory is None or self.boresight_ra is None:
            return None
        era = self.era
        assert era is not None
        return (era + self.observatory.longitude - self.boresight_ra + 180.0) % 360.0 - 180.0

    @property
    def boresight_par_angle(self) -> float | None:
        """Parallactic angle of the boresight in degrees, from latitude, hour angle and declination."""
        hour_angle = self.boresight_hour_angle
        if hour_angle is None or self.boresight_dec is None:
            return None
        assert self.observatory is not None
        ha = math.radians(hour_angle)
        dec = math.radians(self.boresight_dec)
        lat = math.radians(self.observatory.latitude)
        return math.degrees(
            math.atan2(math.sin(ha), math.cos(dec) * math.tan(lat) - math.sin(dec) * math.cos(ha))
        )
