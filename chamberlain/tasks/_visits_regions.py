"""Visit and detector sky regions: the ``compute_visit_regions`` subtasks of `DefineVisitsTask`.

Two algorithms are registered in `COMPUTE_VISIT_REGIONS`; both grow every
detector's pixel box by ``padding`` pixels on each side, take its four corners
to the sky, and make

* each detector's region the spherical convex polygon of its 4 corners, and
* the visit's region the convex hull of all detectors' corners.

``by-camera-geometry``
    From the exposure record's pointing (``tracking_ra``, ``tracking_dec``,
    ``sky_angle``) and the instrument's camera geometry, vectorised over all
    visits with numpy. Reads no file.
``single-raw-wcs``
    From the WCS of one raw per exposure (detector ``detector_id``, default the
    camera's first), obtained through a ``raw_wcs(instrument, exposure, detector)``
    callable (the Butler's reads the raw's header from the datastore). Other
    detectors' corners go through the camera geometry into that detector's pixel
    frame and then through its WCS, so the raw's own pointing and distortion
    are used. The raw's image may be binned: pixel coordinates are scaled by the
    ratio of the detector's width to the WCS's ``pixel_shape``.

With ``merge_exposures`` the corners of every exposure of a visit are pooled
before taking the hulls; otherwise only the visit's first exposure is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple

import lsst.sphgeom as sg
import numpy as np

from chamberlain.errors import InstrumentError, TaskError
from chamberlain.geometry import radec_to_vectors
from chamberlain.instrument import Instrument, get_instrument
from chamberlain.pipe import Config, ConfigurableRegistry, Task, field, range_field, register_configurable

__all__ = [
    "COMPUTE_VISIT_REGIONS",
    "ByCameraGeometryTask",
    "ComputeVisitRegionsConfig",
    "ComputeVisitRegionsTask",
    "ExposurePointing",
    "RawWcsFunction",
    "SingleRawWcsConfig",
    "SingleRawWcsTask",
    "VisitRegions",
]

#: ``raw_wcs(instrument, exposure_id, detector_id) -> astropy.wcs.WCS`` of that raw.
RawWcsFunction = Callable[[str, int, int], Any]


class ExposurePointing(NamedTuple):
    """What region computation needs of an exposure (picklable, for process pools)."""

    id: int
    tracking_ra: float
    tracking_dec: float
    sky_angle: float


class VisitRegions(NamedTuple):
    """A visit's region and its detectors' regions (detector ID -> polygon)."""

    region: sg.ConvexPolygon
    detector_regions: dict[int, sg.ConvexPolygon]


class ComputeVisitRegionsConfig(Config):
    """Options shared by the region algorithms."""

    padding: int = range_field(
        250, "Pixels added on every side of each detector box before projecting it to the sky.", min=0
    )
    merge_exposures: bool = field(
        False, "Pool the corners of every exposure of a visit (otherwise use its first exposure only)."
    )


COMPUTE_VISIT_REGIONS = ConfigurableRegistry(
    "How `DefineVisitsTask` computes visit and detector regions.", ComputeVisitRegionsConfig
)


def _hulls(corners: np.ndarray, detector_ids: Sequence[int]) -> VisitRegions:
    """Regions from corner unit vectors of shape ``(E, D, 4, 3)`` (E exposures pooled)."""
    n_det = corners.shape[1]
    per_detector = np.swapaxes(corners, 0, 1).reshape(n_det, -1, 3).tolist()
    detector_regions = {
        det_id: sg.ConvexPolygon([sg.UnitVector3d(x, y, z) for x, y, z in vectors])
        for det_id, vectors in zip(detector_ids, per_detector, strict=True)
    }
    everything = [sg.UnitVector3d(x, y, z) for x, y, z in corners.reshape(-1, 3).tolist()]
    return VisitRegions(sg.ConvexPolygon(everything), detector_regions)


class ComputeVisitRegionsTask(Task):
    """Base class of region algorithms.

    Parameters
    ----------
    config, name, parent_task, log
        As for `Task`.
    raw_wcs
        ``raw_wcs(instrument, exposure_id, detector_id)`` returning an astropy WCS
        (used by ``single-raw-wcs``; ignored by the others). It must be picklable
        (a module-level function or a `functools.partial` of one) for ``processes > 1``.
    """

    ConfigClass = ComputeVisitRegionsConfig
    config: ComputeVisitRegionsConfig
    #: Whether `compute` reads raws' WCS (`DefineVisitsTask` then supplies ``raw_wcs`` from its butler).
    needs_raw_wcs: ClassVar[bool] = False

    def __init__(
        self, config: Config | None = None, *, raw_wcs: RawWcsFunction | None = None, **kwargs: Any
    ) -> None:
        super().__init__(config, **kwargs)
        self.raw_wcs = raw_wcs

    def compute(self, instrument: str, visits: Sequence[Sequence[ExposurePointing]]) -> list[VisitRegions]:
        """Regions of many visits, each given as its exposures' pointings (first exposure first).

        Raises
        ------
        TaskError
            If the regions cannot be computed (e.g. no raw WCS available).
        """
        raise NotImplementedError()

    def _used(self, pointings: Sequence[ExposurePointing]) -> Sequence[ExposurePointing]:
        return pointings if self.config.merge_exposures else pointings[:1]

    @staticmethod
    def _instrument(name: str) -> Instrument:
        try:
            return get_instrument(name)
        except InstrumentError as err:
            raise TaskError(f"Cannot compute visit regions for instrument {name!r}: {err}") from None


@register_configurable("by-camera-geometry", COMPUTE_VISIT_REGIONS)
class ByCameraGeometryTask(ComputeVisitRegionsTask):
    """Regions from each exposure's pointing and the instrument's camera geometry (no file read)."""

    def compute(self, instrument: str, visits: Sequence[Sequence[ExposurePointing]]) -> list[VisitRegions]:
        camera = self._instrument(instrument).camera
        used = [self._used(v) for v in visits]
        flat = [p for ps in used for p in ps]
        if not flat:
            return []
        ra = np.array([p.tracking_ra for p in flat], dtype=np.float64)
        dec = np.array([p.tracking_dec for p in flat], dtype=np.float64)
        rot = np.array([p.sky_angle for p in flat], dtype=np.float64)
        corners = camera.corner_vectors(ra, dec, rot, float(self.config.padding))  # (N, D, 4, 3)
        ids = camera.detector_ids
        out: list[VisitRegions] = []
        start = 0
        for ps in used:
            out.append(_hulls(corners[start : start + len(ps)], ids))
            start += len(ps)
        return out


class SingleRawWcsConfig(ComputeVisitRegionsConfig):
    """Options of ``single-raw-wcs``."""

    detector_id: int | None = field(
        None, "Detector whose raw WCS is used (None: the first detector of the camera)."
    )


@register_configurable("single-raw-wcs", COMPUTE_VISIT_REGIONS)
class SingleRawWcsTask(ComputeVisitRegionsTask):
    """Regions from the WCS of one raw per exposure plus the camera geometry."""

    ConfigClass = SingleRawWcsConfig
    config: SingleRawWcsConfig
    needs_raw_wcs = True

    def compute(self, instrument: str, visits: Sequence[Sequence[ExposurePointing]]) -> list[VisitRegions]:
        if self.raw_wcs is None:
            raise TaskError(
                "The 'single-raw-wcs' region algorithm needs a raw_wcs(instrument, exposure, detector) "
                "callable; DefineVisitsTask makes one from its butler (pass collections= to its run), or "
                "choose 'by-camera-geometry'."
            )
        inst = self._instrument(instrument)
        camera = inst.camera
        ref_id = camera.detector_ids[0] if self.config.detector_id is None else self.config.detector_id
        ref = inst.get_detector(ref_id)
        # Every detector's padded corners in the reference detector's pixel frame (same for all exposures).
        fp = camera.focal_plane_corners(float(self.config.padding))  # (D, 4, 2) arcsec
        ref_x, ref_y = ref.focal_plane_to_pixel(fp[..., 0], fp[..., 1])
        ids = camera.detector_ids
        out: list[VisitRegions] = []
        for pointings in visits:
            per_exposure = [
                self._corners(instrument, p.id, ref_id, ref.width, ref_x, ref_y)
                for p in self._used(pointings)
            ]
            out.append(_hulls(np.stack(per_exposure), ids))
        return out

    def _corners(
        self, instrument: str, exposure: int, detector: int, width: int, x: np.ndarray, y: np.ndarray
    ) -> np.ndarray:
        assert self.raw_wcs is not None
        try:
            wcs = self.raw_wcs(instrument, exposure, detector)
        except Exception as err:
            raise TaskError(
                f"Cannot get the WCS of the raw for instrument {instrument!r}, exposure {exposure}, "
                f"detector {detector}: {err}"
            ) from err
        shape = getattr(wcs, "pixel_shape", None)
        binning = width / shape[0] if shape else 1.0
        ra, dec = wcs.all_pix2world((x + 0.5) / binning - 0.5, (y + 0.5) / binning - 0.5, 0)
        return radec_to_vectors(ra, dec)


def compute_encoded(
    task_class: type[ComputeVisitRegionsTask],
    config: ComputeVisitRegionsConfig,
    raw_wcs: RawWcsFunction | None,
    instrument: str,
    visits: Sequence[Sequence[ExposurePointing]],
) -> list[tuple[bytes, list[tuple[int, bytes]]]]:
    """Worker entry point for process pools: compute regions and return them encoded."""
    task = task_class(config, name="compute_visit_regions", raw_wcs=raw_wcs)
    return [
        (r.region.encode(), [(d, p.encode()) for d, p in r.detector_regions.items()])
        for r in task.compute(instrument, visits)
    ]


def decode_regions(encoded: Sequence[tuple[bytes, list[tuple[int, bytes]]]]) -> list[VisitRegions]:
    """Inverse of the encoding done by `compute_encoded`."""
    decode = sg.ConvexPolygon.decode
    return [VisitRegions(decode(v), {d: decode(b) for d, b in dets}) for v, dets in encoded]  # type: ignore[arg-type,misc]
