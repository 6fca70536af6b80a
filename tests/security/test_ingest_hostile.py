"""Hostile inputs to ``ingest-raws``: FIFOs, devices, dangling links, empty directories,
unknown instruments and headers whose detector keywords disagree.

A file that cannot be ingested is named with its reason while the good files
beside it are ingested (exit status 1); a command that cannot start at all
(an empty directory, an unknown instrument) is refused with one line and
changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _security import Repo, refused, run_cli, table_rows
from astropy.io import fits

from chamberlain.errors import InstrumentError
from chamberlain.instrument import get_instrument, simulate_raws

#: Seconds an ingest may take before the test calls it hung.
HANG_SECONDS = 60


@pytest.fixture(scope="session")
def new_raws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SimCam exposure of detectors 1 and 2, not in the `repo` fixture's repository."""
    out = tmp_path_factory.mktemp("hostile_raws")
    simulate_raws(out, 1, seed=9, image_size=16, detectors=[1, 2], first_seq_num=300)
    return out


@pytest.fixture
def good(new_raws: Path, tmp_path: Path) -> Path:
    """A directory holding a copy of the two new raws."""
    target = tmp_path / "incoming"
    shutil.copytree(new_raws, target)
    assert len(list(target.rglob("*.fits"))) == 2
    return target


@contextlib.contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail (instead of hanging the run) if the block takes longer than ``seconds``."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"ingest-raws hung for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def raw_count(repo: Repo) -> int:
    return len(table_rows(repo.url, repo.database.namespace)["dataset"])


def failed_lines(stderr: str) -> dict[str, str]:
    """``failed: PATH: REASON`` lines of the output, by path."""
    out = {}
    for line in stderr.splitlines():
        if line.startswith("failed: "):
            path, _, reason = line[len("failed: ") :].partition(": ")
            out[path] = reason
    return out


def ingested_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("Ingested "))


# --- files that are not regular files -----------------------------------------------------


def test_fifo_named_fits_is_skipped_without_hanging(repo: Repo, good: Path) -> None:
    fifo = good / "pipe.fits"
    os.mkfifo(fifo)
    (good / "nested.fits").mkdir()  # a directory named like a raw is searched, not read
    shutil.move(next(good.glob("*S01.fits")), good / "nested.fits")
    before = raw_count(repo)
    with no_hang():
        result = run_cli("ingest-raws", repo.root, good, "--transfer", "copy")
    assert result.exit_code == 1, result.output
    failed = failed_lines(result.stderr)
    assert list(failed) == [str(fifo)], result.stderr
    assert "FIFO" in failed[str(fifo)] and "not a regular file" in failed[str(fifo)]
    assert ingested_line(result.stdout).startswith("Ingested 2 raw file(s); 0 already present; 1 failed.")
    assert raw_count(repo) == before + 2
    assert fifo.exists() and not fifo.is_file()  # left alone


def test_fifo_named_explicitly_fails_alone(repo: Repo, good: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "explicit-pipe"
    os.mkfifo(fifo)
    files = sorted(good.glob("*.fits"))
    with no_hang():
        result = run_cli("ingest-raws", repo.root, fifo, *files, "--transfer", "copy")
    assert result.exit_code == 1
    assert list(failed_lines(result.stderr)) == [str(fifo)]
    assert ingested_line(result.stdout).startswith("Ingested 2 raw file(s)")


def test_link_to_a_device_is_refused_by_reason(repo: Repo, good: Path) -> None:
    device = good / "null.fits"
    device.symlink_to("/dev/null")
    before = raw_count(repo)
    with no_hang():
        result = run_cli("ingest-raws", repo.root, good, "--transfer", "copy")
    assert result.exit_code == 1
    failed = failed_lines(result.stderr)
    assert list(failed) == [str(device)]
    assert "character device" in failed[str(device)]
    assert raw_count(repo) == before + 2


def test_dangling_symlink_does_not_abort_the_ingest(repo: Repo, good: Path) -> None:
    link = good / "gone.fits"
    link.symlink_to(good / "deleted-long-ago.fits")
    before = raw_count(repo)
    with no_hang():
        result = run_cli("ingest-raws", repo.root, good, "--transfer", "copy")
    assert result.exit_code == 1, result.output
    failed = failed_lines(result.stderr)
    assert list(failed) == [str(link)]
    assert "deleted-long-ago.fits" in failed[str(link)] and "does not exist" in failed[str(link)]
    assert ingested_line(result.stdout).startswith("Ingested 2 raw file(s); 0 already present; 1 failed.")
    assert raw_count(repo) == before + 2
    # Given explicitly, the link is reported the same way rather than stopping everything.
    again = run_cli("ingest-raws", repo.root, link, *sorted(good.glob("*S0*.fits")), "--transfer", "copy")
    assert again.exit_code == 1
    assert list(failed_lines(again.stderr)) == [str(link)]
    assert ingested_line(again.stdout).startswith("Ingested 0 raw file(s); 2 already present; 1 failed.")


# --- commands refused before anything is read ---------------------------------------------


@pytest.mark.parametrize("content", ["nothing", "other files"])
def test_directory_without_raws_is_an_error(repo: Repo, tmp_path: Path, content: str) -> None:
    empty = tmp_path / "night-42"
    empty.mkdir()
    if content == "other files":
        (empty / "notes.txt").write_text("no raws tonight\n")
        (empty / ".hidden.fits").write_bytes(b"")
        (empty / ".cache").mkdir()
        (empty / ".cache" / "old.fits").write_bytes(b"")
    before = repo.snapshot()
    result = run_cli("ingest-raws", repo.root, empty)
    line = refused(result, str(empty), "*.fits", "*.fits.fz")
    assert "No FITS files found" in line
    assert repo.snapshot() == before


def test_empty_directory_among_good_ones_is_named(repo: Repo, good: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    before = repo.snapshot()
    result = run_cli("ingest-raws", repo.root, good, empty)
    refused(result, str(empty))
    assert repo.snapshot() == before


@pytest.mark.parametrize("name", ["Foo", "simcam", "HSC2"])
def test_unknown_instrument_is_one_line(repo: Repo, good: Path, name: str) -> None:
    before = repo.snapshot()
    result = run_cli("ingest-raws", repo.root, good, "--instrument", name)
    refused(result, repr(name), "SimCam", "HSC", "DECam")
    assert repo.snapshot() == before


def test_unknown_instrument_is_checked_before_files(repo: Repo, tmp_path: Path) -> None:
    from chamberlain.butler import Butler
    from chamberlain.tasks.ingest_raws import ingest_raws

    with Butler(str(repo.root), writeable=True) as butler, pytest.raises(InstrumentError, match="'Nope'"):
        ingest_raws(butler, [tmp_path / "does-not-exist"], instrument="Nope")


def test_known_instrument_still_accepted(repo: Repo, good: Path) -> None:
    result = run_cli("ingest-raws", repo.root, good, "--instrument", "SimCam", "--transfer", "copy")
    assert result.exit_code == 0, result.output
    assert ingested_line(result.stdout).startswith("Ingested 2 raw file(s)")


# --- detector keywords that disagree -------------------------------------------------------


def _set_card(path: Path, key: str, value: Any) -> None:
    with fits.open(path, mode="update") as hdus:
        hdus[0].header[key] = value


def test_detector_name_and_id_disagreeing_is_refused(repo: Repo, good: Path) -> None:
    simcam = get_instrument("SimCam")
    liar = sorted(good.glob("*.fits"))[0]
    with fits.open(liar) as hdus:
        det_id = hdus[0].header["DET-ID"]
        real_name = hdus[0].header["DETECTOR"]
    other = next(d.full_name for d in simcam.detectors if d.id != det_id)
    _set_card(liar, "DETECTOR", other)
    before = raw_count(repo)
    result = run_cli("ingest-raws", repo.root, good, "--transfer", "copy")
    assert result.exit_code == 1, result.output
    failed = failed_lines(result.stderr)
    assert list(failed) == [str(liar)]
    reason = failed[str(liar)]
    assert f"DET-ID {det_id}" in reason and repr(other) in reason and repr(real_name) in reason, reason
    assert raw_count(repo) == before + 1  # only the honest file


def test_translator_checks_both_detector_keywords(good: Path) -> None:
    simcam = get_instrument("SimCam")
    path = sorted(good.glob("*.fits"))[0]
    header = dict(fits.getheader(path))
    simcam.translate_raw_header(header)  # consistent keywords: fine
    det = simcam.get_detector(header["DET-ID"])
    header["DETECTOR"] = next(d.full_name for d in simcam.detectors if d.id != det.id)
    with pytest.raises(InstrumentError, match=f"DET-ID {det.id}.*{header['DETECTOR']}"):
        simcam.translate_raw_header(header)
    del header["DET-ID"]  # the name alone still chooses the detector
    assert simcam.translate_raw_header(header).detector != det.id
