"""Formatters and storage classes: round trips, components, parameters, partial reads, errors."""

from __future__ import annotations

from pathlib import Path

import fitsio
import numpy as np
import pytest
from _datastore_data import SAMPLES, assert_same, assert_same_wcs, bytes_read, make_exposure, make_table
from astropy.io import fits as afits

from chamberlain.datastore import get_formatter, get_storage_class
from chamberlain.datastore.storage_classes import convert
from chamberlain.errors import FormatterError, UnknownComponentError
from chamberlain.image import Box, Exposure, MaskedImage


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_round_trip_every_storage_class(tmp_path: Path, kind: str) -> None:
    storage_class = get_storage_class(kind)
    formatter = get_formatter(storage_class.formatter)
    obj = SAMPLES[kind]()
    assert storage_class.can_accept(obj)
    path = str(tmp_path / f"x{formatter.extension}")
    formatter.write(obj, path)
    assert_same(kind, obj, formatter.read(path))


@pytest.mark.parametrize("kind", ["StructuredDataDict", "StructuredDataList"])
def test_yaml_round_trip(tmp_path: Path, kind: str) -> None:
    obj = SAMPLES[kind]()
    formatter = get_formatter("yaml")
    formatter.write(obj, str(tmp_path / "x.yaml"))
    assert formatter.read(str(tmp_path / "x.yaml")) == obj
    assert (tmp_path / "x.yaml").read_text().lstrip()[0] in "-a"  # block YAML, not JSON


def test_exposure_file_has_documented_layout(tmp_path: Path) -> None:
    path = str(tmp_path / "e.fits")
    get_formatter("fits_exposure").write(make_exposure(), path)
    with afits.open(path) as hdus:
        assert [h.name for h in hdus[1:4]] == ["IMAGE", "MASK", "VARIANCE"]
        assert hdus[0].header["EXPTIME"] == 30.0
        assert hdus[2].header["MP_STREAK"] >= 0
        assert hdus[1].header["LTV1"] == -100 and hdus[1].header["LTV2"] == -200
    with fitsio.FITS(path) as fits:
        assert fits[1].get_extname() == "IMAGE" and fits[3].get_extname() == "VARIANCE"
        assert fits[0].read_header()["PHOTCALM"] == 0.3


def test_table_file_is_a_binary_table(tmp_path: Path) -> None:
    path = str(tmp_path / "t.fits")
    get_formatter("fits_table").write(make_table(), path)
    with afits.open(path) as hdus:
        assert isinstance(hdus[1], afits.BinTableHDU) and hdus[1].name == "TABLE"
    assert list(fitsio.read(path, ext=1)["id"]) == [0, 1, 2, 3, 4]


def test_table_components_and_columns(tmp_path: Path) -> None:
    path = str(tmp_path / "t.fits")
    formatter = get_formatter("fits_table")
    formatter.write(make_table(), path)
    assert formatter.read(path, component="rowcount") == 5
    assert formatter.read(path, component="columns") == ["id", "flux", "name"]
    part = formatter.read(path, parameters={"columns": ["flux"]})
    assert part.colnames == ["flux"] and part["flux"].unit == "nJy"
    with pytest.raises(FormatterError, match="nope"):
        formatter.read(path, parameters={"columns": ["nope"]})


def test_numpy_components_read_only_the_header(tmp_path: Path) -> None:
    path = str(tmp_path / "a.npy")
    formatter = get_formatter("npy")
    formatter.write(np.zeros((300, 400)), path)
    nbytes, shape = bytes_read(lambda: formatter.read(path, component="shape"))
    assert shape == (300, 400)
    assert nbytes < 10_000  # the data is 960 kB
    assert formatter.read(path, component="dtype") == np.float64


@pytest.fixture(scope="module")
def big_exposure_path(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Exposure]:
    exposure = make_exposure((1024, 1024))
    path = str(tmp_path_factory.mktemp("big") / "big.fits")
    get_formatter("fits_exposure").write(exposure, path)
    return path, exposure


@pytest.mark.parametrize(
    "component", ["wcs", "bbox", "visit_info", "photo_calib", "psf", "metadata", "filter"]
)
def test_header_components_read_no_pixels(big_exposure_path: tuple[str, Exposure], component: str) -> None:
    path, exposure = big_exposure_path
    storage_class = get_storage_class("Exposure")
    nbytes, value = bytes_read(
        lambda: get_formatter("fits_exposure").read(path, component=storage_class.component(component))
    )
    assert nbytes < 100_000, f"{component} read {nbytes} bytes; the pixels are 12 MB"
    if component == "wcs":
        assert_same_wcs(value, exposure.wcs)
    else:
        assert value == getattr(exposure, component)


@pytest.mark.parametrize("component", ["image", "mask", "variance"])
def test_pixel_components_read_one_hdu(big_exposure_path: tuple[str, Exposure], component: str) -> None:
    path, exposure = big_exposure_path
    nbytes, value = bytes_read(lambda: get_formatter("fits_exposure").read(path, component=component))
    one_hdu = 1024 * 1024 * 4
    assert one_hdu <= nbytes < 1.2 * one_hdu
    assert value.array.tobytes() == getattr(exposure, component).array.tobytes()


def test_bbox_reads_only_the_rows_it_needs(big_exposure_path: tuple[str, Exposure]) -> None:
    path, exposure = big_exposure_path
    box = Box.from_size(300, 400, 100, 100)
    nbytes, cutout = bytes_read(lambda: get_formatter("fits_exposure").read(path, parameters={"bbox": box}))
    assert cutout.bbox == box
    np.testing.assert_array_equal(cutout.image.array, exposure[box].image.array)
    np.testing.assert_array_equal(cutout.mask.array, exposure[box].mask.array)
    # 100 rows of 3 HDUs, 4 kB each row: ~1.2 MB at most, against 12 MB for the whole file.
    assert nbytes < 3 * 110 * 1024 * 4 + 200_000


def test_component_aliases_and_unknown_components() -> None:
    storage_class = get_storage_class("ExposureF")
    assert storage_class.name == "Exposure"
    assert storage_class.component("photoCalib") == "photo_calib"
    with pytest.raises(UnknownComponentError, match="'nope'.*valid components"):
        storage_class.component("nope")
    with pytest.raises(FormatterError, match="'scale'"):
        storage_class.check_parameters({"scale": 2})


def test_unknown_names_raise_with_choices() -> None:
    with pytest.raises(FormatterError, match="'NoSuchClass'.*known storage classes"):
        get_storage_class("NoSuchClass")
    with pytest.raises(FormatterError, match="'nope'.*known formatters.*'json'"):
        get_formatter("nope")


def test_formatters_reject_wrong_types(tmp_path: Path) -> None:
    with pytest.raises(FormatterError, match="Exposure"):
        get_formatter("fits_exposure").write({"a": 1}, str(tmp_path / "x.fits"))
    with pytest.raises(FormatterError, match="set"):
        get_formatter("json").write({1, 2}, str(tmp_path / "x.json"))
    with pytest.raises(FormatterError, match="numpy arrays"):
        get_formatter("npy").write([1, 2], str(tmp_path / "x.npy"))


def test_conversion_between_storage_classes() -> None:
    exposure = make_exposure()
    masked = convert(exposure, get_storage_class("Exposure"), get_storage_class("MaskedImage"))
    assert isinstance(masked, MaskedImage) and masked is exposure.masked_image
    with pytest.raises(FormatterError, match="'StructuredDataDict'"):
        convert(exposure, get_storage_class("Exposure"), get_storage_class("StructuredDataDict"))
