"""Differential chromatic refraction (DCR): refraction, per-sub-filter shifts and DCR-matched coadds.

A DCR coadd splits a band into ``N`` sub-filters of equal width and keeps one
image per sub-filter. The template matched to a visit is the sum over
sub-filters of each image shifted by the differential refraction of its
wavelength range (relative to the band's effective wavelength) at the visit's
observing conditions:

* sub-filter ``k`` spans ``[lambda_eff - bw/2 + k bw/N, lambda_eff - bw/2 + (k+1) bw/N]``;
* the refraction ``R(lambda)`` at the boresight altitude follows Stone (1996),
  with the observatory and the weather from the `VisitInfo` (standard
  atmosphere at the site's altitude for missing weather values);
* the shift amplitude of an edge wavelength is ``R(lambda) - R(lambda_eff)``
  in pixels (model WCS pixel scale at the patch centre). With split
  sub-filters each sub-filter gets two shifts, ``0.75 a0 + 0.25 a1`` and
  ``0.25 a0 + 0.75 a1``, whose shifted images are averaged; otherwise one
  shift, ``(a0 + a1) / 2``;
* an amplitude ``a`` becomes the numpy-order shift ``(dy, dx) = (a cos t, a sin t)``
  with ``t = parallactic angle - rotator angle`` (the Rubin convention, kept
  exactly so that templates match coadds built by the Rubin pipelines);
* images are shifted with cubic splines (``scipy.ndimage``: spline prefilter
  then shift, order 3, mirror boundaries).

The matched exposure's variance is the first sub-filter's variance times
``N``; its mask, PSF, filter and photometric calibration are the first
sub-filter's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from astropy.wcs import WCS
from scipy import ndimage

from chamberlain.errors import TaskError
from chamberlain.geometry import radec_to_vectors
from chamberlain.image import Box, Exposure, Image, MaskedImage, Observatory, VisitInfo, Weather

__all__ = [
    "DcrMatchedHandle",
    "apply_dcr",
    "build_matched_exposure",
    "calculate_dcr",
    "differential_refraction",
    "refraction",
    "wavelength_bands",
]

_ARCSEC_PER_RADIAN = 180.0 * 3600.0 / math.pi
_MIN_WAVELENGTH = 230.2
_MAX_WAVELENGTH = 2058.6
#: Extra pixels read around a cutout so spline edge effects stay outside it.
_SPLINE_MARGIN = 8


def wavelength_bands(
    effective_wavelength: float, bandwidth: float, num_subfilters: int
) -> list[tuple[float, float]]:
    """The ``(start, end)`` wavelengths (nm) of each sub-filter, bluest first.

    Raises
    ------
    TaskError
        If the bandwidth is not positive or ``num_subfilters`` is below 1.
    """
    if not bandwidth > 0:
        raise TaskError(f"DCR bandwidth must be positive (nm), got {bandwidth!r}.")
    if num_subfilters < 1:
        raise TaskError(f"DCR num_subfilters must be at least 1, got {num_subfilters!r}.")
    start = effective_wavelength - bandwidth / 2.0
    step = bandwidth / num_subfilters
    return [(start + k * step, start + (k + 1) * step) for k in range(num_subfilters)]


def _standard_weather(observatory: Observatory, weather: Weather | None) -> tuple[float, float, float]:
    """Temperature (K), pressure (hPa), relative humidity (%), filling gaps with a standard atmosphere."""
    height_km = observatory.elevation / 1000.0
    temperature_c = weather.air_temperature if weather is not None else None
    if temperature_c is None or not math.isfinite(temperature_c):
        temperature_c = 19.0 - 6.5 * height_km
    pressure_pa = weather.air_pressure if weather is not None else None
    if pressure_pa is None or not math.isfinite(pressure_pa):
        pressure_pa = 101325.0 * (1.0 - 0.0065 * observatory.elevation / 288.15) ** 5.25588
    humidity = weather.humidity if weather is not None else None
    if humidity is None or not math.isfinite(humidity):
        humidity = 40.0
    return temperature_c + 273.15, pressure_pa / 100.0, humidity


def _refractivity(wavelength: float, temperature: float, pressure: float, humidity: float) -> float:
    """``n - 1`` of air (Stone 1996; pressures in hPa, temperature in K)."""
    temperature_c = temperature - 273.15
    saturation = 6.112 * math.exp(17.62 * temperature_c / (243.12 + temperature_c))
    water = humidity / 100.0 * saturation  # the saturation pressure at the dew point
    dry = pressure - water
    density_dry = (
        dry / temperature * (1.0 + dry * (57.90e-8 - 9.3250e-4 / temperature + 0.25844 / temperature**2))
    )
    density_wet = (
        water
        / temperature
        * (
            1.0
            + water
            * (1.0 + 3.7e-4 * water)
            * (-2.37321e-3 + 2.23366 / temperature - 710.792 / temperature**2 + 7.75141e4 / temperature**3)
        )
    )
    s2 = (1000.0 / wavelength) ** 2
    dry_term = 2371.34 + 683939.7 / (130.0 - s2) + 4547.3 / (38.9 - s2)
    wet_term = 6487.31 + 58.058 * s2 - 0.71150 * s2**2 + 0.08851 * s2**3
    return (dry_term * density_dry + wet_term * density_wet) * 1e-8


def refraction(
    wavelength: float, elevation: float, observatory: Observatory, weather: Weather | None = None
) -> float:
    """Atmospheric refraction in arcseconds (Stone 1996).

    Parameters
    ----------
    wavelength
        Wavelength in nm, within 230.2-2058.6.
    elevation
        Altitude of the source above the horizon, degrees.
    observatory
        Site latitude and elevation (for gravity and the standard atmosphere).
    weather
        Air temperature (C), pressure (Pa) and humidity (%); missing values
        come from a standard atmosphere at the site's altitude.

    Raises
    ------
    TaskError
        If the wavelength is outside the valid range.
    """
    if not _MIN_WAVELENGTH <= wavelength <= _MAX_WAVELENGTH:
        raise TaskError(
            f"Refraction wavelength {wavelength!r} nm is outside the valid range "
            f"{_MIN_WAVELENGTH}-{_MAX_WAVELENGTH} nm."
        )
    temperature, pressure, humidity = _standard_weather(observatory, weather)
    n_minus_1 = _refractivity(wavelength, temperature, pressure, humidity)
    latitude = math.radians(observatory.latitude)
    gravity = (
        1.0
        + 0.005302 * math.sin(latitude) ** 2
        - 0.00000583 * math.sin(2.0 * latitude) ** 2
        - 0.000000315 * observatory.elevation
    )
    beta = 4.5908e-6 * temperature
    tan_z = math.tan(math.radians(90.0 - elevation))
    result = (
        n_minus_1 * gravity * (1.0 - beta) * tan_z + n_minus_1 * gravity * (beta - n_minus_1 / 2.0) * tan_z**3
    )
    return result * _ARCSEC_PER_RADIAN


def differential_refraction(
    wavelength: float,
    reference_wavelength: float,
    elevation: float,
    observatory: Observatory,
    weather: Weather | None = None,
) -> float:
    """``refraction(wavelength) - refraction(reference_wavelength)`` in arcseconds."""
    return refraction(wavelength, elevation, observatory, weather) - refraction(
        reference_wavelength, elevation, observatory, weather
    )


def _pixel_scale_arcsec(wcs: WCS, x: float, y: float) -> float:
    xs = np.array([x - 0.5, x + 0.5, x, x])
    ys = np.array([y, y, y - 0.5, y + 0.5])
    vectors = radec_to_vectors(*wcs.pixel_to_world_values(xs, ys))
    dx, dy = vectors[1] - vectors[0], vectors[3] - vectors[2]
    area = float(np.linalg.norm(np.cross(dx, dy)))
    return math.sqrt(area) * _ARCSEC_PER_RADIAN


def _visit_angles(visit_info: VisitInfo) -> tuple[float, float, Observatory]:
    missing = [
        name
        for name, value in (
            ("boresight_alt", visit_info.boresight_alt),
            ("boresight_rot_angle", visit_info.boresight_rot_angle),
            ("observatory", visit_info.observatory),
        )
        if value is None
    ]
    par_angle = visit_info.boresight_par_angle if not missing else None
    if par_angle is None and not missing:
        missing.append("boresight_par_angle (needs date, observatory, boresight_ra, boresight_dec)")
    if missing:
        raise TaskError(f"Cannot compute DCR shifts: the visit info lacks {', '.join(missing)}.")
    assert visit_info.boresight_alt is not None and visit_info.observatory is not None
    assert visit_info.boresight_rot_angle is not None and par_angle is not None
    theta = math.radians(par_angle - visit_info.boresight_rot_angle)
    return visit_info.boresight_alt, theta, visit_info.observatory


def calculate_dcr(
    visit_info: VisitInfo,
    wcs: WCS,
    effective_wavelength: float,
    bandwidth: float,
    num_subfilters: int,
    *,
    split_subfilters: bool = True,
    bbox: Box | None = None,
) -> list[list[tuple[float, float]]]:
    """The numpy-order ``(dy, dx)`` pixel shifts of each sub-filter for a visit.

    Parameters
    ----------
    visit_info
        The science visit (boresight altitude, rotator angle, parallactic
        angle inputs, observatory, weather).
    wcs
        The DCR model's WCS; its pixel scale at the centre of ``bbox`` (or at
        pixel (0, 0)) converts arcseconds to pixels.
    effective_wavelength, bandwidth
        The band, nm.
    num_subfilters
        Number of sub-filters.
    split_subfilters
        Two shifts per sub-filter (True) or one.
    bbox
        The model's box.

    Returns
    -------
    shifts
        One list per sub-filter, of one or two ``(dy, dx)`` shifts.

    Raises
    ------
    TaskError
        If the visit info lacks what the shifts need.
    """
    elevation, theta, observatory = _visit_angles(visit_info)
    x, y = bbox.center if bbox is not None and not bbox.is_empty else (0.0, 0.0)
    scale = _pixel_scale_arcsec(wcs, x, y)
    result = []
    for start, end in wavelength_bands(effective_wavelength, bandwidth, num_subfilters):
        a0 = differential_refraction(start, effective_wavelength, elevation, observatory, visit_info.weather)
        a1 = differential_refraction(end, effective_wavelength, elevation, observatory, visit_info.weather)
        a0, a1 = a0 / scale, a1 / scale
        amplitudes = [0.75 * a0 + 0.25 * a1, 0.25 * a0 + 0.75 * a1] if split_subfilters else [(a0 + a1) / 2.0]
        result.append([(a * math.cos(theta), a * math.sin(theta)) for a in amplitudes])
    return result


def apply_dcr(array: np.ndarray, shifts: Sequence[tuple[float, float]], order: int = 3) -> np.ndarray:
    """Shift an image by each ``(dy, dx)`` with splines of ``order`` and average the results."""
    filtered = ndimage.spline_filter(np.asarray(array, dtype=np.float64), order=order, mode="mirror")
    total = np.zeros(filtered.shape)
    for shift in shifts:
        total += ndimage.shift(filtered, shift, order=order, mode="mirror", prefilter=False)
    return total / len(shifts)


def build_matched_exposure(
    subfilters: Sequence[Exposure], shifts: Sequence[Sequence[tuple[float, float]]]
) -> Exposure:
    """Sum the sub-filter images, each shifted by its shifts (see `calculate_dcr`).

    Pixels that are not finite in any sub-filter are NaN in the result.

    Raises
    ------
    TaskError
        If the lists differ in length, the boxes differ, or the first
        sub-filter has no photometric calibration.
    """
    if len(subfilters) != len(shifts) or not subfilters:
        raise TaskError(f"DCR model has {len(subfilters)} sub-filter images but {len(shifts)} shift lists.")
    first = subfilters[0]
    if first.photo_calib is None:
        raise TaskError("The first DCR sub-filter coadd has no photometric calibration.")
    total = np.zeros(first.image.array.shape)
    bad = np.zeros(total.shape, dtype=bool)
    for exposure, subfilter_shifts in zip(subfilters, shifts):
        if exposure.bbox != first.bbox:
            raise TaskError(f"DCR sub-filter boxes differ: {exposure.bbox} and {first.bbox}.")
        array = exposure.image.array
        not_finite = ~np.isfinite(array)
        bad |= not_finite
        total += apply_dcr(np.where(not_finite, 0.0, array), subfilter_shifts)
    total[bad] = np.nan
    variance = first.variance.array.astype(np.float64) * len(subfilters)
    dtype = first.image.dtype
    masked = MaskedImage(
        Image(total.astype(dtype), first.xy0), first.mask.copy(), Image(variance.astype(dtype), first.xy0)
    )
    return Exposure(
        masked,
        wcs=first.wcs,
        photo_calib=first.photo_calib,
        psf=first.psf,
        filter=first.filter,
        metadata=dict(first.metadata),
    )


class DcrMatchedHandle:
    """A deferred handle of a patch's DCR-matched coadd for one visit.

    ``get(parameters={"bbox": box})`` reads only ``box`` (plus the shift and
    spline margin) of each sub-filter coadd and returns the matched exposure
    for ``box``; component reads (``wcs``, ``bbox``, ``photo_calib``, ``psf``,
    ``filter``) come from the first sub-filter's headers.

    Parameters
    ----------
    handles
        The patch's sub-filter coadd handles, in sub-filter order.
    visit_info
        The science visit.
    effective_wavelength, bandwidth
        The band, nm.
    data_id
        The data ID to report (the patch's, without the sub-filter).
    split_subfilters
        Passed to `calculate_dcr`.
    """

    _HEADER_COMPONENTS = frozenset({"wcs", "bbox", "photo_calib", "photoCalib", "psf", "filter"})

    def __init__(
        self,
        handles: Sequence[Any],
        visit_info: VisitInfo,
        effective_wavelength: float,
        bandwidth: float,
        data_id: Mapping[str, Any] | None = None,
        *,
        split_subfilters: bool = True,
    ) -> None:
        if not handles:
            raise TaskError("A DCR-matched handle needs at least one sub-filter handle.")
        self.handles = list(handles)
        self.visit_info = visit_info
        self.effective_wavelength = effective_wavelength
        self.bandwidth = bandwidth
        self.data_id = data_id
        self.split_subfilters = split_subfilters
        self._shifts: list[list[tuple[float, float]]] | None = None
        self._bbox: Box | None = None

    def shifts(self) -> list[list[tuple[float, float]]]:
        """The per-sub-filter shifts for this visit (computed once, from the headers)."""
        if self._shifts is None:
            self._bbox = self.handles[0].get(component="bbox")
            self._shifts = calculate_dcr(
                self.visit_info,
                self.handles[0].get(component="wcs"),
                self.effective_wavelength,
                self.bandwidth,
                len(self.handles),
                split_subfilters=self.split_subfilters,
                bbox=self._bbox,
            )
        return self._shifts

    def get(self, *, parameters: Mapping[str, Any] | None = None, component: str | None = None) -> Any:
        """Build the matched exposure (or the box in ``parameters["bbox"]`` of it), or read a component."""
        if component in self._HEADER_COMPONENTS:
            return self.handles[0].get(component=component)
        shifts = self.shifts()
        assert self._bbox is not None
        wanted = (parameters or {}).get("bbox") or self._bbox
        wanted = wanted.intersection(self._bbox)
        if wanted.is_empty:
            raise TaskError(f"Requested box {parameters!r} does not overlap the DCR coadd's {self._bbox}.")
        largest = max((abs(c) for subfilter in shifts for shift in subfilter for c in shift), default=0.0)
        read_box = wanted.grown(math.ceil(largest) + _SPLINE_MARGIN).intersection(self._bbox)
        subfilters = [_cutout(handle.get(parameters={"bbox": read_box}), read_box) for handle in self.handles]
        matched = build_matched_exposure(subfilters, shifts).subset(wanted)
        return matched if component is None else getattr(matched, component)


def _cutout(exposure: Exposure, bbox: Box) -> Exposure:
    return exposure if exposure.bbox == bbox else exposure.subset(bbox)
