"""The real `chamberlain` entry point, in subprocesses, from raw files to a second repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def chamberlain(*args: object, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "chamberlain.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == expect, (result.stdout, result.stderr)
    return result


def test_create_ingest_query_export_import(tmp_path: Path) -> None:
    repo, copy, raws, export = (
        tmp_path / "repo",
        tmp_path / "copy",
        tmp_path / "raws",
        tmp_path / "export.yaml",
    )
    chamberlain("create", repo)
    chamberlain("register-instrument", repo, "SimCam")
    chamberlain("simulate-raws", raws, "--exposures", "4", "--image-size", "32", "--seed", "3")
    n_files = len(list(raws.rglob("*.fits")))
    assert n_files == 4 * 9
    out = chamberlain("ingest-raws", repo, raws, "--transfer", "copy", "-j", "2").stdout
    assert f"Ingested {n_files} raw file(s)" in out
    again = chamberlain("ingest-raws", repo, raws).stdout
    assert "0 raw file(s)" in again or "Nothing to do" in again

    listed = json.loads(
        chamberlain(
            "query-datasets", repo, "raw", "--collections", "SimCam/raw/all", "--format", "json"
        ).stdout
    )
    assert len(listed) == n_files
    assert all(Path(row["path"]).is_file() and str(repo) in row["path"] for row in listed)

    chamberlain("export", repo, export)
    chamberlain("create", copy)
    chamberlain("import", copy, export, "--transfer", "copy")
    copied = json.loads(
        chamberlain(
            "query-datasets", copy, "raw", "--collections", "SimCam/raw/all", "--format", "json"
        ).stdout
    )
    assert {row["id"] for row in copied} == {row["id"] for row in listed}
    assert all(Path(row["path"]).is_file() and str(copy) in row["path"] for row in copied)
    original = {row["id"]: Path(row["path"]).read_bytes() for row in listed}
    assert all(Path(row["path"]).read_bytes() == original[row["id"]] for row in copied)
    exposures = json.loads(
        chamberlain("query-dimension-records", copy, "exposure", "--format", "json").stdout
    )
    assert len(exposures) == 4

    # Bad input: one line on stderr, exit 1, nothing half-written.
    bad = chamberlain("import", tmp_path / "missing-repo", export, expect=1)
    assert bad.stderr.count("\n") == 1 and "missing-repo" in bad.stderr
