"""Header cards for the small Exposure components (visit info, calibration, filter, PSF).

All of these live in the primary HDU's header, after the user metadata; the
keys listed in `RESERVED_KEYS` (plus the PSF class's own keys) belong to them
and are never read back as metadata.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import astropy.time
from astropy.io.fits import Header

from chamberlain.errors import FormatterError
from chamberlain.image.filter_label import FilterLabel
from chamberlain.image.photo_calib import PhotoCalib
from chamberlain.image.psf import Psf, get_psf_type
from chamberlain.image.visit_info import Observatory, RotType, VisitInfo, Weather, time_key

__all__ = [
    "RESERVED_KEYS",
    "filter_cards",
    "filter_from_header",
    "photo_calib_cards",
    "photo_calib_from_header",
    "psf_cards",
    "psf_from_header",
    "reserved_keys",
    "visit_info_cards",
    "visit_info_from_header",
]

Cards = list[tuple[str, Any, str]]

# VisitInfo field -> (header key, comment). The key names are afw's.
_VISIT_KEYS: dict[str, tuple[str, str]] = {
    "id": ("EXPID", "Exposure / visit id"),
    "exposure_time": ("EXPTIME", "Exposure time (s)"),
    "dark_time": ("DARKTIME", "Dark time (s)"),
    "boresight_ra": ("BORE-RA", "Boresight ICRS RA (deg)"),
    "boresight_dec": ("BORE-DEC", "Boresight ICRS Dec (deg)"),
    "boresight_az": ("BORE-AZ", "Boresight azimuth (deg)"),
    "boresight_alt": ("BORE-ALT", "Boresight altitude (deg)"),
    "boresight_airmass": ("BORE-AIRMASS", "Boresight airmass"),
    "boresight_rot_angle": ("BORE-ROTANG", "Rotator angle (deg)"),
    "instrument_label": ("INSTRUMENT", "Instrument name"),
    "focus_z": ("FOCUSZ", "Focus position (mm)"),
    "observation_type": ("OBSTYPE", "Observation type"),
    "science_program": ("PROGRAM", "Science program"),
    "observation_reason": ("REASON", "Reason for the observation"),
    "object": ("OBJECT", "Target of the observation"),
}
_OBSERVATORY_KEYS = (
    ("longitude", "OBS-LONG", "Observatory longitude (deg)"),
    ("latitude", "OBS-LAT", "Observatory latitude (deg)"),
    ("elevation", "OBS-ELEV", "Observatory elevation (m)"),
)
_WEATHER_KEYS = (
    ("air_temperature", "AIRTEMP", "Air temperature (C)"),
    ("air_pressure", "AIRPRESS", "Air pressure (Pa)"),
    ("humidity", "HUMIDITY", "Relative humidity (%)"),
)
_INT_FIELDS = {"id"}
_STR_FIELDS = {"instrument_label", "observation_type", "science_program", "observation_reason", "object"}

_PHOTO_MEAN, _PHOTO_ERR = "PHOTCALM", "PHOTCALE"
_BAND, _PHYSICAL = "FILTBAND", "FILTPHYS"
_PSF_TYPE = "PSFTYPE"

#: Primary-header keys owned by the components (the PSF's own keys come from its class).
RESERVED_KEYS: frozenset[str] = frozenset(
    [key for key, _ in _VISIT_KEYS.values()]
    + [key for _, key, _ in _OBSERVATORY_KEYS + _WEATHER_KEYS]
    + ["DATE-AVG", "TIMESYS", "ROTTYPE", "SIMULATE"]
    + [_PHOTO_MEAN, _PHOTO_ERR, _BAND, _PHYSICAL, _PSF_TYPE]
)


def reserved_keys(header: Header) -> set[str]:
    """`RESERVED_KEYS` plus the keys of the PSF class named in ``header``, if any."""
    result = set(RESERVED_KEYS)
    psf_type = header.get(_PSF_TYPE)
    if psf_type is not None:
        with contextlib.suppress(FormatterError):
            result.update(get_psf_type(psf_type).header_keys())
    return result


def _number(value: Any, key: str, name: str, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormatterError(f"{name}: header key {key!r} should be a number, got {value!r}.")
    return kind(value)


# --- visit info ------------------------------------------------------------------------


def visit_info_cards(info: VisitInfo) -> Cards:
    """Return the cards that store ``info``."""
    cards: Cards = []
    for field, (key, comment) in _VISIT_KEYS.items():
        value = getattr(info, field)
        if value is not None:
            cards.append((key, value, comment))
    if info.date is not None:
        cards.append(("DATE-AVG", time_key(info.date), "Mid-exposure date (TAI)"))
        cards.append(("TIMESYS", "TAI", "Time scale of DATE-AVG"))
    cards.append(("ROTTYPE", info.rot_type.value, "What the rotator angle is measured against"))
    for attr, entries in (("observatory", _OBSERVATORY_KEYS), ("weather", _WEATHER_KEYS)):
        part = getattr(info, attr)
        if part is not None:
            for field, key, comment in entries:
                value = getattr(part, field)
                if value is not None:
                    cards.append((key, float(value), comment))
    cards.append(("SIMULATE", info.has_simulated_content, "Has simulated content"))
    return cards


def visit_info_from_header(header: Header, name: str) -> VisitInfo | None:
    """Return the `VisitInfo` stored in ``header``, or `None` if it holds none."""
    if "ROTTYPE" not in header:
        return None
    kwargs: dict[str, Any] = {}
    for field, (key, _) in _VISIT_KEYS.items():
        value = header.get(key)
        if value is None:
            continue
        if field in _STR_FIELDS:
            kwargs[field] = str(value)
        else:
            kwargs[field] = _number(value, key, name, int if field in _INT_FIELDS else float)
    date = header.get("DATE-AVG")
    if date is not None:
        scale = str(header.get("TIMESYS", "TAI")).lower()
        try:
            kwargs["date"] = astropy.time.Time(date, format="isot", scale=scale, precision=9)
        except ValueError as err:
            raise FormatterError(f"{name}: DATE-AVG {date!r} is not a valid ISO time: {err}") from None
    try:
        kwargs["rot_type"] = RotType(header["ROTTYPE"])
    except ValueError:
        raise FormatterError(f"{name}: unknown ROTTYPE {header['ROTTYPE']!r}.") from None
    if all(key in header for _, key, _ in _OBSERVATORY_KEYS):
        kwargs["observatory"] = Observatory(
            *(_number(header[key], key, name, float) for _, key, _ in _OBSERVATORY_KEYS)
        )
    if any(key in header for _, key, _ in _WEATHER_KEYS):
        kwargs["weather"] = Weather(
            *(
                None if key not in header else _number(header[key], key, name, float)
                for _, key, _ in _WEATHER_KEYS
            )
        )
    kwargs["has_simulated_content"] = bool(header.get("SIMULATE", False))
    return VisitInfo(**kwargs)


# --- photometric calibration, filter, PSF -----------------------------------------------


def photo_calib_cards(calib: PhotoCalib) -> Cards:
    """Return the cards that store ``calib``."""
    return [
        (_PHOTO_MEAN, calib.calibration_mean, "Calibration mean (nJy per count)"),
        (_PHOTO_ERR, calib.calibration_err, "Calibration mean uncertainty (nJy per count)"),
    ]


def photo_calib_from_header(header: Header, name: str) -> PhotoCalib | None:
    """Return the `PhotoCalib` stored in ``header``, or `None`."""
    if _PHOTO_MEAN not in header:
        return None
    return PhotoCalib(
        _number(header[_PHOTO_MEAN], _PHOTO_MEAN, name, float),
        _number(header.get(_PHOTO_ERR, 0.0), _PHOTO_ERR, name, float),
    )


def filter_cards(label: FilterLabel) -> Cards:
    """Return the cards that store ``label``."""
    cards: Cards = []
    if label.band is not None:
        cards.append((_BAND, label.band, "Abstract filter (band)"))
    if label.physical_filter is not None:
        cards.append((_PHYSICAL, label.physical_filter, "Physical filter"))
    return cards


def filter_from_header(header: Mapping[str, Any], name: str) -> FilterLabel | None:
    """Return the `FilterLabel` stored in ``header``, or `None`."""
    band, physical = header.get(_BAND), header.get(_PHYSICAL)
    if band is None and physical is None:
        return None
    return FilterLabel(None if band is None else str(band), None if physical is None else str(physical))


def psf_cards(psf: Psf) -> Cards:
    """Return the cards that store ``psf``: its type name, then its own cards."""
    return [(_PSF_TYPE, type(psf).type_name, "PSF model class"), *psf.to_header_cards()]


def psf_from_header(header: Mapping[str, Any], name: str) -> Psf | None:
    """Return the `Psf` stored in ``header``, or `None`."""
    psf_type = header.get(_PSF_TYPE)
    if psf_type is None:
        return None
    try:
        return get_psf_type(str(psf_type)).from_header(header)
    except FormatterError as err:
        raise FormatterError(f"{name}: {err}") from None
