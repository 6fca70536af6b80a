"""The demo runs end to end and leaves a repository with what it says it made."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chamberlain.demo import run


def test_demo_builds_raws_visits_skymap_coadds_and_a_template(tmp_path: Path) -> None:
    lines: list[str] = []
    butler = run(tmp_path / "demo", n_exposures=12, echo=lines.append)
    try:
        registry = butler.registry
        raws = list(butler.query_datasets("raw", "SimCam/raw/all"))
        assert len(raws) == 12 * 9
        visits = registry.fetch_dimension_records("visit")
        science = [r for r in registry.fetch_dimension_records("exposure") if r.can_see_sky]
        assert len(visits) == len(science) > 0
        coadds = list(butler.query_datasets("deepCoadd", "demo/coadds"))
        assert coadds
        # The coadds are exactly the patches the stored overlaps give for the demo's detector.
        patches = {
            (p["tract"], p["patch"])
            for p in butler.overlapping_patches(visit=visits[0].id, detector=4, instrument="SimCam")
        }
        assert {(r.data_id["tract"], r.data_id["patch"]) for r in coadds} == patches
        (template_ref,) = butler.query_datasets("template", "demo/templates")
        template = butler.get(template_ref)
        no_data = template.mask.get_plane_bitmask(["NO_DATA"])
        assert np.mean((template.mask.array & no_data) == 0) > 0.9
        assert np.nanmedian(template.image.array) > 50  # the simulated sky level is 100
        assert any("Done." in line for line in lines)
        assert not (tmp_path / "demo-incoming").exists()
    finally:
        butler.close()
