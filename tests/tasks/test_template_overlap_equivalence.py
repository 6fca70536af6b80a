"""GetTemplate's patch selection and `chamberlain.skymap.patches_overlapping` keep the same patches."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from chamberlain.errors import NoWorkFound
from chamberlain.image import Box
from chamberlain.skymap import RingsSkyMap, patches_overlapping
from chamberlain.tasks._template_sim import tan_wcs
from chamberlain.tasks.get_template import GetTemplateTask


class _HeaderHandle:
    """A coadd handle that only answers the header components the selection reads."""

    def __init__(self, wcs: Any, bbox: Box) -> None:
        self._components = {"wcs": wcs, "bbox": bbox}

    def get(self, *, parameters: Mapping[str, Any] | None = None, component: str | None = None) -> Any:
        assert component is not None, "selection must read headers only"
        return self._components[component]


@pytest.fixture(scope="module")
def skymap() -> RingsSkyMap:
    return RingsSkyMap(num_rings=120, projection="TAN", tract_overlap=1 / 60, pixel_scale=0.2)


def test_task_and_skymap_select_the_same_patches(skymap: RingsSkyMap) -> None:
    task = GetTemplateTask()
    bbox = Box.from_size(0, 0, 4096, 4096)
    x0, y0, x1, y1 = bbox.float_bounds()
    cases = 0
    nonempty = 0
    # A grid of pointings (including one on a tract's centre ring) and rotations.
    for ra, dec, rot in itertools.product([10.0, 10.37, 25.5], [-6.0, 0.0, 0.45, 7.3], [0.0, 17.0, 45.0]):
        wcs = tan_wcs(ra, dec, (2047.5, 2047.5), 0.2, rot)
        cra, cdec = wcs.pixel_to_world_values(np.array([x0, x1, x1, x0]), np.array([y0, y0, y1, y1]))
        corners = np.column_stack([cra, cdec])
        for tract, patches in skymap.find_tract_patch_list(corners):
            cases += 1
            expected = {p.index for p, _ in patches_overlapping(tract, patches, corners)}
            candidates = [
                (_HeaderHandle(tract.wcs, p.outer_bbox), {"tract": tract.tract_id, "patch": p.index})
                for p in patches
            ]
            try:
                kept = task.select_overlapping(candidates, bbox, wcs)
            except NoWorkFound:
                kept = []
            got = {p.data_id["patch"] for p in kept if p.data_id is not None}
            assert got == expected, (ra, dec, rot, tract.tract_id)
            nonempty += bool(expected)
    assert cases >= 36 and nonempty >= 36
