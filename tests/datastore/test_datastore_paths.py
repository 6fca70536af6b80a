"""The fast absolute-path helper of datastore ingest agrees with os.path.abspath."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chamberlain.datastore.file_datastore import _absolute

CASES = [
    "/a/b/c.json",
    "/a//b",
    "//a/b",
    "/a/./b",
    "/a/../b",
    "/a/b/..",
    "/a/b/.",
    "/a/.hidden/x",
    "/a/b/",
    "/",
    "/a/b..c/d",
    "/a/...",
    "rel/x.json",
    "./x",
    "../x",
    "",
]


@pytest.mark.parametrize("path", CASES)
def test_same_as_abspath(path: str) -> None:
    assert _absolute(path) == os.path.abspath(path)


def test_path_objects(tmp_path: Path) -> None:
    assert _absolute(tmp_path / "x" / ".." / "y") == str(tmp_path / "y")
    assert _absolute(Path("rel")) == os.path.abspath("rel")
    assert isinstance(_absolute(tmp_path), str)
