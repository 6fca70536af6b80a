"""Butler put/get/find/exists/remove on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fitsio
import pytest
from _butler_setup import DIMS, make_repo
from _datastore_data import SAMPLES, assert_same, assert_same_wcs, make_exposure
from astropy.io import fits as afits

from chamberlain.butler import Butler, ButlerUsageError, DatasetExistence
from chamberlain.errors import (
    CollectionTypeError,
    ConfigError,
    ConflictingDefinitionError,
    DataIdValueError,
    DatasetNotFoundError,
    DimensionNameError,
    FormatterError,
    MissingCollectionError,
    OrphanedRecordError,
    ReadOnlyError,
    UnknownComponentError,
)
from chamberlain.image import Box

DATA_IDS = {
    ("instrument", "visit", "detector"): {"instrument": "Cam", "visit": 1, "detector": 2},
    ("instrument", "visit"): {"instrument": "Cam", "visit": 2},
    ("instrument", "exposure", "detector"): {"instrument": "Cam", "exposure": 3, "detector": 1},
    ("instrument", "detector"): {"instrument": "Cam", "detector": 0},
}


def data_id(kind: str) -> dict[str, Any]:
    return DATA_IDS[tuple(DIMS[kind])]


@pytest.fixture
def butler(tmp_path: Path, database: Any) -> Any:
    b = make_repo(tmp_path / "repo", database)
    yield b
    b.close()


def test_round_trip_every_storage_class(butler: Butler) -> None:
    for kind, make in SAMPLES.items():
        obj = make()
        ref = butler.put(obj, f"t_{kind}", data_id(kind))
        assert_same(kind, obj, butler.get(f"t_{kind}", data_id(kind)))
        assert_same(kind, obj, butler.get(ref))
    assert butler.verify().ok


def test_exposure_file_opens_elsewhere_and_components(butler: Butler) -> None:
    exposure = make_exposure()
    ref = butler.put(exposure, "t_Exposure", instrument="Cam", visit=1, detector=2)
    path = butler.get_uri(ref)
    assert path.endswith(".fits") and path.startswith(str(butler.datastore.root))
    with afits.open(path) as hdus:
        assert [h.name for h in hdus[1:]] == ["IMAGE", "MASK", "VARIANCE"]
    assert fitsio.read_header(path, ext=0)["EXPTIME"] == 30.0
    dims = {"instrument": "Cam", "visit": 1, "detector": 2}
    assert_same_wcs(butler.get("t_Exposure.wcs", dims), exposure.wcs)
    assert butler.get("t_Exposure.bbox", dims) == exposure.bbox
    assert butler.get("t_Exposure.visitInfo", dims) == exposure.visit_info
    assert butler.get("t_Exposure.photo_calib", dims) == exposure.photo_calib
    assert butler.get("t_Exposure.psf", dims) == exposure.psf
    assert butler.get("t_Exposure.metadata", dims) == exposure.metadata
    assert butler.get("t_Exposure.mask", dims).array.tobytes() == exposure.mask.array.tobytes()
    with pytest.raises(UnknownComponentError, match="'nope'"):
        butler.get("t_Exposure.nope", dims)
    masked = butler.get("t_Exposure", dims, storage_class="MaskedImage")
    assert masked.bbox == exposure.bbox and not hasattr(masked, "wcs")


def test_deferred_handle_reads_nothing_until_asked(butler: Butler) -> None:
    exposure = make_exposure()
    butler.put(exposure, "t_Exposure", instrument="Cam", visit=1, detector=2)
    handle = butler.get_deferred("t_Exposure", instrument="Cam", visit=1, detector=2)
    Path(butler.get_uri(handle.ref)).rename(butler.get_uri(handle.ref) + ".away")
    handle2 = butler.get_deferred("t_Exposure", instrument="Cam", visit=1, detector=2)  # no read: no error
    Path(butler.get_uri(handle.ref) + ".away").rename(butler.get_uri(handle.ref))
    box = Box.from_size(110, 210, 10, 20)
    cutout = handle2.get(parameters={"bbox": box})
    assert cutout.bbox == box
    assert cutout.image.array.tobytes() == exposure[box].image.array.tobytes()
    assert handle.get(component="bbox") == exposure.bbox
    assert handle.get(component="image", parameters={"bbox": box}).array.shape == (20, 10)
    assert handle.data_id["visit"] == 1


def test_friendly_data_ids(butler: Butler) -> None:
    butler.put({"x": 1}, "t_StructuredDataDict", instrument="Cam", detector="S03")
    assert butler.get("t_StructuredDataDict", instrument="Cam", detector=3) == {"x": 1}
    butler.put([1], "t_StructuredDataList", {"instrument": "Cam", "detector.full_name": "S01"})
    assert butler.get("t_StructuredDataList", instrument="Cam", detector=1) == [1]
    import numpy as np

    butler.put(np.ones(2), "t_NumpyArray", {"instrument": "Cam", "exposure.obs_id": "OBS2", "detector": 0})
    assert butler.find_dataset("t_NumpyArray", instrument="Cam", exposure=2, detector=0) is not None
    butler.put(np.zeros(2), "t_NumpyArray", instrument="Cam", day_obs=20240301, seq_num=5, detector=0)
    ref = butler.find_dataset("t_NumpyArray", instrument="Cam", exposure=10, detector=0)
    assert ref is not None
    assert butler.get("t_NumpyArray", instrument="Cam", exposure="OBS10", detector="S00").tolist() == [0, 0]
    with pytest.raises(DataIdValueError, match="'S99'"):
        butler.get("t_StructuredDataDict", instrument="Cam", detector="S99")
    with pytest.raises(DataIdValueError, match="seq_num=77"):
        butler.get("t_NumpyArray", instrument="Cam", day_obs=20240301, seq_num=77, detector=0)
    with pytest.raises(DimensionNameError, match="'colour'"):
        butler.get("t_StructuredDataDict", instrument="Cam", detector=0, colour="red")
    with pytest.raises(DimensionNameError, match="'shoe_size'"):
        butler.get("t_StructuredDataDict", {"instrument": "Cam", "detector.shoe_size": 3})


def test_default_data_id_values(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo").close()
    with Butler(tmp_path / "repo", run="run1", instrument="Cam") as butler:
        butler.put({"a": 1}, "t_StructuredDataDict", detector=1)
        assert butler.get("t_StructuredDataDict", detector="S01") == {"a": 1}


def test_conflicts_and_not_found(butler: Butler) -> None:
    butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
    with pytest.raises(ConflictingDefinitionError):
        butler.put({"a": 2}, "t_StructuredDataDict", instrument="Cam", detector=0)
    assert butler.get("t_StructuredDataDict", instrument="Cam", detector=0) == {"a": 1}
    with pytest.raises(DatasetNotFoundError, match="detector: 1"):
        butler.get("t_StructuredDataDict", instrument="Cam", detector=1)
    with pytest.raises(DataIdValueError):
        butler.put({"a": 2}, "t_StructuredDataDict", instrument="Cam", detector=55)
    with pytest.raises(FormatterError, match="list"):
        butler.put([1], "t_StructuredDataDict", instrument="Cam", detector=2)
    assert butler.verify().ok  # failed puts left no file


def test_exists_and_find(butler: Butler) -> None:
    ref = butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
    assert butler.exists("t_StructuredDataDict", instrument="Cam", detector=0) == DatasetExistence.VERIFIED
    assert butler.exists(ref)
    assert not butler.exists("t_StructuredDataDict", instrument="Cam", detector=1)
    assert butler.find_dataset("t_StructuredDataDict", instrument="Cam", detector=0) == ref
    Path(butler.get_uri(ref)).unlink()
    existence = butler.exists(ref)
    assert existence == DatasetExistence.KNOWN and existence  # records, file not found
    assert butler.exists(ref, full_check=True) != DatasetExistence.VERIFIED
    predicted = butler.get_uri("t_StructuredDataDict", instrument="Cam", detector=3, predict=True)
    assert predicted.endswith("#predicted") and "S03" in predicted


def test_remove_datasets_modes(butler: Butler) -> None:
    a = butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
    b = butler.put({"b": 1}, "t_StructuredDataDict", instrument="Cam", detector=1)
    path_a, path_b = butler.get_uri(a), butler.get_uri(b)
    butler.registry.register_collection("tagged")
    butler.registry.associate("tagged", [a, b])
    butler.remove_datasets([a], disassociate=True, tags=["tagged"])
    assert (
        butler.find_dataset("t_StructuredDataDict", instrument="Cam", detector=0, collections="tagged")
        is None
    )
    assert Path(path_a).exists()
    butler.remove_datasets([a], unstore=True)
    assert not Path(path_a).exists()
    assert butler.exists(a) == DatasetExistence.RECORDED
    butler.remove_datasets([b], purge=True)
    assert not Path(path_b).exists() and butler.exists(b) == DatasetExistence.UNRECOGNIZED
    assert butler.verify().ok
    with pytest.raises(ButlerUsageError, match="purge"):
        butler.remove_datasets([a])
    with pytest.raises(ButlerUsageError, match="tags"):
        butler.remove_datasets([a], disassociate=True)


def test_remove_runs(butler: Butler) -> None:
    ref = butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
    path = Path(butler.get_uri(ref))
    with pytest.raises(MissingCollectionError, match="'run2'"):
        butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0, run="run2")
    butler.registry.register_run("run2")
    other = butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0, run="run2")
    butler.registry.register_collection("chain", "CHAINED")
    butler.registry.set_collection_chain("chain", ["run1"])
    with pytest.raises(OrphanedRecordError, match="chain"):
        butler.remove_runs(["run1"])
    butler.remove_runs(["run1"], unlink_from_chains=True)
    assert not path.exists()
    assert butler.exists(ref) == DatasetExistence.UNRECOGNIZED
    assert butler.get(other, collections="run2") == {"a": 1}
    assert butler.verify().ok
    butler.registry.register_collection("tag2")
    with pytest.raises(CollectionTypeError, match="'tag2' is TAGGED"):
        butler.remove_runs("tag2")


def test_open_read_only_and_config_errors(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo").close()
    with Butler(tmp_path / "repo", collections="run1") as butler:
        assert not butler.writeable
        with pytest.raises(ReadOnlyError, match="read-only"):
            butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0, run="run1")
    with Butler(tmp_path / "repo") as butler, pytest.raises(MissingCollectionError, match="collections"):
        butler.get("t_StructuredDataDict", instrument="Cam", detector=0)
    with pytest.raises(ConfigError, match=r"already exists \(it has chamberlain.yaml\)"):
        Butler.create(tmp_path / "repo")
    with pytest.raises(ConfigError, match="not a Chamberlain repository"):
        Butler(tmp_path)


def test_formatter_and_template_overrides(tmp_path: Path) -> None:
    butler = make_repo(
        tmp_path / "repo",
        formatters={"t_StructuredDataDict": "yaml"},
        templates={"StructuredDataList": "{run}/lists/{instrument}_{detector}"},
        checksum=True,
    )
    with butler:
        a = butler.put({"a": [1, 2]}, "t_StructuredDataDict", instrument="Cam", detector=0)
        b = butler.put([3], "t_StructuredDataList", instrument="Cam", detector=0)
        assert butler.get_uri(a).endswith(".yaml")
        assert butler.get_uri(b) == f"{butler.datastore.root}/run1/lists/Cam_0.json"
        assert butler.get(a) == {"a": [1, 2]}
        assert len(butler.datastore.stored_files(a)[0].checksum or "") == 128
    with Butler(tmp_path / "repo", collections="run1") as reopened:
        assert reopened.get("t_StructuredDataDict", instrument="Cam", detector=0) == {"a": [1, 2]}
