"""``chamberlain ingest-raws``: every transfer mode, bad files, --fail-fast, re-runs, and the real entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from chamberlain.butler import Butler
from chamberlain.cli import cli
from chamberlain.instrument import simulate_raws

RUN = "SimCam/raw/all"


def run(*args: Any) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="chamberlain")


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim_cli")
    simulate_raws(out, 2, seed=2, image_size=16, detectors=[0, 8])
    return out


@pytest.fixture
def raws(sim_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "raws"
    shutil.copytree(sim_dir, target)
    return target


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    assert run("create", repo).exit_code == 0
    return repo


def _uris(repo: Path) -> list[str]:
    with Butler(repo) as butler:
        refs = list(butler.registry.query_datasets("raw", RUN, find_first=False))
        return sorted(butler.get_uri(ref) for ref in refs)


@pytest.mark.parametrize(
    "mode", ["auto", "direct", "copy", "move", "hardlink", "symlink", "relsymlink", "link"]
)
def test_every_transfer_mode(tmp_path: Path, raws: Path, mode: str) -> None:
    repo = _repo(tmp_path)
    sources = sorted(str(p) for p in raws.glob("*.fits"))
    inodes = {os.stat(p).st_ino for p in sources}
    result = run("ingest-raws", repo, raws, "--transfer", mode)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "Ingested 4 raw file(s); 0 already present; 0 failed."
    uris = _uris(repo)
    assert len(uris) == 4
    if mode == "direct":
        assert uris == sources
        return
    assert all(u.startswith(str(repo)) for u in uris)
    if mode == "move":
        assert not any(os.path.exists(p) for p in sources)
    else:
        assert all(os.path.exists(p) for p in sources)
    if mode in ("symlink", "relsymlink"):
        assert all(os.path.islink(u) for u in uris)
        targets = [os.readlink(u) for u in uris]
        assert all(os.path.isabs(t) == (mode == "symlink") for t in targets)
        assert sorted(os.path.realpath(u) for u in uris) == sources
    elif mode in ("hardlink", "link", "move"):
        assert not any(os.path.islink(u) for u in uris)
        assert {os.stat(u).st_ino for u in uris} == inodes
    else:  # copy, and auto for files outside the repository
        assert not any(os.path.islink(u) for u in uris)
        assert not {os.stat(u).st_ino for u in uris} & inodes
    with Butler(repo) as butler:  # the raws read back whatever the mode
        ref = next(iter(butler.registry.query_datasets("raw", RUN)))
        assert butler.get("raw.bbox", ref.data_id, collections=RUN).width == 16


def test_rerun_says_already_present(tmp_path: Path, raws: Path) -> None:
    repo = _repo(tmp_path)
    assert run("ingest-raws", repo, raws, "-j", "2", "-t", "direct").exit_code == 0
    result = run("ingest-raws", repo, raws, "-t", "direct")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        "Ingested 0 raw file(s); 4 already present; 0 failed. Nothing to do: every file was already ingested."
    )


def test_bad_files_exit_1_with_one_line_each(tmp_path: Path, raws: Path) -> None:
    repo = _repo(tmp_path)
    (raws / "bad1.fits").write_text("nope")
    (raws / "bad2.fits").write_bytes((raws / sorted(os.listdir(raws))[0]).read_bytes()[:3000])
    result = run("ingest-raws", repo, raws, "-t", "direct")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "Ingested 4 raw file(s); 0 already present; 2 failed."
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    assert failed == [
        f"failed: {raws / 'bad1.fits'}: not a FITS file (it does not start with a SIMPLE card)",
        f"failed: {raws / 'bad2.fits'}: truncated: the primary header has no END card",
    ]
    assert result.stderr.splitlines()[-1] == "error: 2 of 6 raw file(s) could not be ingested (listed above)."


def test_fail_fast_and_instrument_and_run_options(tmp_path: Path, raws: Path) -> None:
    repo = _repo(tmp_path)
    (raws / "0_bad.fits").write_text("nope")
    result = run("ingest-raws", repo, raws, "--fail-fast", "-t", "direct")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith(f"error: {raws / '0_bad.fits'}: not a FITS file")
    with Butler(repo) as butler:
        assert butler.registry.fetch_dimension_records("exposure") == []
    os.remove(raws / "0_bad.fits")
    result = run("ingest-raws", repo, raws, "--instrument", "SimCam", "--run", "sim/raws", "-t", "direct")
    assert result.exit_code == 0, result.output
    with Butler(repo) as butler:
        assert len(list(butler.registry.query_datasets("raw", "sim/raws"))) == 4
    result = run("ingest-raws", repo, raws, "--instrument", "HSC", "-t", "direct")
    assert result.exit_code == 1
    assert "not the 'HSC' asked for" in result.stderr
    result = run("ingest-raws", repo, tmp_path / "missing")
    assert result.exit_code == 1 and "missing" in result.stderr and "no such file" in result.stderr


def test_real_entry_point_workflow(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("chamberlain")
    repo, raws = tmp_path / "repo", tmp_path / "raws"

    def chamberlain(*args: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *(str(a) for a in args)], capture_output=True, text=True, timeout=120, check=False
        )

    for args in (
        ("create", repo),
        ("register-instrument", repo, "SimCam"),
        ("simulate-raws", raws, "-n", "2", "--image-size", "16", "--detector", "3"),
    ):
        done = chamberlain(*args)
        assert done.returncode == 0, done.stderr
    done = chamberlain("ingest-raws", repo, raws, "-j", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Ingested 2 raw file(s); 0 already present; 0 failed.\n"
