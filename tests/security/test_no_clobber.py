"""A write never replaces the file of another dataset.

Two datasets can map to one file name: detector names ``X Y`` and ``X_Y`` both become ``X_Y`` in
a file name. Before this check the second ``put`` replaced the first dataset's file (and a
rollback then deleted it); now it is refused in one line, and the first dataset keeps its file.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from _security import Repo, refused, run_cli

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetRef, DatasetType
from chamberlain.datastore import FileDataset
from chamberlain.errors import DatastoreError

TYPE = "clobber_test"


def _setup(repo: Repo) -> Butler:
    butler = Butler(repo.root, run="u/test/clobber")
    butler.registry.insert_dimension_records(
        "detector",
        [
            {"instrument": "SimCam", "id": 100, "full_name": "X Y"},
            {"instrument": "SimCam", "id": 101, "full_name": "X_Y"},
        ],
    )
    butler.registry.register_dataset_type(
        DatasetType(TYPE, ["instrument", "detector"], "StructuredDataDict", butler.registry.universe)
    )
    return butler


def test_put_refuses_to_replace_another_datasets_file(repo: Repo) -> None:
    with _setup(repo) as butler:
        first = butler.put({"who": "first"}, TYPE, instrument="SimCam", detector=100)
        path = Path(butler.get_uri(first))
        assert path.is_file() and "X_Y" in path.name
        before = repo.snapshot()
        with pytest.raises(DatastoreError, match="already holds the file of another dataset") as info:
            butler.put({"who": "second"}, TYPE, instrument="SimCam", detector=101)
        assert "\n" not in str(info.value) and TYPE in str(info.value)
        assert repo.snapshot() == before
        assert butler.get(first) == {"who": "first"}


def test_orphan_file_at_the_target_may_be_replaced(repo: Repo) -> None:
    """A file no record names (a put killed before its commit) does not block the next put."""
    with _setup(repo) as butler:
        first = butler.put({"who": "first"}, TYPE, instrument="SimCam", detector=100)
        path = Path(butler.get_uri(first))
        butler.remove_datasets([first], purge=True)
        assert not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"who": "orphan"}')  # as if a put had been killed between its rename and commit
        again = butler.put({"who": "again"}, TYPE, instrument="SimCam", detector=100)
        assert Path(butler.get_uri(again)) == path
        assert butler.get(again) == {"who": "again"}


def test_ingest_of_two_files_to_one_name_refused(repo: Repo, tmp_path: Path) -> None:
    with _setup(repo) as butler:
        sources = []
        refs = []
        for detector in (100, 101):
            src = tmp_path / f"in_{detector}.json"
            src.write_text(f'{{"detector": {detector}}}')
            sources.append(src)
            coord = butler.registry.expand_data_id(instrument="SimCam", detector=detector)
            refs.append(
                DatasetRef(butler.registry.get_dataset_type(TYPE), coord, "u/test/clobber", uuid.uuid4())
            )
        before = repo.snapshot()
        with pytest.raises(DatastoreError, match="maps to the same file"):
            butler.ingest(*[FileDataset(str(s), [r]) for s, r in zip(sources, refs)], transfer="copy")
        after = repo.snapshot()
        assert after[0] == before[0]  # tables
        # Files: the same; only the (empty) directory the first copy went to may remain.
        assert {k: v for k, v in after[1].items() if v[0] != "dir"} == {
            k: v for k, v in before[1].items() if v[0] != "dir"
        }


@pytest.mark.parametrize(
    "target", ["chamberlain.sqlite3", "chamberlain.yaml", "new.yaml", "SimCam/raw/x.yaml"]
)
def test_export_into_the_repository_refused(repo: Repo, target: str) -> None:
    """``export REPO REPO/chamberlain.sqlite3`` replaced the registry database with YAML."""
    before = repo.snapshot()
    refused(run_cli("export", repo.root, repo.root / target), "inside the repository", "export")
    assert repo.snapshot() == before
    # A relative spelling from another directory is the same file.
    refused(run_cli("export", repo.root, f"{repo.root}/./SimCam/../{target}"), "inside the repository")
    assert repo.snapshot() == before


@pytest.mark.parametrize("mode", ["move", "symlink", "hardlink", None])
def test_ingest_never_takes_another_datasets_file(repo: Repo, mode: str | None) -> None:
    """Moving (or linking, or taking in place) a file a record names left that dataset without it."""
    recorded = sorted((repo.root / "SimCam").rglob("*.fits"))[0]
    before = repo.snapshot()
    args = ["ingest-raws", repo.root, recorded, "--run", "other/run"]
    if mode is not None:
        args += ["--transfer", mode]
    result = run_cli(*args)
    assert result.exit_code == 1
    assert "already the file of a dataset" in result.output + result.stderr
    assert recorded.is_file()
    after = repo.snapshot()
    assert {k: v for k, v in after[1].items() if v[0] != "dir"} == {
        k: v for k, v in before[1].items() if v[0] != "dir"
    }
    assert run_cli("verify", repo.root).stdout.strip() == "OK"
    # A copy is a new, independent file, and is allowed.
    assert (
        run_cli("ingest-raws", repo.root, recorded, "--run", "copy/run", "--transfer", "copy").exit_code == 0
    )


def test_preexisting_file_at_the_target_is_not_overwritten(tmp_path: Path, simulated_raws: Path) -> None:
    """A file listed as not owned (create --allow-existing-files) is never replaced by an ingest."""
    root = tmp_path / "shared"
    raws = tmp_path / "raws"
    shutil.copytree(simulated_raws, raws)
    # Ingest once elsewhere to learn where each raw lands, then plant the user's file there.
    probe = tmp_path / "probe"
    assert run_cli("create", probe).exit_code == 0
    assert run_cli("ingest-raws", probe, raws, "--transfer", "copy").exit_code == 0
    landed = sorted(p.relative_to(probe) for p in (probe / "SimCam").rglob("*.fits"))[0]
    mine = root / landed
    mine.parent.mkdir(parents=True)
    mine.write_text("MY PRECIOUS\n")
    assert run_cli("create", root, "--allow-existing-files").exit_code == 0
    result = run_cli("ingest-raws", root, raws, "--transfer", "copy")
    assert result.exit_code == 1
    assert "before the repository was made" in result.output + result.stderr
    assert mine.read_text() == "MY PRECIOUS\n"
