"""Real instrument headers (/work/shared/data/headers) as small FITS files, and what their records must say.

The expectations are computed from each header's own keywords, never by
asking a translator.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import yaml
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time

HEADER_DIR = Path("/work/shared/data/headers")
_TAI_EPOCH = Time("1970-01-01T00:00:00", scale="tai")
ARCSEC = 1.0 / 3600.0


class _Loader(yaml.SafeLoader):
    """A YAML loader that understands the ``!<lsst.daf.base.PropertyList>`` tag."""


def _property_list(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> dict[str, Any]:
    header: dict[str, Any] = {}
    for key, _type, value, _comment in loader.construct_sequence(node, deep=True):
        if key in ("COMMENT", "HISTORY", ""):
            continue
        header[key] = value
    return header


_Loader.add_constructor("lsst.daf.base.PropertyList", _property_list)


def load_headers() -> list[tuple[str, dict[str, Any]]]:
    """``(name, header)`` for every header in every YAML file, sorted by file."""
    cases = []
    for path in sorted(HEADER_DIR.glob("*.yaml")):
        docs = []
        for doc in yaml.load_all(path.read_text(), Loader=_Loader):
            docs.extend(d for d in (doc if isinstance(doc, list) else [doc]) if isinstance(d, dict))
        for i, header in enumerate(docs):
            cases.append((f"{path.stem}_{i}", header))
    return cases


_STRUCTURAL = {"SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT", "TFIELDS", "END"}


def _structural(key: str) -> bool:
    return (
        key in _STRUCTURAL
        or (key.startswith("NAXIS") and key[5:].isdigit())
        or (key[:5] in ("TTYPE", "TFORM") and key[5:].isdigit())
    )


def write_raw(header: dict[str, Any], path: Path, size: int = 8) -> None:
    """Write ``header`` as the primary header of a small FITS file with a ``size`` x ``size`` int16 image."""
    hdr = fits.Header()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # HIERARCH and long-string notices
        for key, value in header.items():
            if not _structural(key) and not isinstance(value, list):
                hdr[key] = value
        data = np.arange(size * size, dtype=np.int16).reshape(size, size)
        fits.PrimaryHDU(data=data, header=hdr).writeto(path)


def tai_ns(time: Time) -> int:
    return round((time.tai - _TAI_EPOCH).to_value(u.s) * 1e9)


def instrument_of(header: dict[str, Any]) -> str:
    instrume = str(header.get("INSTRUME", "")).strip()
    if instrume in ("DECam", "MegaPrime"):
        return instrume
    assert instrume in ("Hyper Suprime-Cam", "") and str(header["EXP-ID"]).startswith("HSC")
    return "HSC"


def expected(header: dict[str, Any]) -> dict[str, Any]:
    """Expected exposure values; keys starting with ``_`` are helpers (times, tolerances, detector)."""
    instrument = instrument_of(header)
    exp: dict[str, Any] = {"instrument": instrument, "target_name": header.get("OBJECT")}
    raw_type = str(header["DATA-TYP"] if instrument == "HSC" else header["OBSTYPE"]).strip().lower()
    exp["observation_type"] = "science" if raw_type == "object" else raw_type
    exp["exposure_time"] = float(header["EXPTIME"])
    if instrument == "DECam":
        exp["id"] = int(header["EXPNUM"])
        exp["obs_id"] = header["OBSID"]
        zero = exp["observation_type"] in ("zero", "bias")  # bias frames: behind the solid plate
        exp["physical_filter"] = "solid plate 0.0 0.0" if zero else header["FILTER"]
        exp["science_program"] = header["PROPID"]
        exp["_begin"] = Time(header["DATE-OBS"], scale="utc")
        exp["_radec"] = SkyCoord(header["TELRA"], header["TELDEC"], unit=(u.hourangle, u.deg), frame="fk5")
        exp["_radec_tol"] = 0.1  # one known programme's boresight is corrected by the translator
        exp["azimuth"] = header.get("AZ")
        exp["zenith_angle"] = header.get("ZD")
        exp["_detector"] = int(header["CCDNUM"])
        exp["_day_offset"] = 12 * 3600
    elif instrument == "HSC":
        exp_id = str(header["EXP-ID"])
        exp["id"] = int(exp_id[4:-2])
        exp["obs_id"] = exp_id
        exp["physical_filter"] = header["FILTER01"].upper()
        exp["science_program"] = header["PROP-ID"]
        exp["_begin"] = Time(header["MJD-STR"], format="mjd", scale="utc")
        exp["_radec"] = SkyCoord(header["RA2000"], header["DEC2000"], unit=(u.hourangle, u.deg), frame="icrs")
        exp["_radec_tol"] = ARCSEC
        exp["azimuth"] = float(header["AZIMUTH"])
        exp["zenith_angle"] = 90.0 - float(header["ALTITUDE"])
        exp["_detector"] = int(header["DET-ID"])
        exp["_day_offset"] = 0
    else:
        exp["id"] = int(header["EXPNUM"])
        exp["obs_id"] = str(header["OBSID"])
        exp["physical_filter"] = header["FILTER"]
        exp["science_program"] = header["RUNID"]
        exp["_begin"] = Time(f"{header['DATE-OBS']}T{header['UTC-OBS']}", scale="utc")
        exp["_radec"] = SkyCoord(header["RA_DEG"], header["DEC_DEG"], unit=u.deg, frame="fk5")
        exp["_radec_tol"] = ARCSEC
        exp["azimuth"] = float(header["TELAZ"])
        exp["zenith_angle"] = 90.0 - float(header["TELALT"])
        exp["_detector"] = int(header["EXTNAME"][3:])
        exp["_day_offset"] = 0
    exp["can_see_sky"] = exp["observation_type"] == "science"
    begin_tai = exp["_begin"].tai - exp["_day_offset"] * u.s
    exp["day_obs"] = int(begin_tai.strftime("%Y%m%d"))
    return exp
