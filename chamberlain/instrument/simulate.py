"""Write simulated SimCam raw files: realistic headers, a correct TAN WCS, sky and stars.

Each raw is one FITS file per detector per exposure: a primary HDU holding the
header and a float32 image (``BUNIT = 'adu'``). Science images show a sky
background, a Gaussian PSF of the exposure's seeing (integrated over pixels)
at the positions of a fixed star list (`star_catalog`, the same for every
call, so overlapping exposures show the same stars) and Gaussian noise of
Poisson variance plus read noise. Bias, dark and flat frames show no stars.
The observing pattern (snap pairs, calibration frames, fields, nights) is
described in `chamberlain.instrument._simplan`.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import astropy.coordinates
import astropy.time
import astropy.units as u
import fitsio
import numpy as np
import numpy.typing as npt
from astropy.utils import iers

from chamberlain.errors import InstrumentError
from chamberlain.geometry.sky import FloatArray, radec_to_vectors
from chamberlain.geometry.timespan import time_to_ns

from ._simplan import FIELDS, PlannedExposure, plan_exposures
from .simcam import OBSERVATORY, SimCam

__all__ = ["DEFAULT_START_TIME", "FIELDS", "StarCatalog", "simulate_headers", "simulate_raws", "star_catalog"]

DEFAULT_START_TIME = "2025-03-15T02:00:00.000"
"""UTC start of the first simulated exposure when none is given."""

_CATALOG_SEED = 20250315
_CATALOG_RA = (149.5, 150.9)
_CATALOG_DEC = (1.7, 3.0)
_CATALOG_DENSITY = 3000.0  # stars per square degree
_FLUX_RANGE = (30.0, 30_000.0)  # counts per second, before the band factor
_BAND_FACTOR = {"SimCam-g": 0.8, "SimCam-r": 1.0, "SimCam-i": 0.9, "SimCam-z": 0.6}
_SKY_RATE = {"SimCam-g": 8.0, "SimCam-r": 15.0, "SimCam-i": 25.0, "SimCam-z": 40.0}  # counts/s/pixel
_READ_NOISE = 5.0
_DARK_RATE = 0.002
_FLAT_LEVEL = 10_000.0
_READOUT_S = 0.25


class StarCatalog(NamedTuple):
    """The fixed simulated star list (read-only arrays of equal length).

    Attributes
    ----------
    ra, dec
        ICRS position, degrees.
    flux
        Counts per second in ``SimCam-r`` summed over the PSF (other filters
        scale it by 0.8 (g), 0.9 (i), 0.6 (z)).
    """

    ra: FloatArray
    dec: FloatArray
    flux: FloatArray


@lru_cache(maxsize=1)
def star_catalog() -> StarCatalog:
    """Return the stars every simulated exposure shows: uniform over RA 149.5-150.9, Dec 1.7-3.0.

    Generated from a fixed seed, independent of any exposure seed, so it is
    the same in every call and every process (and cached). Fluxes follow a
    power law (many faint stars, few bright ones).

    Returns
    -------
    catalog : `StarCatalog`
        Read-only arrays of positions and fluxes.
    """
    rng = np.random.default_rng(_CATALOG_SEED)
    sin_lo, sin_hi = (math.sin(math.radians(d)) for d in _CATALOG_DEC)
    area = math.radians(_CATALOG_RA[1] - _CATALOG_RA[0]) * (sin_hi - sin_lo) * (180 / math.pi) ** 2
    n = round(area * _CATALOG_DENSITY)
    ra = rng.uniform(*_CATALOG_RA, size=n)
    dec = np.degrees(np.arcsin(rng.uniform(sin_lo, sin_hi, size=n)))
    lo, hi = _FLUX_RANGE
    flux = lo * (hi / lo) ** rng.uniform(0.0, 1.0, size=n) ** 2.0  # skewed towards faint
    for array in (ra, dec, flux):
        array.setflags(write=False)
    return StarCatalog(ra, dec, flux)


@lru_cache(maxsize=1)
def _star_vectors() -> FloatArray:
    cat = star_catalog()
    return radec_to_vectors(cat.ra, cat.dec)


def _erf(x: FloatArray) -> FloatArray:
    # Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: plenty for simulated pixels.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _add_stars(
    image: npt.NDArray[np.float32],
    x: FloatArray,
    y: FloatArray,
    counts: FloatArray,
    sigma: float,
    rng: np.random.Generator,
) -> None:
    """Add pixel-integrated circular Gaussians with Poisson-like noise (in place) at ``(x, y)``."""
    if len(x) == 0:
        return
    height, width = image.shape
    r = math.ceil(5.0 * sigma) + 1
    offsets = np.arange(-r, r + 1)
    ix = np.rint(x).astype(np.int64)
    iy = np.rint(y).astype(np.int64)
    scale = 1.0 / (math.sqrt(2.0) * sigma)
    px_grid = ix[:, None] + offsets
    py_grid = iy[:, None] + offsets
    px = 0.5 * (_erf((px_grid + 0.5 - x[:, None]) * scale) - _erf((px_grid - 0.5 - x[:, None]) * scale))
    py = 0.5 * (_erf((py_grid + 0.5 - y[:, None]) * scale) - _erf((py_grid - 0.5 - y[:, None]) * scale))
    for k in range(len(x)):
        x0, x1 = max(ix[k] - r, 0), min(ix[k] + r + 1, width)
        y0, y1 = max(iy[k] - r, 0), min(iy[k] + r + 1, height)
        if x0 >= x1 or y0 >= y1:
            continue
        stamp = counts[k] * np.outer(
            py[k, y0 - iy[k] + r : y1 - iy[k] + r], px[k, x0 - ix[k] + r : x1 - ix[k] + r]
        )
        stamp += np.sqrt(stamp) * rng.standard_normal(stamp.shape)
        image[y0:y1, x0:x1] += stamp.astype(np.float32)


def _start_ns(start_time: astropy.time.Time | str | None) -> int:
    if start_time is None:
        start_time = DEFAULT_START_TIME
    try:
        time = (
            start_time
            if isinstance(start_time, astropy.time.Time)
            else astropy.time.Time(start_time, scale="utc")
        )
        ns = time_to_ns(time)
    except ValueError as err:
        raise InstrumentError(f"Invalid start_time {start_time!r}: {err}") from None
    return round(ns / 1_000_000) * 1_000_000  # whole milliseconds, so DATE-OBS is exact


def _utc_isot(ns: Iterable[int]) -> list[str]:
    values = np.asarray(list(ns), dtype=np.int64)
    days, rem = np.divmod(values, 86_400 * 1_000_000_000)
    epoch = astropy.time.Time("1970-01-01T00:00:00", scale="tai", format="isot")
    tai = astropy.time.Time(epoch.jd1 + days, epoch.jd2 + rem / 8.64e13, format="jd", scale="tai")
    utc = tai.utc
    utc.precision = 3
    return list(np.atleast_1d(utc.isot))


def _altaz(plan: list[PlannedExposure]) -> tuple[FloatArray, FloatArray]:
    """Azimuth and altitude (degrees) of each exposure's pointing at mid-exposure."""
    mids = [p.begin_ns + round(p.exposure_time * 5e8) for p in plan]
    times = astropy.time.Time(_utc_isot(mids), scale="utc", format="isot")
    location = astropy.coordinates.EarthLocation.from_geodetic(
        OBSERVATORY["longitude"] * u.deg, OBSERVATORY["latitude"] * u.deg, OBSERVATORY["height"] * u.m
    )
    coords = astropy.coordinates.SkyCoord([p.ra for p in plan] * u.deg, [p.dec for p in plan] * u.deg)
    with (
        iers.conf.set_temp("auto_download", False),
        iers.conf.set_temp("iers_degraded_accuracy", "warn"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        altaz = coords.transform_to(astropy.coordinates.AltAz(obstime=times, location=location))
    return np.asarray(altaz.az.deg), np.asarray(altaz.alt.deg)


def _check_args(
    n_exposures: int, image_size: int, detectors: Iterable[int] | None, camera: SimCam
) -> list[int]:
    if isinstance(n_exposures, bool) or not isinstance(n_exposures, int) or n_exposures < 0:
        raise InstrumentError(f"n_exposures must be a non-negative integer, got {n_exposures!r}.")
    if isinstance(image_size, bool) or not isinstance(image_size, int) or not 8 <= image_size <= 2048:
        raise InstrumentError(f"image_size must be an integer from 8 to 2048, got {image_size!r}.")
    if detectors is None:
        return [d.id for d in camera.detectors]
    return [camera.get_detector(d).id for d in detectors]


def _headers_for(
    camera: SimCam, plan: list[PlannedExposure], detector_ids: list[int], image_size: int
) -> list[list[list[dict[str, Any]]]]:
    """Header card lists, ``[exposure][detector]``."""
    az, alt = _altaz(plan)
    begin_iso = _utc_isot(p.begin_ns for p in plan)
    end_iso = _utc_isot(p.begin_ns + round(p.exposure_time * 1e9) for p in plan)
    mjd_epoch = 40587.0  # MJD of 1970-01-01 (UTC)
    binning = 2048 / image_size
    out = []
    for p, a, h, iso, iso_end in zip(plan, az, alt, begin_iso, end_iso, strict=True):
        science = p.observation_type == "science"
        utc_seconds = astropy.time.Time(iso, scale="utc").unix
        cards: list[tuple[str, Any, str]] = [
            ("TELESCOP", SimCam.telescope, "Telescope"),
            ("INSTRUME", SimCam.name, "Instrument"),
            ("OBSERVAT", "Cerro Pachon", "Observatory"),
            ("OBS-LONG", OBSERVATORY["longitude"], "[deg] Observatory east longitude"),
            ("OBS-LAT", OBSERVATORY["latitude"], "[deg] Observatory latitude"),
            ("OBS-ELEV", OBSERVATORY["height"], "[m] Observatory elevation"),
            ("TIMESYS", "UTC", "Time system of DATE-OBS and DATE-END"),
            ("DATE-OBS", iso, "Start of exposure (UTC)"),
            ("DATE-END", iso_end, "End of exposure (UTC)"),
            ("MJD-OBS", mjd_epoch + utc_seconds / 86400.0, "[d] MJD (UTC) at start of exposure"),
            ("DAYOBS", p.day_obs, "Observing day (TAI date of start - 12 h)"),
            ("EXPTIME", p.exposure_time, "[s] Exposure time"),
            ("DARKTIME", round(p.exposure_time + _READOUT_S, 3), "[s] Dark time"),
            ("FILTER", p.physical_filter, "Physical filter"),
            ("OBSTYPE", p.observation_type, "Observation type"),
            ("OBSREASN", "science" if science else "calibration", "Reason for the observation"),
            ("OBJECT", f"FIELD_{p.field}" if science else p.observation_type.upper(), "Target"),
            ("PROGRAM", "SIMSURVEY" if science else "CALIB", "Science program"),
            ("OBSID", p.obs_id, "Unique observation ID"),
            ("EXPID", p.exposure_id, "Exposure ID (DAYOBS * 100000 + SEQNUM)"),
            ("GROUPID", p.group, "Group of snaps this exposure belongs to"),
            ("SEQNUM", p.seq_num, "Sequence number in the observing day"),
            ("SEQSTART", p.seq_start, "First sequence number of the group"),
            ("SEQEND", p.seq_end, "Last sequence number of the group"),
            ("RA", p.ra, "[deg] Telescope tracking RA (ICRS)"),
            ("DEC", p.dec, "[deg] Telescope tracking Dec (ICRS)"),
            ("ROTPA", p.rotation, "[deg] Sky angle: PA of focal-plane +y, E of N"),
            ("AZ", float(a), "[deg] Azimuth at mid-exposure, N through E"),
            ("ALT", float(h), "[deg] Altitude at mid-exposure"),
            (
                "AIRMASS",
                1.0 / math.sin(math.radians(h)) if h > 0 else -1.0,
                "Airmass (sec z) at mid-exposure",
            ),
            ("SEEING", p.seeing if science else 0.0, "[arcsec] PSF FWHM"),
            ("SIMULATE", True, "Pixels are simulated"),
            ("BUNIT", "adu", "Pixel unit"),
            ("BINNING", binning, "Detector pixels per image pixel, each axis"),
        ]
        per_det = []
        for det_id in detector_ids:
            det = camera.get_detector(det_id)
            det_cards = [
                *cards,
                ("DETECTOR", det.full_name, "Detector full name"),
                ("DET-ID", det.id, "Detector ID"),
                ("RAFT", det.raft, "Raft"),
                ("CCDSLOT", det.name_in_raft, "Detector name in raft"),
            ]
            wcs = camera.camera.wcs_header(det.id, p.ra, p.dec, p.rotation, binning=binning)
            det_cards.extend((key, value, "WCS") for key, value in wcs.items())
            per_det.append([{"name": k, "value": v, "comment": c} for k, v, c in det_cards])
        out.append(per_det)
    return out


def simulate_headers(
    n_exposures: int,
    seed: int = 0,
    *,
    start_time: astropy.time.Time | str | None = None,
    detectors: Iterable[int] | None = None,
    image_size: int = 2048,
    first_seq_num: int = 1,
    calibrations: bool = True,
) -> list[dict[str, Any]]:
    """Return the primary headers `simulate_raws` would write, without pixels.

    Pure computation: writes nothing.

    Parameters
    ----------
    n_exposures, seed, start_time, detectors, image_size, first_seq_num, calibrations
        As for `simulate_raws`.

    Returns
    -------
    headers : `list` [`dict` [`str`, `object`]]
        One header per exposure and detector, in exposure order, then detector order.

    Raises
    ------
    InstrumentError
        As for `simulate_raws`.
    """
    camera = SimCam()
    detector_ids = _check_args(n_exposures, image_size, detectors, camera)
    plan = plan_exposures(n_exposures, seed, _start_ns(start_time), first_seq_num, calibrations)
    if not plan:
        return []
    cards = _headers_for(camera, plan, detector_ids, image_size)
    return [{c["name"]: c["value"] for c in det_cards} for per_det in cards for det_cards in per_det]


class _NoiseField:
    """White Gaussian noise for many images from one random draw.

    One ``(size + pad)**2`` field of standard-normal values is drawn per call
    (seeded by the simulation seed); each image takes the ``size x size``
    window at its own offset. Offsets are a seeded permutation indexed by
    (exposure, detector), so no two images of a call share a window (up to
    ``pad**2`` images) and an image's noise does not depend on which other
    detectors are simulated. Windows at different offsets hold independent
    values at every pixel, which is what stacking and snap-combining need,
    at a fraction of the cost of drawing every image anew.
    """

    _PAD = 512

    def __init__(self, size: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 0x5EED])
        self._size = size
        self._field = rng.standard_normal((size + self._PAD, size + self._PAD), dtype=np.float32)
        self._offsets = rng.permutation(self._PAD * self._PAD)

    def window(self, index: int) -> npt.NDArray[np.float32]:
        """Return the noise of the image with this index (read-only view)."""
        dy, dx = divmod(int(self._offsets[index % len(self._offsets)]), self._PAD)
        return self._field[dy : dy + self._size, dx : dx + self._size]


def _render(
    camera: SimCam, p: PlannedExposure, det_id: int, image_size: int, noise: _NoiseField
) -> npt.NDArray[np.float32]:
    binning = 2048 / image_size
    area = binning * binning
    read_var = (_READ_NOISE * binning) ** 2
    if p.observation_type == "science":
        level = _SKY_RATE[p.physical_filter] * p.exposure_time * area
    elif p.observation_type == "flat":
        level = _FLAT_LEVEL * area
    elif p.observation_type == "dark":
        level = _DARK_RATE * (p.exposure_time + _READOUT_S) * area
    else:
        level = 0.0
    image = np.multiply(noise.window(p.index * 16 + det_id), np.float32(math.sqrt(level + read_var)))
    image += np.float32(level)
    if p.observation_type == "science":
        x, y, front = camera.camera.sky_to_pixel(
            det_id, _star_vectors(), p.ra, p.dec, p.rotation, binning=binning
        )
        sigma = p.seeing / 2.3548 / camera.get_detector(det_id).pixel_scale / binning
        margin = 5.0 * sigma + 2.0
        keep = front & (x > -margin) & (x < image_size + margin) & (y > -margin) & (y < image_size + margin)
        counts = star_catalog().flux[keep] * p.exposure_time * _BAND_FACTOR[p.physical_filter]
        rng = np.random.default_rng([p.index, det_id, 0x57A2])
        _add_stars(image, x[keep], y[keep], counts, sigma, rng)
    return image


def simulate_raws(
    out_dir: str | os.PathLike[str],
    n_exposures: int,
    seed: int = 0,
    *,
    start_time: astropy.time.Time | str | None = None,
    detectors: Iterable[int] | None = None,
    image_size: int = 2048,
    first_seq_num: int = 1,
    calibrations: bool = True,
) -> list[Path]:
    """Write simulated SimCam raw FITS files and return their paths.

    Parameters
    ----------
    out_dir
        Directory for the files (created if needed). Files are named
        ``<OBSID>_<DETECTOR>.fits``, e.g. ``SC_O_20250314_000001_R00_S11.fits``;
        existing files of the same name are overwritten.
    n_exposures
        Number of exposures (each gives one file per detector).
    seed
        Seed for pointings, filters, seeing and noise. The star list does
        not depend on it. A detector's pixels depend only on the seed, the
        exposure and the detector, so simulating fewer detectors gives the
        same pixels for those simulated.
    start_time
        UTC start of the first exposure (astropy `Time` or ISO string);
        default `DEFAULT_START_TIME`. Rounded to whole milliseconds.
    detectors
        Detector IDs to write (default all nine).
    image_size
        Pixels per side. Below 2048 the image is a binned readout: each pixel
        covers ``(2048 / image_size)**2`` detector pixels and the WCS covers
        the detector's full footprint, so camera-geometry regions still
        match. Use small sizes in tests.
    first_seq_num
        ``seq_num`` of the first exposure, so that several calls on one
        observing day get distinct exposure IDs.
    calibrations
        Include bias, flat and dark frames in the pattern (see
        `chamberlain.instrument._simplan`).

    Returns
    -------
    list[pathlib.Path]
        Paths in exposure order, then detector order.

    Raises
    ------
    InstrumentError
        If an argument is out of range or a detector ID is unknown.
    """
    camera = SimCam()
    detector_ids = _check_args(n_exposures, image_size, detectors, camera)
    plan = plan_exposures(n_exposures, seed, _start_ns(start_time), first_seq_num, calibrations)
    if not plan:
        return []
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    headers = _headers_for(camera, plan, detector_ids, image_size)
    noise = _NoiseField(image_size, seed)
    paths = []
    for p, per_det in zip(plan, headers, strict=True):
        for det_id, cards in zip(detector_ids, per_det, strict=True):
            path = out / f"{p.obs_id}_{camera.get_detector(det_id).full_name}.fits"
            image = _render(camera, p, det_id, image_size, noise)
            fitsio.write(str(path), image, header=cards, clobber=True)
            paths.append(path)
    return paths
