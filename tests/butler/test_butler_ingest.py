"""Butler.ingest with every transfer mode, checksums and verify."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import uuid_utils.compat
from _butler_setup import make_repo

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetRef
from chamberlain.datastore import FileDataset
from chamberlain.dimensions import DataCoordinate
from chamberlain.errors import ConflictingDefinitionError, FileIntegrityError, IngestError


def prepared(butler: Butler, directory: Path, n: int = 2, run: str = "run1") -> list[FileDataset]:
    directory.mkdir(parents=True, exist_ok=True)
    dt = butler.registry.get_dataset_type("t_StructuredDataDict")
    out = []
    for i in range(n):
        path = directory / f"file{i}.json"
        path.write_text(json.dumps({"i": i}))
        coord = DataCoordinate.standardize({"instrument": "Cam", "detector": i}, dimensions=dt.dimensions)
        out.append(FileDataset(path, DatasetRef(dt, coord, run, uuid_utils.compat.uuid7())))
    return out


@pytest.fixture
def butler(tmp_path: Path) -> Any:
    b = make_repo(tmp_path / "repo", checksum=True)
    yield b
    b.close()


@pytest.mark.parametrize(
    "mode", ["copy", "move", "hardlink", "symlink", "relsymlink", "link", "auto", "direct"]
)
def test_transfer_modes(butler: Butler, tmp_path: Path, mode: str) -> None:
    files = prepared(butler, tmp_path / "outside")
    refs = butler.ingest(*files, transfer=mode)
    assert len(refs) == 2
    for i, fd in enumerate(files):
        assert butler.get("t_StructuredDataDict", instrument="Cam", detector=i) == {"i": i}
        uri = butler.get_uri(fd.ref_list[0])
        source = Path(fd.path)
        if mode == "direct":
            assert uri == str(source)
        else:
            assert uri.startswith(str(butler.datastore.root)) and uri.endswith(".json")
        assert source.exists() == (mode != "move")
        if mode in ("symlink", "relsymlink"):
            assert os.path.islink(uri)
            assert os.path.isabs(os.readlink(uri)) == (mode == "symlink")
        if mode in ("hardlink", "link"):
            assert os.stat(uri).st_ino == source.stat().st_ino
        if mode in ("copy", "auto"):
            assert not os.path.islink(uri) and os.stat(uri).st_ino != source.stat().st_ino
    assert butler.verify().ok
    butler.remove_datasets(refs, purge=True)
    # Files ingested with direct belong to their archive: never deleted.
    assert all(Path(f.path).exists() for f in files) == (mode not in ("move",))


def test_in_place_ingest_and_auto_inside_root(butler: Butler) -> None:
    files = prepared(butler, butler.datastore.root / "incoming")
    butler.ingest(*files, transfer=None)
    assert butler.get_uri(files[0].ref_list[0]) == str(Path(files[0].path))
    assert butler.verify().ok


def test_ingest_errors(butler: Butler, tmp_path: Path) -> None:
    files = prepared(butler, tmp_path / "src")
    with pytest.raises(IngestError, match="'teleport'.*valid modes"):
        butler.ingest(*files, transfer="teleport")
    os.remove(files[1].path)
    with pytest.raises(IngestError, match="file1.json"):
        butler.ingest(*files, transfer="copy")
    assert butler.find_dataset("t_StructuredDataDict", instrument="Cam", detector=0) is None
    assert butler.verify().ok  # the copy of file0 was undone
    with pytest.raises(ConflictingDefinitionError, match="more than once"):
        butler.ingest(files[0], files[0], transfer="copy")
    with pytest.raises(IngestError, match="not inside the datastore root"):
        butler.ingest(files[0], transfer=None)


def test_ingest_skip_existing_and_duplicates(butler: Butler, tmp_path: Path) -> None:
    files = prepared(butler, tmp_path / "src")
    butler.ingest(files[0], transfer="copy")
    with pytest.raises(ConflictingDefinitionError):
        butler.ingest(*files, transfer="copy")
    refs = butler.ingest(*files, transfer="copy", skip_existing=True)
    assert [r.id for r in refs] == [files[1].ref_list[0].id]


def test_checksum_and_size_mismatch_detection(butler: Butler, tmp_path: Path) -> None:
    ref = butler.put({"v": 1234}, "t_StructuredDataDict", instrument="Cam", detector=0)
    path = Path(butler.get_uri(ref))
    path.write_text(path.read_text().replace("1234", "4321"))  # same size, different content
    report = butler.verify()
    assert report.checksum_mismatches == [(ref.id, str(path.relative_to(butler.datastore.root)))]
    assert "checksum" in report.summary()
    path.write_text(json.dumps({"v": 1}))  # different size
    report = butler.verify()
    assert report.size_mismatches and report.size_mismatches[0][0] == ref.id
    with pytest.raises(FileIntegrityError, match="bytes but"):
        butler.get(ref)


def test_verify_reports_and_fixes(butler: Butler) -> None:
    ref = butler.put({"v": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
    gone = butler.put({"v": 2}, "t_StructuredDataDict", instrument="Cam", detector=1)
    os.remove(butler.get_uri(gone))
    stray = butler.datastore.root / "run1" / "stray.txt"
    stray.write_text("x")
    report = butler.verify()
    assert report.orphan_files == ["run1/stray.txt"]
    assert [m[0] for m in report.missing_files] == [gone.id]
    fixed = butler.verify(fix=True)
    assert fixed.fixed and not stray.exists()
    assert butler.verify().ok
    assert butler.get(ref) == {"v": 1}
