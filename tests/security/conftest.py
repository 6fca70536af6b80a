"""Fixtures of the security tests: a SimCam repository on each backend (see _security.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _security import Repo, run_cli

from chamberlain.instrument import simulate_raws


@pytest.fixture(scope="session")
def simulated_raws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two SimCam exposures of two detectors, tiny (16 px), simulated once per session."""
    out = tmp_path_factory.mktemp("security_raws")
    simulate_raws(out, 2, seed=5, image_size=16, detectors=[0, 8])
    return out


@pytest.fixture
def repo(database: Any, tmp_path: Path, simulated_raws: Path) -> Iterator[Repo]:
    """A SimCam repository on each backend with the raws of `simulated_raws` ingested (copied).

    The layout is ``tmp_path/repo`` (the repository), ``tmp_path/raws`` (the source files) and
    ``tmp_path/outside`` (a directory with a file in it that nothing may touch).
    """
    root = tmp_path / "repo"
    args: list[Any] = ["create", root]
    if database.backend == "postgresql":
        args += ["--db", database.url, "--namespace", database.namespace]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    raws = tmp_path / "raws"
    shutil.copytree(simulated_raws, raws)
    result = run_cli("ingest-raws", root, raws, "--transfer", "copy")
    assert result.exit_code == 0, result.output
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("not the repository's\n")
    yield Repo(root, database, raws, outside)
