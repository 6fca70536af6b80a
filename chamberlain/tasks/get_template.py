"""`GetTemplateTask` and `GetDcrTemplateTask`: a difference-imaging template for one detector.

The template is built from the coadd patches that overlap the detector:

1. patches whose outer box does not overlap the detector footprint (projected
   into the patch's tract plane; exact planar test) are dropped; each patch's
   tract WCS and box come from the coadd's headers (component reads);
2. all kept coadds must share one band and one photometric calibration;
3. the detector box is grown by ``template_border_size`` pixels;
4. per tract, only the part of each patch that the grown detector box needs
   (its footprint in the tract frame plus 5 pixels) is read, the cutouts are
   mosaicked with 1/sigma weights and the mosaic is resampled onto the
   detector's WCS with `reproject` (bicubic splines; bilinear for the mask);
5. the tracts are averaged where they overlap (same weights); pixels nothing
   covers get NO_DATA; a HIGH_VARIANCE plane flags a smooth variance excess;
   the PSF is a Gaussian with the coadd PSFs' mean second moments at the
   template's centre of coverage.

`NoWorkFound` is raised when the detector has no WCS, no patch overlaps it, or
no valid pixel is left after warping. `GetDcrTemplateTask` first builds, for
each patch, the DCR-matched coadd of the visit from its sub-filter coadds
(see `chamberlain.tasks.dcr`), then proceeds the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from astropy.wcs import WCS

from chamberlain.errors import NoWorkFound, TaskError, format_choices
from chamberlain.image import Box, Exposure, FilterLabel, MaskedImage, PhotoCalib, VisitInfo
from chamberlain.pipe import (
    Input,
    Output,
    PipelineTask,
    PipelineTaskConfig,
    PipelineTaskConnections,
    QuantumContext,
    Struct,
    choice_field,
    field,
    range_field,
)
from chamberlain.pipe.refs import DeferredRef, InputRefs, OutputRefs
from chamberlain.skymap.overlap import box_overlap_area, wcs_polygon

from ._template_merge import PsfEntry, high_variance_mask, merge_masked_images, template_psf
from ._template_overlap import detector_sky_corners, warped_bbox
from ._template_warp import warp_masked_image
from .dcr import DcrMatchedHandle

if TYPE_CHECKING:
    from shapely.geometry import Polygon

__all__ = [
    "CoaddHandle",
    "GetDcrTemplateConfig",
    "GetDcrTemplateConnections",
    "GetDcrTemplateTask",
    "GetTemplateConfig",
    "GetTemplateConnections",
    "GetTemplateTask",
]

_DETECTOR_DIMENSIONS = ("instrument", "visit", "detector")
_COADD_DIMENSIONS = ("tract", "patch", "skymap", "band")
#: Tract pixels added around the detector footprint when reading patch cutouts.
_WARP_MARGIN = 5


class CoaddHandle(Protocol):
    """What the tasks need from a deferred coadd handle (`chamberlain.butler.DeferredDatasetHandle`).

    ``get()`` reads the exposure, ``get(parameters={"bbox": box})`` only that
    box of it, ``get(component="wcs")`` (``"bbox"``, ``"photo_calib"``) only
    that component. A ``data_id`` attribute is used when ``data_ids`` is not given.
    """

    def get(self, *, parameters: Mapping[str, Any] | None = None, component: str | None = None) -> Any:
        """Read the dataset, a cutout of it, or a component."""


class GetTemplateConnections(
    PipelineTaskConnections,
    dimensions=_DETECTOR_DIMENSIONS,
    default_templates={"coadd_name": "goodSeeing", "warp_type_suffix": "", "fakes_type": ""},
):
    """Inputs and output of `GetTemplateTask` (quantum dimensions instrument, visit, detector)."""

    bbox = Input(
        name="{fakes_type}calexp.bbox",
        storage_class="Box",
        dimensions=_DETECTOR_DIMENSIONS,
        doc="Bounding box of the science detector image.",
    )
    wcs = Input(
        name="{fakes_type}calexp.wcs",
        storage_class="Wcs",
        dimensions=_DETECTOR_DIMENSIONS,
        doc="WCS of the science detector image.",
    )
    coadd_exposures = Input(
        name="{fakes_type}{coadd_name}Coadd{warp_type_suffix}",
        storage_class="ExposureF",
        dimensions=_COADD_DIMENSIONS,
        multiple=True,
        defer_load=True,
        defer_graph_constraint=True,
        doc="Coadd patches that may overlap the detector (read as cutouts).",
    )
    template = Output(
        name="{fakes_type}{coadd_name}Diff_templateExp{warp_type_suffix}",
        storage_class="ExposureF",
        dimensions=_DETECTOR_DIMENSIONS,
        doc="The template warped onto the detector, grown by template_border_size.",
    )


class GetTemplateConfig(PipelineTaskConfig, pipeline_connections=GetTemplateConnections):  # type: ignore[call-arg,metaclass]
    """Configuration of `GetTemplateTask`."""

    template_border_size: int = field(20, "Pixels added to every side of the detector box.", ge=0)
    interpolation: str = choice_field(
        "bicubic",
        "reproject interpolation of image and variance.",
        allowed={
            "bicubic": "cubic splines (as accurate as Lanczos-3 on band-limited images)",
            "biquadratic": "quadratic splines",
            "bilinear": "bilinear (fast, smooths)",
        },
    )
    interp_length: int = field(
        100, "Output pixels between nodes where the sky mapping is evaluated exactly.", ge=1
    )
    high_variance_threshold: float = range_field(
        4.0, "Flag HIGH_VARIANCE where the variance background exceeds this times its median.", min=1.0
    )
    high_variance_mask_fraction: float = field(
        0.1, "Skip the HIGH_VARIANCE test when fewer than this fraction of pixels are usable.", ge=0.0, le=1.0
    )
    variance_background_bin_size: int = field(32, "Bin size (pixels) of the variance background.", ge=1)
    variance_background_ignored_planes: list[str] = field(
        default_factory=lambda: ["BAD", "EDGE", "DETECTED", "DETECTED_NEGATIVE", "NO_DATA"],
        doc="Mask planes excluded from the variance background.",
    )


@dataclass
class _Patch:
    """A coadd patch kept for the template."""

    handle: Any
    data_id: Mapping[str, Any] | None
    tract: Hashable
    wcs: WCS
    bbox: Box


def _tract_key(data_id: Mapping[str, Any] | None, wcs: WCS) -> Hashable:
    if data_id is not None and "tract" in data_id:
        return data_id["tract"]
    return wcs.to_header_string()  # Patches of one tract share its WCS.


def _describe(patch: _Patch) -> str:
    if patch.data_id is None:
        return f"coadd covering {patch.bbox}"
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in dict(patch.data_id).items()) + "}"


class GetTemplateTask(PipelineTask):
    """Build a detector's template from the coadd patches overlapping it (see the module docs)."""

    ConfigClass = GetTemplateConfig
    config: GetTemplateConfig
    default_name = "getTemplate"

    # --- quantum I/O -----------------------------------------------------------------------

    def run_quantum(self, butler_qc: QuantumContext, input_refs: InputRefs, output_refs: OutputRefs) -> None:
        """Read the detector box and WCS, hand the coadd handles and their data IDs to `run`."""
        inputs = butler_qc.get(input_refs)
        refs = getattr(input_refs, self._handles_connection)
        data_ids: list[Any] = [
            getattr(r.ref if isinstance(r, DeferredRef) else r, "data_id", None) for r in refs
        ]
        output_id = getattr(output_refs.template, "data_id", None)
        physical_filter = _lookup(output_id, "physical_filter")
        visit = _lookup(output_id, "visit")
        handles = inputs.pop(self._handles_connection)
        outputs = self.run(
            handles,
            inputs.pop("bbox"),
            inputs.pop("wcs"),
            data_ids=None if any(d is None for d in data_ids) else data_ids,
            physical_filter=physical_filter,
            visit=visit,
            **inputs,
        )
        butler_qc.put(outputs, output_refs)

    _handles_connection = "coadd_exposures"

    # --- the algorithm ---------------------------------------------------------------------

    def run(  # type: ignore[override]
        self,
        coadd_exposure_handles: Sequence[CoaddHandle],
        bbox: Box,
        wcs: WCS | None,
        data_ids: Sequence[Mapping[str, Any]] | None = None,
        physical_filter: str | None = None,
        visit: int | None = None,
    ) -> Struct:
        """Warp and mosaic the overlapping coadd patches onto the detector.

        Reads each handle's ``wcs`` and ``bbox`` components (headers), each
        kept handle's ``photo_calib``, and only the needed cutout of each
        kept coadd.

        Parameters
        ----------
        coadd_exposure_handles
            Deferred handles of candidate patches (see `CoaddHandle`).
        bbox
            The detector's box; the template covers it grown by
            ``config.template_border_size``.
        wcs
            The detector's WCS (parent pixels).
        data_ids
            Data IDs (``tract``, ``patch``, ``band``, ...) of the handles, in
            the same order; default: each handle's ``data_id``, if any.
        physical_filter
            Physical filter for the template's `FilterLabel`.
        visit
            If given, the template's `VisitInfo` carries only this id.

        Returns
        -------
        result
            ``Struct(template=Exposure, coadd_inputs=list of data IDs of the patches used)``.

        Raises
        ------
        NoWorkFound
            If ``wcs`` is None, no patch overlaps the detector, or no valid
            pixel is left after warping.
        TaskError
            If the coadds are in several bands or differ in photometric calibration.
        """
        if wcs is None:
            raise NoWorkFound("The science exposure has no WCS; cannot build a template.")
        candidates = self._candidates(coadd_exposure_handles, data_ids)
        patches = self.select_overlapping(candidates, bbox, wcs)
        return self._assemble(patches, bbox, wcs, physical_filter, visit)

    def _candidates(
        self, handles: Sequence[CoaddHandle], data_ids: Sequence[Mapping[str, Any]] | None
    ) -> list[tuple[Any, Mapping[str, Any] | None]]:
        if data_ids is None:
            data_ids = [getattr(h, "data_id", None) for h in handles]  # type: ignore[misc]
        elif len(data_ids) != len(handles):
            raise TaskError(
                f"Got {len(handles)} coadd handles but {len(data_ids)} data IDs; they must pair up."
            )
        return list(zip(handles, data_ids))

    def select_overlapping(
        self, candidates: Sequence[tuple[Any, Mapping[str, Any] | None]], bbox: Box, wcs: WCS
    ) -> list[_Patch]:
        """The candidate patches whose outer box overlaps the detector (headers only).

        Raises
        ------
        NoWorkFound
            If none overlaps.
        """
        ra, dec = detector_sky_corners(bbox, wcs)
        kept: list[_Patch] = []
        polygons: dict[Hashable, Polygon | None] = {}  # the footprint, projected once per tract
        for handle, data_id in candidates:
            tract_wcs = handle.get(component="wcs")
            if tract_wcs is None:
                continue
            patch_bbox = handle.get(component="bbox")
            key = _tract_key(data_id, tract_wcs)
            if key not in polygons:
                polygons[key] = wcs_polygon(tract_wcs, ra, dec)
            if box_overlap_area(patch_bbox, polygons[key]) <= 0.0:
                continue
            kept.append(_Patch(handle, data_id, key, tract_wcs, patch_bbox))
        if not kept:
            raise NoWorkFound(f"No patches overlap detector (of {len(candidates)} candidate(s), box {bbox}).")
        self.log.info("%d of %d candidate patches overlap the detector.", len(kept), len(candidates))
        return kept

    def check_inputs(self, patches: Sequence[_Patch]) -> tuple[str | None, PhotoCalib | None]:
        """The common band and photometric calibration of the patches.

        Raises
        ------
        TaskError
            If the patches are in several bands or their calibrations differ.
        """
        bands: dict[str, str] = {}
        for patch in patches:
            band = _lookup(patch.data_id, "band")
            if band is None:
                label = patch.handle.get(component="filter")
                band = getattr(label, "band", None)
            if band is not None:
                bands.setdefault(str(band), _describe(patch))
        if len(bands) > 1:
            raise TaskError(
                f"Template coadds must all be in one band; got bands {format_choices(bands)} "
                f"(e.g. {'; '.join(f'{b}: {d}' for b, d in sorted(bands.items()))})."
            )
        calib: PhotoCalib | None = None
        first: _Patch | None = None
        for patch in patches:
            value = patch.handle.get(component="photo_calib")
            if first is None:
                calib, first = value, patch
            elif value != calib:
                raise TaskError(
                    f"Template coadds must share one photometric calibration; {_describe(first)} has "
                    f"{calib!r} but {_describe(patch)} has {value!r}."
                )
        return (next(iter(bands)) if bands else None), calib

    def _assemble(
        self, patches: Sequence[_Patch], bbox: Box, wcs: WCS, physical_filter: str | None, visit: int | None
    ) -> Struct:
        band, photo_calib = self.check_inputs(patches)
        out_bbox = bbox.grown(self.config.template_border_size)
        by_tract: dict[Hashable, list[_Patch]] = defaultdict(list)
        for patch in patches:
            by_tract[patch.tract].append(patch)
        warped: list[MaskedImage] = []
        used: list[_Patch] = []
        for tract, members in by_tract.items():
            result = self._warp_tract(members, out_bbox, wcs)
            if result is None:
                self.log.info("Tract %s contributes no valid pixel.", tract)
                continue
            warped.append(result[0])
            used.extend(result[1])
        if not warped:
            raise NoWorkFound("No patches found to overlap science exposure.")
        merged, n_good, _ = merge_masked_images(warped, out_bbox)
        if n_good == 0:
            raise NoWorkFound("No valid pixels in warped template.")
        high_variance_mask(
            merged,
            threshold=self.config.high_variance_threshold,
            mask_fraction=self.config.high_variance_mask_fraction,
            ignored_planes=self.config.variance_background_ignored_planes,
            bin_size=self.config.variance_background_bin_size,
        )
        coverage = ~merged.mask.get_plane("NO_DATA")
        ys, xs = np.nonzero(coverage)
        centre = (float(xs.mean()) + out_bbox.min_x, float(ys.mean()) + out_bbox.min_y)
        psf_entries = []
        for patch in used:
            psf = patch.handle.get(component="psf")
            if psf is not None:
                psf_entries.append(PsfEntry(psf, patch.wcs, patch.bbox))
        template = Exposure(
            merged,
            wcs=wcs,
            photo_calib=photo_calib,
            psf=template_psf(psf_entries, wcs, centre),
            visit_info=None if visit is None else VisitInfo(id=visit),
            filter=None if band is None and physical_filter is None else FilterLabel(band, physical_filter),
            metadata={"TMPLNINP": len(used), "TMPLNGOD": n_good},
        )
        return Struct(template=template, coadd_inputs=[p.data_id for p in used])

    def _warp_tract(
        self, members: Sequence[_Patch], out_bbox: Box, wcs: WCS
    ) -> tuple[MaskedImage, list[_Patch]] | None:
        tract_wcs = members[0].wcs
        total = Box.empty()
        for patch in members:
            total = total.union(patch.bbox)
        needed = warped_bbox(out_bbox, wcs, tract_wcs, grow=_WARP_MARGIN).intersection(total)
        if needed.is_empty:
            return None
        cutouts: list[MaskedImage] = []
        readers: list[_Patch] = []
        for patch in members:
            cut = needed.intersection(patch.bbox)
            if cut.is_empty:
                continue
            exposure = patch.handle.get(parameters={"bbox": cut})
            if exposure.bbox != cut:  # A handle that ignores the bbox parameter.
                exposure = exposure.subset(cut)
            cutouts.append(exposure.masked_image)
            readers.append(patch)
        merged, n_good, included = merge_masked_images(cutouts, needed)
        if n_good == 0:
            return None
        valid = ~merged.mask.get_plane("NO_DATA")
        result = warp_masked_image(
            merged,
            valid,
            tract_wcs,
            out_bbox,
            wcs,
            interp_length=self.config.interp_length,
            order=self.config.interpolation,
        )
        if result.mask.get_plane("NO_DATA").all():
            return None
        return result, [readers[i] for i in included]


def _lookup(data_id: Any, key: str) -> Any:
    if data_id is None:
        return None
    try:
        return data_id[key]
    except (KeyError, LookupError, TypeError):
        return None


class GetDcrTemplateConnections(
    GetTemplateConnections,
    default_templates={"coadd_name": "dcr", "warp_type_suffix": "", "fakes_type": ""},
):
    """Connections of `GetDcrTemplateTask`: sub-filter DCR coadds and the visit info replace the coadds."""

    visit_info = Input(
        name="{fakes_type}calexp.visitInfo",
        storage_class="VisitInfo",
        dimensions=_DETECTOR_DIMENSIONS,
        doc="Observing conditions of the science visit.",
    )
    dcr_coadds = Input(
        name="{fakes_type}dcrCoadd{warp_type_suffix}",
        storage_class="ExposureF",
        dimensions=(*_COADD_DIMENSIONS, "subfilter"),
        multiple=True,
        defer_load=True,
        doc="DCR sub-filter coadds of the patches that may overlap the detector.",
    )

    def __init__(self, *, config: Any = None) -> None:
        super().__init__(config=config)
        del self.coadd_exposures


class GetDcrTemplateConfig(GetTemplateConfig, pipeline_connections=GetDcrTemplateConnections):  # type: ignore[call-arg]
    """Configuration of `GetDcrTemplateTask`; ``effective_wavelength`` and ``bandwidth`` are required."""

    num_subfilters: int = field(3, "Number of sub-filters of the DCR coadds.", ge=1)
    effective_wavelength: float | None = field(
        None, "Effective wavelength of the band, nm.", optional=False, gt=0.0
    )
    bandwidth: float | None = field(None, "Width of the band, nm.", optional=False, gt=0.0)
    split_subfilters: bool = field(True, "Shift each sub-filter twice (its two halves) and average.")


class GetDcrTemplateTask(GetTemplateTask):
    """Build a visit-matched template from DCR sub-filter coadds (see `chamberlain.tasks.dcr`)."""

    ConfigClass = GetDcrTemplateConfig
    config: GetDcrTemplateConfig
    default_name = "getDcrTemplate"
    _handles_connection = "dcr_coadds"

    def run(  # type: ignore[override]
        self,
        dcr_coadd_handles: Sequence[CoaddHandle],
        bbox: Box,
        wcs: WCS | None,
        visit_info: VisitInfo,
        data_ids: Sequence[Mapping[str, Any]] | None = None,
        physical_filter: str | None = None,
        visit: int | None = None,
    ) -> Struct:
        """Build the DCR-matched coadd of each overlapping patch for ``visit_info``, then as `GetTemplateTask.run`.

        ``data_ids`` must carry ``tract``, ``patch`` and ``subfilter`` (or the
        handles' ``data_id`` must). ``visit`` is accepted for symmetry but not
        attached, as in the reference.

        Raises
        ------
        NoWorkFound
            As for `GetTemplateTask.run`.
        TaskError
            If a patch lacks some sub-filter coadds (`check_patch_list`), or
            for mixed bands or calibrations.
        """
        if wcs is None:
            raise NoWorkFound("The science exposure has no WCS; cannot build a template.")
        groups: dict[tuple[Any, Any], list[tuple[Any, Mapping[str, Any]]]] = defaultdict(list)
        for handle, data_id in self._candidates(dcr_coadd_handles, data_ids):
            if data_id is None or _lookup(data_id, "tract") is None or _lookup(data_id, "patch") is None:
                raise TaskError(
                    f"DCR coadd handle {handle!r} needs a data ID with tract, patch and subfilter."
                )
            groups[(data_id["tract"], data_id["patch"])].append((handle, data_id))
        firsts = [(members[0][0], members[0][1]) for members in groups.values()]
        kept = self.select_overlapping(firsts, bbox, wcs)
        kept_keys = {(p.data_id["tract"], p.data_id["patch"]) for p in kept if p.data_id is not None}
        patch_list = {key: members for key, members in groups.items() if key in kept_keys}
        self.check_patch_list(patch_list)
        matched = self.get_dcr_model(patch_list, visit_info)
        patches = [
            _Patch(handle, handle.data_id, p.tract, p.wcs, p.bbox)
            for handle, p in zip(matched, sorted(kept, key=lambda p: _sort_key(p.data_id)))
        ]
        return self._assemble(patches, bbox, wcs, physical_filter, None)

    def check_patch_list(self, patch_list: Mapping[tuple[Any, Any], Sequence[tuple[Any, Any]]]) -> None:
        """Check that every patch has exactly ``num_subfilters`` sub-filter coadds, one per sub-filter.

        Raises
        ------
        TaskError
            Naming the first patch with a wrong count or wrong sub-filter ids.
        """
        n = self.config.num_subfilters
        for (tract, patch), members in sorted(patch_list.items(), key=lambda kv: _sort_key(kv[0])):
            subfilters = [_lookup(data_id, "subfilter") for _, data_id in members]
            if len(members) != n:
                raise TaskError(
                    f"Tract {tract!r} patch {patch!r} has {len(members)} DCR sub-filter coadd(s) "
                    f"(subfilters {subfilters}); num_subfilters is {n}."
                )
            if None not in subfilters and sorted(subfilters) != list(range(n)):
                raise TaskError(
                    f"Tract {tract!r} patch {patch!r} has DCR sub-filters {sorted(subfilters)}; "
                    f"expected each of {list(range(n))} once."
                )

    def get_dcr_model(
        self,
        patch_list: Mapping[tuple[Any, Any], Sequence[tuple[Any, Mapping[str, Any]]]],
        visit_info: VisitInfo,
    ) -> list[DcrMatchedHandle]:
        """One deferred DCR-matched handle per patch, in (tract, patch) order.

        Nothing is read here; each handle reads its sub-filter cutouts when asked.
        """
        assert self.config.effective_wavelength is not None and self.config.bandwidth is not None
        result = []
        for key in sorted(patch_list, key=_sort_key):
            members = sorted(patch_list[key], key=lambda m: _lookup(m[1], "subfilter") or 0)
            data_id = {k: v for k, v in dict(members[0][1]).items() if k != "subfilter"}
            result.append(
                DcrMatchedHandle(
                    [handle for handle, _ in members],
                    visit_info,
                    self.config.effective_wavelength,
                    self.config.bandwidth,
                    data_id,
                    split_subfilters=self.config.split_subfilters,
                )
            )
        return result


def _sort_key(value: Any) -> tuple[str, ...]:
    if isinstance(value, Mapping):
        value = (value.get("tract"), value.get("patch"))
    return tuple(repr(v) for v in value)
