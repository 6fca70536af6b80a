"""GetTemplateTask on simulated coadds: a known sky rendered on patch grids, warped onto a detector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from chamberlain.errors import ConfigError, NoWorkFound, TaskError
from chamberlain.image import Box, Image, Mask, MaskedImage, PhotoCalib
from chamberlain.pipe import InMemoryQuantumContext
from chamberlain.tasks._template_merge import high_variance_mask, merge_masked_images
from chamberlain.tasks._template_sim import FileCoaddHandle, TruthSky, make_patch_coadds, tan_wcs
from chamberlain.tasks.get_template import (
    GetDcrTemplateConfig,
    GetDcrTemplateConnections,
    GetDcrTemplateTask,
    GetTemplateConnections,
    GetTemplateTask,
)

RA0, DEC0 = 150.0, 2.0
NOISE_SIGMA = 1.0  # the coadds' variance is 1


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("coadds")
    tract_wcs = tan_wcs(RA0, DEC0, (299.5, 299.5), 0.2)
    sky = TruthSky.random(RA0, DEC0, 0.03, 40, seed=3)
    coadds = make_patch_coadds(sky, tract_wcs)
    return {"dir": directory, "tract_wcs": tract_wcs, "sky": sky, "coadds": coadds}


def _handles(sim: dict[str, Any]) -> list[FileCoaddHandle]:
    return [FileCoaddHandle.write(sim["dir"], e, d) for e, d in sim["coadds"]]


def _residual(template: Any, sky: TruthSky, wcs: Any, edge: int = 25) -> tuple[np.ndarray, np.ndarray]:
    truth = sky.render(template.bbox, wcs)
    good = ~template.mask.get_plane("NO_DATA")
    inner = np.zeros_like(good)
    inner[edge:-edge, edge:-edge] = True
    return (template.image.array - truth), good & inner


def test_template_matches_truth_on_rotated_detector(sim: dict[str, Any]) -> None:
    handles = _handles(sim)
    det_wcs = tan_wcs(RA0 + 0.002, DEC0 - 0.001, (100.0, 120.0), 0.2, rotation=30.0)
    bbox = Box.from_size(0, 0, 220, 240)
    result = GetTemplateTask().run(handles, bbox, det_wcs, physical_filter="r-sim", visit=42)
    template = result.template
    assert template.bbox == bbox.grown(20)
    residual, use = _residual(template, sim["sky"], det_wcs)
    rms = float(np.sqrt(np.mean(residual[use] ** 2)))
    assert use.sum() > 0.6 * template.bbox.area
    assert rms < 0.01 * NOISE_SIGMA, rms
    assert not template.mask.get_plane("NO_DATA").any()
    assert np.allclose(template.variance.array, 1.0, atol=1e-3)
    assert template.filter is not None
    assert (template.filter.band, template.filter.physical_filter) == ("r", "r-sim")
    assert template.photo_calib == PhotoCalib(1.0)
    assert template.visit_info is not None and template.visit_info.id == 42
    assert template.psf is not None
    assert template.psf.compute_shape().determinant_radius == pytest.approx(4.0, rel=1e-3)
    assert sorted(d["patch"] for d in result.coadd_inputs) == [0, 1, 2, 3]
    assert template.mask.get_plane_bit("HIGH_VARIANCE") >= 0
    assert not template.mask.get_plane("HIGH_VARIANCE").any()


def test_template_reads_only_the_needed_cutouts(sim: dict[str, Any]) -> None:
    handles = _handles(sim)
    det_wcs = tan_wcs(RA0, DEC0, (60.0, 60.0), 0.2, rotation=10.0)
    GetTemplateTask().run(handles, Box.from_size(0, 0, 120, 120), det_wcs)
    read = sum(h.bytes_read for h in handles)
    total = sum(h.file_size for h in handles)
    assert read < 0.5 * total, (read, total)


def test_partial_coverage_gets_no_data(sim: dict[str, Any]) -> None:
    handles = _handles(sim)
    # Detector centred on the tract's left edge: half of it lies outside every patch.
    left_edge = sim["tract_wcs"].pixel_to_world_values(-0.5, 300.0)
    det_wcs = tan_wcs(float(left_edge[0]), float(left_edge[1]), (100.0, 100.0), 0.2, rotation=0.0)
    template = GetTemplateTask().run(handles, Box.from_size(0, 0, 200, 200), det_wcs).template
    no_data = template.mask.get_plane("NO_DATA")
    x = np.arange(template.bbox.min_x, template.bbox.max_x + 1)
    assert no_data[:, x < 95].all()  # west of the tract edge (x < 100 on the detector)
    assert not no_data[:, x > 105].any()
    assert np.all(template.image.array[no_data] == 0.0)
    residual, use = _residual(template, sim["sky"], det_wcs, edge=10)
    assert float(np.sqrt(np.mean(residual[use & (x > 110)[np.newaxis, :]] ** 2))) < 0.01


def test_two_tracts_are_averaged(sim: dict[str, Any], tmp_path: Any) -> None:
    other_wcs = tan_wcs(RA0 + 0.02, DEC0 + 0.01, (299.5, 299.5), 0.2, rotation=5.0)
    other = make_patch_coadds(sim["sky"], other_wcs, tract=1)
    handles = _handles(sim) + [FileCoaddHandle.write(tmp_path, e, d) for e, d in other]
    det_wcs = tan_wcs(RA0 + 0.012, DEC0 + 0.006, (80.0, 80.0), 0.2, rotation=-20.0)
    result = GetTemplateTask().run(handles, Box.from_size(0, 0, 160, 160), det_wcs)
    assert {d["tract"] for d in result.coadd_inputs} == {0, 1}
    residual, use = _residual(result.template, sim["sky"], det_wcs)
    assert float(np.sqrt(np.mean(residual[use] ** 2))) < 0.01


def test_detector_off_every_patch_raises_no_work_found(sim: dict[str, Any]) -> None:
    det_wcs = tan_wcs(RA0 + 1.0, DEC0, (50.0, 50.0), 0.2)
    with pytest.raises(NoWorkFound, match="No patches overlap detector"):
        GetTemplateTask().run(_handles(sim), Box.from_size(0, 0, 100, 100), det_wcs)


def test_missing_wcs_raises_no_work_found(sim: dict[str, Any]) -> None:
    with pytest.raises(NoWorkFound, match="no WCS"):
        GetTemplateTask().run(_handles(sim), Box.from_size(0, 0, 100, 100), None)


def test_mismatched_bands_raise(sim: dict[str, Any]) -> None:
    handles = _handles(sim)
    data_ids = [dict(h.data_id or {}) for h in handles]
    data_ids[2]["band"] = "g"
    det_wcs = tan_wcs(RA0, DEC0, (50.0, 50.0), 0.2)
    with pytest.raises(TaskError, match=r"one band.*'g'.*'r'"):
        GetTemplateTask().run(handles, Box.from_size(0, 0, 100, 100), det_wcs, data_ids=data_ids)


def test_mismatched_photo_calibs_raise(sim: dict[str, Any], tmp_path: Any) -> None:
    exposure, data_id = sim["coadds"][1]
    odd = exposure.copy()
    odd.photo_calib = PhotoCalib(2.5)
    handles = _handles(sim)
    handles[1] = FileCoaddHandle.write(tmp_path, odd, data_id)
    det_wcs = tan_wcs(RA0, DEC0, (50.0, 50.0), 0.2)
    with pytest.raises(TaskError, match=r"photometric calibration.*2\.5"):
        GetTemplateTask().run(handles, Box.from_size(0, 0, 100, 100), det_wcs)


def test_data_ids_must_pair_with_handles(sim: dict[str, Any]) -> None:
    det_wcs = tan_wcs(RA0, DEC0, (50.0, 50.0), 0.2)
    with pytest.raises(TaskError, match="4 coadd handles but 1 data IDs"):
        GetTemplateTask().run(_handles(sim), Box.from_size(0, 0, 100, 100), det_wcs, data_ids=[{}])


def test_merge_uses_inverse_sigma_weights() -> None:
    box = Box.from_size(0, 0, 4, 3)
    a = MaskedImage.zeros(box)
    a.image.array[:] = 1.0
    a.variance.array[:] = 1.0
    a.mask.set_plane("DETECTED", np.eye(3, 4, dtype=bool))
    b = MaskedImage.zeros(Box.from_size(2, 0, 4, 3))
    b.image.array[:] = 4.0
    b.variance.array[:] = 4.0
    b.image.array[0, 0] = np.nan  # pixel (2, 0): only a counts there
    merged, n_good, included = merge_masked_images([a, b], Box.from_size(0, 0, 7, 3))
    assert (n_good, included) == (18, [0, 1])
    assert merged.image.array[1, 3] == pytest.approx((1.0 + 4.0 * 0.5) / 1.5)
    assert merged.variance.array[1, 3] == pytest.approx((1.0 + 4.0 * 0.5) / 1.5)
    assert merged.image.array[0, 2] == pytest.approx(1.0)
    assert merged.image.array[0, 5] == pytest.approx(4.0)
    no_data = merged.mask.get_plane("NO_DATA")
    assert no_data[:, 6].all() and not no_data[:, :6].any()
    assert merged.mask.get_plane("DETECTED")[1, 1]


def test_high_variance_plane_marks_the_noisy_block() -> None:
    masked = MaskedImage(
        Image(np.zeros((256, 256), np.float32)),
        Mask(np.zeros((256, 256), np.uint32)),
        Image(np.ones((256, 256), np.float32)),
    )
    masked.variance.array[128:, 128:] = 10.0
    assert high_variance_mask(masked, threshold=4.0, mask_fraction=0.1, ignored_planes=["NO_DATA"])
    flagged = masked.mask.get_plane("HIGH_VARIANCE")
    assert flagged[200, 200] and not flagged[50, 50] and not flagged[50, 200]
    masked.mask.set_plane("NO_DATA")
    masked.mask.clear_plane("HIGH_VARIANCE")
    assert not high_variance_mask(masked, threshold=4.0, mask_fraction=0.1, ignored_planes=["NO_DATA"])
    assert not masked.mask.get_plane("HIGH_VARIANCE").any()


@dataclass(frozen=True)
class _Ref:
    name: str
    key: tuple[tuple[str, Any], ...]

    @property
    def data_id(self) -> dict[str, Any]:
        return dict(self.key)


def test_run_quantum_with_in_memory_handles(sim: dict[str, Any]) -> None:
    task = GetTemplateTask()
    det_wcs = tan_wcs(RA0, DEC0, (60.0, 60.0), 0.2, rotation=45.0)
    bbox = Box.from_size(0, 0, 120, 120)
    det_key = (("instrument", "Sim"), ("visit", 7), ("detector", 1), ("physical_filter", "r-sim"))
    store: dict[Any, Any] = {_Ref("calexp.bbox", det_key): bbox, _Ref("calexp.wcs", det_key): det_wcs}
    coadd_refs = []
    for exposure, data_id in sim["coadds"]:
        ref = _Ref("goodSeeingCoadd", tuple(data_id.items()))
        store[ref] = exposure
        coadd_refs.append(ref)
    out_ref = _Ref("goodSeeingDiff_templateExp", det_key)
    input_refs, output_refs = task.get_connections().make_quantum_refs(
        {
            "bbox": _Ref("calexp.bbox", det_key),
            "wcs": _Ref("calexp.wcs", det_key),
            "coadd_exposures": coadd_refs,
        },
        {"template": out_ref},
    )
    context = InMemoryQuantumContext(store, input_refs, output_refs)
    task.run_quantum(context, input_refs, output_refs)
    template = store[out_ref]
    assert template.filter.physical_filter == "r-sim" and template.visit_info.id == 7
    residual, use = _residual(template, sim["sky"], det_wcs)
    assert float(np.sqrt(np.mean(residual[use] ** 2))) < 0.01


def test_connections_and_configs() -> None:
    plain = GetTemplateConnections()
    assert plain.coadd_exposures.name == "goodSeeingCoadd"
    assert plain.template.name == "goodSeeingDiff_templateExp"
    assert plain.dimensions == {"instrument", "visit", "detector"}
    dcr = GetDcrTemplateConnections()
    assert "coadd_exposures" not in dcr.connection_names()
    assert dcr.dcr_coadds.name == "dcrCoadd"
    assert "subfilter" in dcr.dcr_coadds.dimensions
    assert dcr.visit_info.name == "calexp.visitInfo"
    with pytest.raises(ConfigError, match="effective_wavelength"):
        GetDcrTemplateTask()
    config = GetDcrTemplateConfig()
    config.effective_wavelength = 620.0
    with pytest.raises(ConfigError, match="bandwidth"):
        config.validate()
    with pytest.raises(ConfigError, match="high_variance_threshold"):
        config.high_variance_threshold = 0.5
