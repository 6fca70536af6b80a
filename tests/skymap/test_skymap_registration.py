"""register_skymap: records, exact regions, idempotence, conflicts, atomicity, overlaps."""

from __future__ import annotations

import math
from collections.abc import Iterator

import lsst.sphgeom as sg
import numpy as np
import pytest
import sqlalchemy as sa
from _populate import TINY_SKYMAP as TINY
from _populate import random_quad

from chamberlain.errors import SkyMapError
from chamberlain.registry import Registry
from chamberlain.skymap import DiscreteSkyMap, RingsSkyMap
from chamberlain.skymap.registration import register_skymap, stored_skymap_hash

SMALL = {
    "num_rings": 3,
    "projection": "TAN",
    "tract_overlap": 1.0,
    "pixel_scale": 200.0,
    "patch_inner_dimensions": [200, 200],
    "patch_border": 10,
}


TINY_PATCHES = 49 + 49 + 36


@pytest.fixture(scope="module")
def small() -> RingsSkyMap:
    return RingsSkyMap(SMALL)


@pytest.fixture(scope="module")
def tiny() -> DiscreteSkyMap:
    return DiscreteSkyMap(TINY)


@pytest.fixture
def registry(database) -> Iterator[Registry]:
    reg = Registry.create(database.url, namespace=database.namespace)
    try:
        yield reg
    finally:
        reg.close()


def count(registry: Registry, table: str, **where: object) -> int:
    t = registry._tables[table]
    stmt = sa.select(sa.func.count()).select_from(t).where(*[t.c[k] == v for k, v in where.items()])
    return int(registry._db.execute(stmt).scalar_one())


def n_patches(skymap: RingsSkyMap | DiscreteSkyMap) -> int:
    return sum(len(t) for t in skymap)


def test_register_writes_exact_records(registry: Registry, small: RingsSkyMap) -> None:
    assert register_skymap(registry, "small", small) is True
    rec = registry.get_dimension_record("skymap", skymap="small")
    assert rec is not None
    assert rec.hash == small.hash and stored_skymap_hash(registry, "small") == small.hash
    assert rec.tract_max == len(small) == 26
    assert (rec.patch_nx_max, rec.patch_ny_max) == (5, 5)
    assert count(registry, "tract", skymap="small") == len(small)
    assert count(registry, "patch", skymap="small") == n_patches(small) == 650
    # Regions are the exact outer polygons, vertex for vertex.
    tract_table, patch_table = registry._tables["tract"], registry._tables["patch"]
    for tract_id, region in registry._db.execute(sa.select(tract_table.c.id, tract_table.c.region)):
        assert sg.Region.decode(region) == small[tract_id].outer_region
    rows = registry._db.execute(
        sa.select(
            patch_table.c.tract,
            patch_table.c.id,
            patch_table.c.cell_x,
            patch_table.c.cell_y,
            patch_table.c.region,
        )
    ).all()
    for tract_id, patch_id, cx, cy, region in rows[::7]:
        patch = small[tract_id][patch_id]
        assert patch.index == (cx, cy)
        assert sg.Region.decode(region) == patch.outer_region
    # Every patch is in the sky-pixel index.
    index = registry._tables["patch_skypix"]
    indexed = set(registry._db.execute(sa.select(index.c.tract, index.c.patch).distinct()).all())
    assert len(indexed) == 650


def test_register_again_is_a_no_op(registry: Registry, tiny: DiscreteSkyMap) -> None:
    assert register_skymap(registry, "tiny", tiny) is True
    calls: list[tuple[int, int]] = []
    assert (
        register_skymap(registry, "tiny", DiscreteSkyMap(TINY), progress=lambda d, t: calls.append((d, t)))
        is False
    )
    assert calls == []
    assert count(registry, "patch") == TINY_PATCHES
    assert count(registry, "skymap") == 1
    # The same skymap cannot be registered under a second name (hashes are unique).
    with pytest.raises(SkyMapError, match="already registered as 'tiny'.*'tiny_copy'") as info:
        register_skymap(registry, "tiny_copy", tiny)
    assert tiny.hash_hex in str(info.value)
    assert count(registry, "skymap") == 1


def test_different_skymap_same_name_is_refused(registry: Registry, tiny: DiscreteSkyMap) -> None:
    register_skymap(registry, "tiny", tiny)
    other = DiscreteSkyMap({**TINY, "pixel_scale": 2.01})
    with pytest.raises(SkyMapError) as info:
        register_skymap(registry, "tiny", other)
    message = str(info.value)
    assert "'tiny'" in message
    assert tiny.hash_hex in message and other.hash_hex in message
    assert count(registry, "patch") == TINY_PATCHES
    assert registry.get_dimension_record("skymap", skymap="tiny").hash == tiny.hash  # type: ignore[union-attr]


def test_progress_reports_batches(registry: Registry, tiny: DiscreteSkyMap) -> None:
    calls: list[tuple[int, int]] = []
    register_skymap(registry, "tiny", tiny, progress=lambda d, t: calls.append((d, t)), batch_size=20)
    total = 1 + 3 + TINY_PATCHES
    assert calls[0] == (0, total)
    assert calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert len(calls) == 1 + 1 + math.ceil(TINY_PATCHES / 20)  # start, tracts, patch batches


def test_interrupted_registration_leaves_nothing(registry: Registry, tiny: DiscreteSkyMap) -> None:
    class Interrupt(Exception):
        pass

    def progress(done: int, total: int) -> None:
        if done > 60:  # after tracts and a few patch batches were inserted
            raise Interrupt

    with pytest.raises(Interrupt):
        register_skymap(registry, "tiny", tiny, progress=progress, batch_size=20)
    for table in ("skymap", "tract", "patch", "patch_skypix", "tract_skypix"):
        assert count(registry, table) == 0, table
    assert stored_skymap_hash(registry, "tiny") is None
    assert register_skymap(registry, "tiny", tiny) is True
    assert count(registry, "patch") == TINY_PATCHES


def test_discrete_skymap(registry: Registry) -> None:
    skymap = DiscreteSkyMap(
        ra_list=[10.0, 359.8],
        dec_list=[5.0, -30.0],
        radius_list=[0.5, 0.3],
        projection="TAN",
        tract_overlap=0.05,
        pixel_scale=1.0,
        patch_inner_dimensions=[800, 800],
        patch_border=20,
    )
    assert register_skymap(registry, "discrete", skymap) is True
    assert count(registry, "tract") == 2
    assert count(registry, "patch") == n_patches(skymap)
    rec = registry.get_dimension_record("skymap", skymap="discrete")
    assert rec is not None and rec.hash == skymap.hash and rec.tract_max == 2


@pytest.mark.parametrize(
    ("name", "batch_size", "fragment"),
    [("", 10, "''"), (3, 10, "3"), ("ok", 0, "batch_size")],
)
def test_bad_arguments(
    registry: Registry, tiny: DiscreteSkyMap, name: object, batch_size: int, fragment: str
) -> None:
    with pytest.raises(SkyMapError, match=fragment):
        register_skymap(registry, name, tiny, batch_size=batch_size)  # type: ignore[arg-type]
    assert count(registry, "skymap") == 0


# --- overlaps with visits already present ---------------------------------------------------


def test_registration_after_visits_stores_exact_overlaps(registry: Registry, tiny: DiscreteSkyMap) -> None:
    rng = np.random.default_rng(11)
    registry.insert_dimension_records("instrument", [{"name": "Cam", "detector_max": 10, "visit_max": 100}])
    registry.insert_dimension_records(
        "physical_filter", [{"instrument": "Cam", "name": "Cam-r", "band": "r"}]
    )
    registry.insert_dimension_records(
        "detector",
        [{"instrument": "Cam", "id": d, "full_name": f"D{d}", "purpose": "SCIENCE"} for d in range(4)],
    )
    registry.insert_dimension_records("day_obs", [{"instrument": "Cam", "id": 20240101}])
    vdr: dict[tuple[int, int], sg.ConvexPolygon] = {}
    visits = []
    for v in range(6):
        k = v % 3
        ra = TINY["ra_list"][k] + rng.uniform(-0.6, 0.6)
        dec = TINY["dec_list"][k] + rng.uniform(-0.6, 0.6)
        if v == 2:
            ra = 359.95  # straddles RA = 0
        for d in range(4):
            vdr[(v, d)] = random_quad(rng, ra + 0.25 * (d - 1.5), dec, rng.uniform(0.05, 0.3))
        hull = sg.ConvexPolygon.convexHull([p for d in range(4) for p in vdr[(v, d)].getVertices()])
        visits.append(
            {
                "instrument": "Cam",
                "id": v,
                "name": f"v{v}",
                "physical_filter": "Cam-r",
                "day_obs": 20240101,
                "region": hull,
            }
        )
    registry.insert_dimension_records("visit", visits)
    registry.insert_dimension_records(
        "visit_detector_region",
        [{"instrument": "Cam", "visit": v, "detector": d, "region": r} for (v, d), r in vdr.items()],
    )
    register_skymap(registry, "tiny", tiny, batch_size=200)

    patches = {(r["tract"], r["id"]): r["region"] for r in tiny.patch_records("tiny")}
    tracts = {t.tract_id: t.outer_region for t in tiny}
    expected = {
        (v, d, t, p)
        for (v, d), region in vdr.items()
        for (t, p), pr in patches.items()
        if region.overlaps(pr)
    }
    table = registry._tables["visit_detector_region_patch_overlap"]
    got = set(
        registry._db.execute(sa.select(table.c.visit, table.c.detector, table.c.tract, table.c.patch)).all()
    )
    assert got == expected and len(expected) > 24
    table = registry._tables["visit_tract_overlap"]
    got = set(registry._db.execute(sa.select(table.c.visit, table.c.tract)).all())
    assert got == {
        (v["id"], t)
        for v in visits
        for t, tr in tracts.items()
        if v["region"].overlaps(tr)  # type: ignore[union-attr]
    }
