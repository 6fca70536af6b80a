"""Registry and datastore stay consistent under exceptions, rollbacks and a killed process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _butler_setup import make_repo

from chamberlain.butler import Butler


class Boom(Exception):
    pass


def files_under(root: Path) -> set[str]:
    skip = {"chamberlain.yaml", "chamberlain.sqlite3", "chamberlain.sqlite3-wal", "chamberlain.sqlite3-shm"}
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name not in skip}


@pytest.fixture
def butler(tmp_path: Path, database: Any) -> Any:
    b = make_repo(tmp_path / "repo", database)
    yield b
    b.close()


def test_exception_after_two_puts_leaves_nothing(butler: Butler) -> None:
    before = files_under(butler.datastore.root)
    with pytest.raises(Boom), butler.transaction():
        a = butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
        b = butler.put([2], "t_StructuredDataList", instrument="Cam", detector=1)
        assert Path(butler.get_uri(a)).exists() and Path(butler.get_uri(b)).exists()
        raise Boom
    assert files_under(butler.datastore.root) == before
    assert butler.find_dataset("t_StructuredDataDict", instrument="Cam", detector=0) is None
    assert butler.registry.get_datasets([a.id, b.id]) == []
    assert butler.verify().ok


def test_rolled_back_delete_keeps_the_files(butler: Butler) -> None:
    ref = butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
    path = Path(butler.get_uri(ref))
    with pytest.raises(Boom), butler.transaction():
        butler.remove_datasets([ref], purge=True)
        assert path.exists()  # files go only after commit
        raise Boom
    assert path.exists()
    assert butler.get(ref) == {"a": 1}
    assert butler.verify().ok


def test_committed_delete_inside_a_transaction_removes_after_commit(butler: Butler) -> None:
    ref = butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
    path = Path(butler.get_uri(ref))
    with butler.transaction():
        butler.remove_datasets([ref], unstore=True)
        assert path.exists()
    assert not path.exists()
    assert butler.verify().ok


def test_failed_transfer_rolls_back_earlier_puts(butler: Butler, tmp_path: Path) -> None:
    with pytest.raises(Boom), butler.transaction():
        butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
        with butler.transaction():  # nested blocks join the outer one
            butler.put({"a": 2}, "t_StructuredDataDict", instrument="Cam", detector=1)
        raise Boom
    assert butler.verify().ok
    assert files_under(butler.datastore.root) == set()


def test_trash_left_by_a_crash_is_reported_and_emptied(butler: Butler) -> None:
    ref = butler.put({"a": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
    path = Path(butler.get_uri(ref))
    empty = butler.datastore.empty_trash
    butler.datastore.empty_trash = lambda: []  # type: ignore[method-assign]  # the "crash"
    butler.remove_datasets([ref], purge=True)
    butler.datastore.empty_trash = empty  # type: ignore[method-assign]
    assert path.exists()
    report = butler.verify()
    assert report.pending_trash == [str(path.relative_to(butler.datastore.root))]
    butler.verify(fix=True)
    assert not path.exists() and butler.verify().ok


KILL_SCRIPT = """
import os, signal, sys
from chamberlain.butler import Butler
butler = Butler(sys.argv[1], run="run1")
insert = butler.datastore.records.insert
def insert_then_die(rows, **kw):
    os.kill(os.getpid(), signal.SIGKILL)  # the file is written, the transaction not committed
butler.datastore.records.insert = insert_then_die
butler.put({"killed": True}, "t_StructuredDataDict", instrument="Cam", detector=0)
"""


def test_sigkill_between_file_write_and_commit(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo").close()
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILL_SCRIPT), str(tmp_path / "repo")], check=False
    )
    assert proc.returncode == -signal.SIGKILL
    with Butler(tmp_path / "repo", run="run1") as butler:
        assert butler.find_dataset("t_StructuredDataDict", instrument="Cam", detector=0) is None
        report = butler.verify()
        assert len(report.orphan_files) == 1 and report.orphan_files[0].endswith("_Cam_S00_run1.json")
        orphan = butler.datastore.root / report.orphan_files[0]
        # The next write to the same path overwrites it safely...
        ref = butler.put({"fresh": 1}, "t_StructuredDataDict", instrument="Cam", detector=0)
        assert butler.get_uri(ref) == str(orphan)
        assert butler.get(ref) == {"fresh": 1}
        assert butler.verify().ok


def test_sigkill_then_verify_fix(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo").close()
    subprocess.run([sys.executable, "-c", textwrap.dedent(KILL_SCRIPT), str(tmp_path / "repo")], check=False)
    with Butler(tmp_path / "repo", run="run1") as butler:
        report = butler.verify(fix=True)
        assert report.orphan_files and report.fixed
        assert not any(os.path.exists(butler.datastore.root / p) for p in report.orphan_files)
        assert butler.verify().ok
