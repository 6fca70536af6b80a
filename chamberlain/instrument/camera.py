"""Camera geometry: where each detector sits in the focal plane, and its sky footprint.

The model is linear and distortion-free, which is what a simulated camera and
the visit-region computation need.

Conventions
-----------
Focal-plane coordinates ``(u, v)`` are **arcseconds on the tangent plane at
the boresight** (field angles; ``(0, 0)`` is the boresight). At sky angle 0,
``+v`` points North and ``+u`` points West, so an image with ``x`` to the right
and ``y`` up shows the sky North-up, East-left (the usual astronomical
parity). The sky angle (``ROTPA``, the exposure record's ``sky_angle``) is the
position angle of ``+v`` measured from North through East, in degrees.

A detector's pixel ``(x, y)`` (0-based, pixel centres at integers, the array
element ``[y, x]``) maps to the focal plane by a rotation about the
detector's centre pixel ``((width - 1) / 2, (height - 1) / 2)`` by the
detector's ``rotation`` (degrees, counter-clockwise from the focal-plane
``u`` axis), a scaling by ``pixel_scale`` (arcsec/pixel) and a shift to the
detector's centre ``(x_center, y_center)``. A pixel box's outer edges are at
``-0.5`` and ``width - 0.5``. Because every step is linear, the sky WCS of a
detector is exactly a FITS TAN WCS with ``CRVAL`` at the boresight.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from astropy.wcs import WCS
from lsst.sphgeom import ConvexPolygon, LonLat, UnitVector3d

from chamberlain.errors import InstrumentError, format_choices

from ._gnomonic import ARCSEC, FloatArray, deproject, project, tangent_basis

__all__ = ["CameraGeometry", "DetectorGeometry"]


@dataclasses.dataclass(frozen=True, slots=True)
class DetectorGeometry:
    """One detector: its names, pixel grid and place in the focal plane.

    Attributes
    ----------
    id
        Integer detector ID, unique in the instrument (``0 <= id < detector_max``).
    full_name
        Unique name, e.g. ``"R00_S11"``.
    name_in_raft
        Name within its raft, e.g. ``"S11"``.
    raft
        Raft (detector group) name, e.g. ``"R00"``.
    purpose
        ``"SCIENCE"``, ``"WAVEFRONT"``, ``"GUIDER"``...
    width, height
        Pixel grid size.
    pixel_scale
        Arcseconds per pixel.
    x_center, y_center
        Focal-plane position ``(u, v)`` of the detector's centre, arcseconds
        from the boresight (see the module conventions).
    rotation
        Rotation of the pixel ``x`` axis from the focal-plane ``u`` axis,
        degrees counter-clockwise.
    """

    id: int
    full_name: str
    name_in_raft: str
    raft: str
    purpose: str
    width: int
    height: int
    pixel_scale: float
    x_center: float
    y_center: float
    rotation: float = 0.0

    @property
    def bbox(self) -> tuple[int, int]:
        """The pixel grid size ``(width, height)``."""
        return (self.width, self.height)

    def linear_transform(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return the affine map from pixels to the focal plane.

        ``fp = centre_fp + matrix @ (pixel - centre_pixel)``.

        Returns
        -------
        matrix : `numpy.ndarray`
            2x2, arcseconds per pixel.
        centre_pixel : `numpy.ndarray`
            The pixel position of the detector's centre.
        centre_fp : `numpy.ndarray`
            The focal-plane ``(u, v)`` of that centre, arcseconds.
        """
        phi = math.radians(self.rotation)
        c, s = math.cos(phi), math.sin(phi)
        matrix = self.pixel_scale * np.array([[c, -s], [s, c]])
        centre_pixel = np.array([(self.width - 1) / 2.0, (self.height - 1) / 2.0])
        return matrix, centre_pixel, np.array([self.x_center, self.y_center])

    def pixel_to_focal_plane(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Return the focal-plane ``(u, v)`` in arcseconds of pixel positions (0-based).

        Parameters
        ----------
        x, y : array-like
            Pixel positions.

        Returns
        -------
        u, v : `numpy.ndarray`
            Focal-plane coordinates, arcseconds.
        """
        matrix, cp, cf = self.linear_transform()
        dx = np.asarray(x, dtype=np.float64) - cp[0]
        dy = np.asarray(y, dtype=np.float64) - cp[1]
        return cf[0] + matrix[0, 0] * dx + matrix[0, 1] * dy, cf[1] + matrix[1, 0] * dx + matrix[1, 1] * dy

    def focal_plane_to_pixel(self, u: npt.ArrayLike, v: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Return the pixel positions (0-based) of focal-plane points ``(u, v)`` in arcseconds.

        Parameters
        ----------
        u, v : array-like
            Focal-plane coordinates, arcseconds.

        Returns
        -------
        x, y : `numpy.ndarray`
            Pixel positions.
        """
        matrix, cp, cf = self.linear_transform()
        inverse = np.linalg.inv(matrix)
        du = np.asarray(u, dtype=np.float64) - cf[0]
        dv = np.asarray(v, dtype=np.float64) - cf[1]
        return (
            cp[0] + inverse[0, 0] * du + inverse[0, 1] * dv,
            cp[1] + inverse[1, 0] * du + inverse[1, 1] * dv,
        )

    def corners(self, padding: float = 0.0) -> FloatArray:
        """Return the 4 outer corners of the pixel box grown by ``padding`` pixels.

        Parameters
        ----------
        padding : `float`, optional
            Pixels added on every side.

        Returns
        -------
        corners : `numpy.ndarray`
            Shape ``(4, 2)``, ``(x, y)`` counter-clockwise from the lower left.
        """
        x0, y0 = -0.5 - padding, -0.5 - padding
        x1, y1 = self.width - 0.5 + padding, self.height - 0.5 + padding
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _sky_rotation(rotation_deg: npt.ArrayLike) -> FloatArray:
    """Matrices ``(..., 2, 2)`` taking focal-plane ``(u, v)`` to standard ``(xi, eta)``."""
    theta = np.radians(np.asarray(rotation_deg, dtype=np.float64))
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([-c, s], axis=-1), np.stack([s, c], axis=-1)], axis=-2)


def _polygon(corners: Any) -> ConvexPolygon:
    return ConvexPolygon([UnitVector3d(x, y, z) for x, y, z in corners])


class CameraGeometry:
    """The detectors of a camera and the projections between pixels and sky.

    Parameters
    ----------
    detectors
        The detectors; IDs and full names must be unique.

    Raises
    ------
    InstrumentError
        If two detectors share an ID or a full name.
    """

    def __init__(self, detectors: Sequence[DetectorGeometry]) -> None:
        self._detectors = tuple(detectors)
        self._by_id: dict[int, DetectorGeometry] = {}
        self._index: dict[int, int] = {}
        names: set[str] = set()
        for i, det in enumerate(self._detectors):
            if det.id in self._by_id:
                raise InstrumentError(f"Detector ID {det.id} is used twice in the camera.")
            if det.full_name in names:
                raise InstrumentError(f"Detector name {det.full_name!r} is used twice in the camera.")
            names.add(det.full_name)
            self._by_id[det.id] = det
            self._index[det.id] = i
        self._ids = [det.id for det in self._detectors]
        self._fp_corner_cache: dict[float, FloatArray] = {}

    @property
    def detectors(self) -> tuple[DetectorGeometry, ...]:
        """All detectors, in the order given."""
        return self._detectors

    @property
    def detector_ids(self) -> list[int]:
        """All detector IDs, in the order of `detectors`."""
        return list(self._ids)

    def detector(self, detector_id: int) -> DetectorGeometry:
        """Return the detector with this ID.

        Parameters
        ----------
        detector_id : `int`
            The detector ID.

        Returns
        -------
        detector : `DetectorGeometry`
            Its geometry.

        Raises
        ------
        InstrumentError
            If there is no such detector (or the ID is not an integer); the
            message lists the valid IDs.
        """
        if isinstance(detector_id, bool) or not isinstance(detector_id, int | np.integer):
            raise InstrumentError(
                f"Detector ID must be an integer, got {detector_id!r}; "
                f"valid IDs: {format_choices(self._ids, limit=20)}."
            )
        det = self._by_id.get(int(detector_id))
        if det is None:
            raise InstrumentError(
                f"No detector with ID {detector_id!r}; valid IDs: {format_choices(self._ids, limit=20)}."
            )
        return det

    # --- WCS ------------------------------------------------------------------------------

    def wcs_header(
        self, detector_id: int, ra: float, dec: float, rotation: float, *, binning: float = 1.0
    ) -> dict[str, Any]:
        """Return the FITS TAN WCS keywords of a detector for a boresight and sky angle (degrees).

        Parameters
        ----------
        detector_id
            The detector.
        ra, dec
            Boresight, ICRS degrees.
        rotation
            Sky angle: position angle of focal-plane ``+v``, degrees East of North.
        binning
            Pixel binning factor of the image the WCS describes (``1``: the
            detector's own pixels; ``b``: each image pixel covers ``b x b``
            detector pixels with the same outer edges).

        Returns
        -------
        header : `dict` [`str`, `object`]
            ``WCSAXES``, ``CTYPE*``, ``CUNIT*``, ``RADESYS``, ``EQUINOX``,
            ``CRVAL*``, ``CRPIX*`` and ``CD*_*`` cards.

        Raises
        ------
        InstrumentError
            If there is no such detector or ``binning`` is not positive.
        """
        det = self.detector(detector_id)
        if not binning > 0:
            raise InstrumentError(f"Binning must be positive, got {binning!r}.")
        matrix, cp, cf = det.linear_transform()
        # Boresight pixel: fp = 0  <=>  pixel = cp - matrix^-1 @ cf (independent of sky angle).
        p0 = cp - np.linalg.solve(matrix, cf)
        cd = _sky_rotation(rotation) @ matrix / 3600.0 * binning
        q0 = (p0 + 0.5) / binning - 0.5
        return {
            "WCSAXES": 2,
            "CTYPE1": "RA---TAN",
            "CTYPE2": "DEC--TAN",
            "CUNIT1": "deg",
            "CUNIT2": "deg",
            "RADESYS": "ICRS",
            "EQUINOX": 2000.0,
            "CRVAL1": float(ra) % 360.0,
            "CRVAL2": float(dec),
            "CRPIX1": float(q0[0]) + 1.0,
            "CRPIX2": float(q0[1]) + 1.0,
            "CD1_1": float(cd[0, 0]),
            "CD1_2": float(cd[0, 1]),
            "CD2_1": float(cd[1, 0]),
            "CD2_2": float(cd[1, 1]),
        }

    def detector_wcs(
        self, detector_id: int, ra: float, dec: float, rotation: float, *, binning: float = 1.0
    ) -> WCS:
        """Return the astropy TAN WCS of a detector.

        Builds an astropy object: fine per file, too slow for thousands of
        regions (use `detector_regions` there).

        Parameters
        ----------
        detector_id, ra, dec, rotation, binning
            As for `wcs_header`, which raises the same errors.

        Returns
        -------
        wcs : `astropy.wcs.WCS`
            The WCS, with ``pixel_shape`` set to the (binned) image size.
        """
        header = self.wcs_header(detector_id, ra, dec, rotation, binning=binning)
        det = self.detector(detector_id)
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = [header["CTYPE1"], header["CTYPE2"]]
        wcs.wcs.cunit = ["deg", "deg"]
        wcs.wcs.radesys = "ICRS"
        wcs.wcs.equinox = 2000.0
        wcs.wcs.crval = [header["CRVAL1"], header["CRVAL2"]]
        wcs.wcs.crpix = [header["CRPIX1"], header["CRPIX2"]]
        wcs.wcs.cd = [[header["CD1_1"], header["CD1_2"]], [header["CD2_1"], header["CD2_2"]]]
        wcs.pixel_shape = (round(det.width / binning), round(det.height / binning))
        wcs.wcs.set()
        return wcs

    def detector_region(
        self, detector_id: int, ra: float, dec: float, rotation: float, padding: float = 0.0
    ) -> ConvexPolygon:
        """Return the sky polygon of a detector's pixel box grown by ``padding`` pixels, via its astropy WCS.

        The reference (slow) path; `detector_regions` computes the same
        polygons for all detectors at once with numpy.

        Parameters
        ----------
        detector_id
            The detector (`InstrumentError` if there is none).
        ra, dec, rotation, padding
            As for `corner_vectors`, scalars only.

        Returns
        -------
        region : `lsst.sphgeom.ConvexPolygon`
            The detector's footprint on the sky.
        """
        det = self.detector(detector_id)
        wcs = self.detector_wcs(detector_id, ra, dec, rotation)
        corners = det.corners(padding)
        ra_c, dec_c = wcs.wcs_pix2world(corners[:, 0], corners[:, 1], 0)
        return ConvexPolygon(
            [UnitVector3d(LonLat.fromDegrees(float(a), float(d))) for a, d in zip(ra_c, dec_c, strict=True)]
        )

    # --- vectorised regions -----------------------------------------------------------------

    def focal_plane_corners(self, padding: float = 0.0) -> FloatArray:
        """Return the focal-plane ``(u, v)`` arcseconds of every detector's padded corners.

        Cached per padding; the array is read-only.

        Parameters
        ----------
        padding : `float`, optional
            Pixels added on every side of each detector box.

        Returns
        -------
        corners : `numpy.ndarray`
            Shape ``(D, 4, 2)``, detectors in the order of `detectors`.
        """
        key = float(padding)
        cached = self._fp_corner_cache.get(key)
        if cached is None:
            out = np.empty((len(self._detectors), 4, 2))
            for i, det in enumerate(self._detectors):
                pix = det.corners(key)
                u, v = det.pixel_to_focal_plane(pix[:, 0], pix[:, 1])
                out[i, :, 0] = u
                out[i, :, 1] = v
            out.setflags(write=False)
            self._fp_corner_cache[key] = cached = out
        return cached

    def corner_vectors(
        self, ra: npt.ArrayLike, dec: npt.ArrayLike, rotation: npt.ArrayLike, padding: float = 0.0
    ) -> FloatArray:
        """Return the unit vectors of every detector's padded corners for one or many pointings.

        Parameters
        ----------
        ra, dec, rotation
            Boresight (degrees) and sky angle (degrees); scalars or arrays
            that broadcast to a common shape ``S``.
        padding
            Pixels added on every side of each detector box.

        Returns
        -------
        numpy.ndarray
            Shape ``S + (D, 4, 3)``, detectors in the order of `detectors`.
        """
        ra_a, dec_a, rot_a = np.broadcast_arrays(
            np.asarray(ra, dtype=np.float64),
            np.asarray(dec, dtype=np.float64),
            np.asarray(rotation, dtype=np.float64),
        )
        fp = self.focal_plane_corners(padding)  # (D, 4, 2)
        rot = _sky_rotation(rot_a)[..., None, None, :, :]  # S + (1, 1, 2, 2)
        std = np.einsum("...ij,...j->...i", rot, fp) * ARCSEC  # S + (D, 4, 2)
        centre, east, north = tangent_basis(ra_a, dec_a)
        basis = (centre[..., None, None, :], east[..., None, None, :], north[..., None, None, :])
        return deproject(std[..., 0], std[..., 1], basis)

    def detector_regions(
        self, ra: float, dec: float, rotation: float, padding: float = 0.0
    ) -> dict[int, ConvexPolygon]:
        """Return the sky polygons of all detectors for one pointing, keyed by detector ID.

        Same result as calling `detector_region` for each detector, computed
        with numpy in one pass.

        Parameters
        ----------
        ra, dec, rotation, padding
            As for `corner_vectors`, scalars only.

        Returns
        -------
        regions : `dict` [`int`, `lsst.sphgeom.ConvexPolygon`]
            The footprints, by detector ID.
        """
        vectors = self.corner_vectors(ra, dec, rotation, padding).tolist()
        return {det_id: _polygon(corners) for det_id, corners in zip(self._ids, vectors, strict=True)}

    def detector_regions_many(
        self,
        ra: npt.ArrayLike,
        dec: npt.ArrayLike,
        rotation: npt.ArrayLike,
        padding: float = 0.0,
    ) -> list[dict[int, ConvexPolygon]]:
        """Compute `detector_regions` for many pointings in one pass.

        Parameters
        ----------
        ra, dec, rotation, padding
            As for `corner_vectors`, with ``ra``, ``dec`` and ``rotation`` 1-D
            arrays of equal length.

        Returns
        -------
        regions : `list` [`dict` [`int`, `lsst.sphgeom.ConvexPolygon`]]
            For each pointing, the footprints by detector ID.
        """
        vectors = self.corner_vectors(np.atleast_1d(ra), np.atleast_1d(dec), np.atleast_1d(rotation), padding)
        return [
            {det_id: _polygon(corners) for det_id, corners in zip(self._ids, visit, strict=True)}
            for visit in vectors.tolist()
        ]

    def visit_region(self, ra: float, dec: float, rotation: float, padding: float = 0.0) -> ConvexPolygon:
        """Return the convex hull of all detectors' padded corners for one pointing.

        Parameters
        ----------
        ra, dec, rotation, padding
            One pointing and a padding, as for `detector_regions`.

        Returns
        -------
        region : `lsst.sphgeom.ConvexPolygon`
            The visit's footprint.
        """
        vectors = self.corner_vectors(ra, dec, rotation, padding).reshape(-1, 3)
        return _polygon(vectors.tolist())

    # --- points -----------------------------------------------------------------------------

    def sky_to_pixel(
        self,
        detector_id: int,
        vectors: FloatArray,
        ra: float,
        dec: float,
        rotation: float,
        *,
        binning: float = 1.0,
    ) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
        """Return the pixel positions (0-based, in an image binned by ``binning``) of sky unit vectors.

        Parameters
        ----------
        detector_id
            The detector (`InstrumentError` if there is none).
        vectors
            Unit vectors, shape ``(..., 3)``.
        ra, dec, rotation, binning
            Boresight, sky angle and binning, as for `wcs_header`.

        Returns
        -------
        x, y : `numpy.ndarray`
            Pixel positions.
        valid : `numpy.ndarray` [`bool`]
            False for points too far from the boresight to project (their
            ``x``, ``y`` are meaningless).
        """
        det = self.detector(detector_id)
        xi, eta, front = project(vectors, tangent_basis(ra, dec))
        # Standard coordinates (arcsec) -> focal plane: the sky rotation is orthogonal and symmetric.
        rot = _sky_rotation(rotation)
        std = np.stack([xi, eta]) / ARCSEC
        u, v = rot @ std
        x, y = det.focal_plane_to_pixel(u, v)
        return (x + 0.5) / binning - 0.5, (y + 0.5) / binning - 0.5, front
