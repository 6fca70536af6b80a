"""YAML skymap config files: rings and discrete, Rubin spellings, fractions, and every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from chamberlain.errors import SkyMapError
from chamberlain.skymap import DiscreteSkyMap, RingsSkyMap
from chamberlain.skymap.config_file import load_skymap_config, skymap_from_config

HSC_HASH = "e29fe9f1008e359f36a3677e7d69cc439376d1e6"

HSC_YAML = """\
type: rings
num_rings: 120
projection: TAN
tract_overlap: 1/60
pixel_scale: 0.168
rotation: 0.0
ra_start: 0.0
patch_inner_dimensions: [4000, 4000]
patch_border: 100
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "skymap.yaml"
    path.write_text(text)
    return path


def test_hsc_rings_v1_file_reproduces_the_rubin_hash(tmp_path: Path) -> None:
    skymap = load_skymap_config(write(tmp_path, HSC_YAML))
    assert isinstance(skymap, RingsSkyMap)
    assert skymap.hash_hex == HSC_HASH
    assert len(skymap) == 18938
    assert skymap.config.tract_overlap == 1.0 / 60.0


def test_rubin_camel_case_keys(tmp_path: Path) -> None:
    text = HSC_YAML.replace("num_rings", "numRings").replace("tract_overlap", "tractOverlap")
    text = text.replace("pixel_scale", "pixelScale").replace("patch_inner_dimensions", "patchInnerDimensions")
    assert load_skymap_config(write(tmp_path, text)).hash_hex == HSC_HASH


def test_discrete_file(tmp_path: Path) -> None:
    text = """\
type: discrete
ra_list: [10.0, 359.5]
dec_list: [-5.0, 30.0]
radius_list: [0.5, 0.25]
projection: TAN
pixel_scale: 0.2
tract_overlap: 0.01
"""
    skymap = load_skymap_config(write(tmp_path, text))
    assert isinstance(skymap, DiscreteSkyMap)
    assert len(skymap) == 2
    assert skymap.config.ra_list == (10.0, 359.5)
    assert skymap == DiscreteSkyMap(
        ra_list=[10.0, 359.5],
        dec_list=[-5.0, 30.0],
        radius_list=[0.5, 0.25],
        projection="TAN",
        pixel_scale=0.2,
        tract_overlap=0.01,
    )


def test_from_mapping_does_not_modify_input() -> None:
    config = {"type": "rings", "num_rings": 10, "tract_overlap": "1/2"}
    skymap = skymap_from_config(config)
    assert skymap.config.tract_overlap == 0.5
    assert config == {"type": "rings", "num_rings": 10, "tract_overlap": "1/2"}


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("num_rings: 3\n", ["'type'", "rings, discrete"]),
        ("type: hexagons\nnum_rings: 3\n", ["type='hexagons'", "rings, discrete"]),
        ("type: rings\nnum_rings: 3\nnum_ringz: 4\n", ["num_ringz", "valid keys"]),
        ("type: rings\nnum_rings: three\n", ["num_rings='three'"]),
        ("type: rings\nnum_rings: 0\n", ["num_rings=0", "> 0"]),
        ("type: rings\nnum_rings: 3\nprojection: XYZ\n", ["projection='XYZ'", "TAN"]),
        ("type: rings\nnum_rings: 3\ntract_overlap: one/60\n", ["tract_overlap='one/60'", "fraction"]),
        ("type: rings\nnum_rings: 3\ntract_overlap: 1/0\n", ["tract_overlap='1/0'", "zero"]),
        ("type: rings\nnum_rings: 3\npatch_inner_dimensions: [4000]\n", ["patch_inner_dimensions"]),
        ("type: rings\nnum_rings: 3\nnumRings: 4\n", ["'num_rings'", "twice"]),
        (
            "type: discrete\nra_list: [1.0]\ndec_list: [1.0, 2.0]\nradius_list: [1.0]\n",
            ["dec_list", "1 entries"],
        ),
        ("type: discrete\nra_list: [1.0]\ndec_list: [1.0]\n", ["radius_list"]),
        ("- type\n- rings\n", ["mapping", "list"]),
        ("", ["mapping", "NoneType"]),
    ],
)
def test_invalid_files_name_the_key(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SkyMapError) as info:
        load_skymap_config(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "type: rings\nnum_rings: [3\n")
    with pytest.raises(SkyMapError, match="not valid YAML at line") as info:
        load_skymap_config(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(SkyMapError, match="Cannot read skymap config file") as info:
        load_skymap_config(path)
    assert str(path) in str(info.value)


def test_type_must_be_a_string() -> None:
    with pytest.raises(SkyMapError, match=r"type=\['rings'\]"):
        skymap_from_config({"type": ["rings"], "num_rings": 3})
