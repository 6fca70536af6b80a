"""Skymap config validation: bad values raise SkyMapError naming the key and the valid range."""

from __future__ import annotations

import pytest

from chamberlain.errors import SkyMapError
from chamberlain.skymap import DiscreteSkyMap, RingsSkyMap, RingsSkyMapConfig

GOOD = {"num_rings": 10, "projection": "TAN", "tract_overlap": 0.5, "pixel_scale": 1.0}


@pytest.mark.parametrize(
    ("key", "value", "pattern"),
    [
        ("num_rings", 0, r"num_rings=0.*> 0"),
        ("num_rings", -3, r"num_rings=-3.*> 0"),
        ("num_rings", "many", r"num_rings='many'"),
        ("ra_start", 360.0, r"ra_start=360\.0.*\[0, 360\)"),
        ("ra_start", -1.0, r"ra_start=-1\.0.*\[0, 360\)"),
        ("tract_overlap", -0.1, r"tract_overlap=-0\.1.*>= 0"),
        ("pixel_scale", 0.0, r"pixel_scale=0\.0.*> 0"),
        ("pixel_scale", float("nan"), r"pixel_scale=nan"),
        ("projection", "CAR", r"projection='CAR'.*TAN, STG"),
        ("rotation", float("inf"), r"rotation=inf.*finite"),
        ("patch_inner_dimensions", [4000, 0], r"patch_inner_dimensions=\[4000, 0\].*> 0"),
        ("patch_inner_dimensions", [4000], r"patch_inner_dimensions=\[4000\]"),
        ("patch_border", -1, r"patch_border=-1.*>= 0"),
        ("tract_builder", "fancy", r"tract_builder='fancy'"),
        ("cell_inner_dimensions", [150, 100], r"cell_inner_dimensions=\[150, 100\].*equal"),
        ("colour", "blue", r"colour='blue'.*valid keys"),
    ],
)
def test_bad_rings_values(key: str, value: object, pattern: str) -> None:
    with pytest.raises(SkyMapError, match=pattern):
        RingsSkyMap({**GOOD, key: value})


def test_missing_num_rings() -> None:
    with pytest.raises(SkyMapError, match="num_rings"):
        RingsSkyMap(projection="TAN")


def test_config_forms_agree() -> None:
    a = RingsSkyMap(GOOD)
    b = RingsSkyMap(**GOOD)
    c = RingsSkyMap(RingsSkyMapConfig(**GOOD))  # type: ignore[arg-type]
    d = RingsSkyMap(GOOD, num_rings=11)
    assert a.hash == b.hash == c.hash
    assert d.config.num_rings == 11 and d.hash != a.hash
    assert a.config.patch_inner_dimensions == (4000, 4000) and a.config.ra_start == 0.0


def test_config_is_frozen() -> None:
    sm = RingsSkyMap(GOOD)
    with pytest.raises(ValueError):
        sm.config.num_rings = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"ra_list": [1.0]}, r"ra_list=\[1\.0\].*2 entries"),
        ({"dec_list": [1.0, 2.0, 3.0]}, r"dec_list=\[1\.0, 2\.0, 3\.0\].*2 entries"),
        ({"dec_list": [1.0, 91.0]}, r"dec_list=91\.0.*\[-90, 90\]"),
        ({"radius_list": [1.0, 0.0]}, r"radius_list=0\.0.*\(0, 90\)"),
        ({"ra_list": [], "dec_list": [], "radius_list": []}, r"radius_list=\[\].*at least one"),
        ({"num_rings": 3}, r"num_rings=3"),
    ],
)
def test_bad_discrete_values(changes: dict[str, object], pattern: str) -> None:
    base = {"ra_list": [1.0, 2.0], "dec_list": [0.0, 0.0], "radius_list": [1.0, 1.0]}
    with pytest.raises(SkyMapError, match=pattern):
        DiscreteSkyMap({**base, **changes})


def test_wrong_config_type() -> None:
    with pytest.raises(SkyMapError, match="42"):
        RingsSkyMap(42)  # type: ignore[arg-type]
