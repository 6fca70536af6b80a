"""A small repository for butler tests: one instrument, detectors, exposures and visits."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "datastore"))
sys.path.insert(0, str(Path(__file__).parents[1] / "registry"))

from _populate import add_exposures, add_instrument

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetType

DIMS = {
    "Exposure": ["instrument", "visit", "detector"],
    "MaskedImage": ["instrument", "visit", "detector"],
    "Image": ["instrument", "visit", "detector"],
    "AstropyTable": ["instrument", "visit"],
    "NumpyArray": ["instrument", "exposure", "detector"],
    "StructuredDataDict": ["instrument", "detector"],
    "StructuredDataList": ["instrument", "detector"],
}

#: The exposure found by ``day_obs=20240301, seq_num=5`` (or ``exposure="OBS10"``).
EXPOSURE_10 = {
    "instrument": "Cam",
    "id": 10,
    "obs_id": "OBS10",
    "physical_filter": "Cam-r",
    "group": "g1",
    "day_obs": 20240301,
    "seq_num": 5,
}


def make_repo(root: Path, database: Any = None, **kwargs: Any) -> Butler:
    """A new repository with records and one dataset type per storage class (``t_<storage class>``)."""
    db = None if database is None or database.backend == "sqlite" else database.url
    namespace = None if db is None else database.namespace
    butler = Butler.create(root, db=db, namespace=namespace, run="run1", **kwargs)
    add_instrument(butler.registry)
    add_exposures(butler.registry, [1, 2, 3])
    butler.registry.insert_dimension_records("exposure", [EXPOSURE_10])
    universe = butler.registry.universe
    for kind, dims in DIMS.items():
        butler.registry.register_dataset_type(DatasetType(f"t_{kind}", dims, kind, universe))
    return butler
