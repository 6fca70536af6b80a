"""Small helpers that fill a test registry with records (imported by registry tests)."""

from __future__ import annotations

import math

import lsst.sphgeom as sg
import numpy as np

from chamberlain.geometry import Timespan
from chamberlain.registry import Registry

DAY = 20240301
DAY_SPAN = Timespan.from_day_obs(DAY)
HOUR = 3_600 * 1_000_000_000

#: A discrete skymap of three small tracts (two adjacent, one across RA = 0) with ~0.17 deg patches:
#: patches are smaller than the htm7 index pixels, so the sky-pixel index proposes many false positives.
TINY_SKYMAP = {
    "ra_list": [10.0, 10.9, 359.8],
    "dec_list": [5.0, 5.3, -30.0],
    "radius_list": [0.5, 0.5, 0.4],
    "projection": "TAN",
    "tract_overlap": 0.05,
    "pixel_scale": 2.0,
    "patch_inner_dimensions": [300, 300],
    "patch_border": 20,
}


def box(ra: float, dec: float, half: float) -> sg.ConvexPolygon:
    """A small square-ish polygon centred on (ra, dec) degrees."""
    import math

    scale = 1.0 / max(math.cos(math.radians(dec)), 1e-3)
    corners = [(-half, -half), (half, -half), (half, half), (-half, half)]
    return sg.ConvexPolygon(
        [sg.UnitVector3d(sg.LonLat.fromDegrees(ra + dx * scale, dec + dy)) for dx, dy in corners]
    )


def add_instrument(registry: Registry, name: str = "Cam", n_detectors: int = 4) -> None:
    """An instrument with detectors, two filters, a day, a group and a visit system."""
    registry.insert_dimension_records("instrument", [{"name": name, "detector_max": 100, "visit_max": 10**6}])
    registry.insert_dimension_records(
        "physical_filter",
        [
            {"instrument": name, "name": f"{name}-r", "band": "r"},
            {"instrument": name, "name": f"{name}-g", "band": "g"},
        ],
    )
    registry.insert_dimension_records(
        "detector",
        [
            {"instrument": name, "id": i, "full_name": f"S{i:02d}", "purpose": "SCIENCE"}
            for i in range(n_detectors)
        ],
    )
    registry.insert_dimension_records("day_obs", [{"instrument": name, "id": DAY, "timespan": DAY_SPAN}])
    registry.insert_dimension_records("group", [{"instrument": name, "name": "g1"}])
    registry.insert_dimension_records("visit_system", [{"instrument": name, "id": 0, "name": "one-to-one"}])


def add_exposures(registry: Registry, ids: list[int], name: str = "Cam", band: str = "r") -> None:
    """Exposures (one hour apart from the start of the day) with matching one-to-one visits."""
    assert DAY_SPAN.begin is not None
    registry.insert_dimension_records(
        "exposure",
        [
            {
                "instrument": name,
                "id": i,
                "obs_id": f"OBS{i}",
                "physical_filter": f"{name}-{band}",
                "group": "g1",
                "day_obs": DAY,
                "exposure_time": 30.0,
                "observation_type": "science",
                "timespan": Timespan(DAY_SPAN.begin + k * HOUR, DAY_SPAN.begin + k * HOUR + 30 * 10**9),
            }
            for k, i in enumerate(ids)
        ],
    )
    registry.insert_dimension_records(
        "visit",
        [
            {
                "instrument": name,
                "id": i,
                "name": f"v{i}",
                "physical_filter": f"{name}-{band}",
                "day_obs": DAY,
            }
            for i in ids
        ],
    )
    registry.insert_dimension_records(
        "visit_definition", [{"instrument": name, "exposure": i, "visit": i} for i in ids]
    )


def random_quad(rng: np.random.Generator, ra: float, dec: float, size: float) -> sg.ConvexPolygon:
    """A rotated, slightly irregular quadrilateral about (ra, dec), degrees (valid near the poles too)."""
    turn = rng.uniform(0, 2 * math.pi)
    points = []
    for k in range(4):
        angle = turn + k * math.pi / 2 + rng.uniform(-0.2, 0.2)
        r = size * rng.uniform(0.7, 1.0)
        d = float(np.clip(dec + r * math.sin(angle), -89.9, 89.9))
        scale = 1.0 / max(math.cos(math.radians(d)), 0.05)
        points.append(sg.UnitVector3d(sg.LonLat.fromDegrees((ra + r * math.cos(angle) * scale) % 360.0, d)))
    return sg.ConvexPolygon.convexHull(points)
