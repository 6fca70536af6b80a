"""Raw ingest of simulated SimCam raws: records, IDs, idempotence, bad files, fail-fast, the raw formatter."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import astropy.time
import fitsio
import numpy as np
import pytest

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetIdGenEnum, deterministic_id
from chamberlain.errors import IngestError, ReadOnlyError
from chamberlain.geometry.timespan import time_to_ns
from chamberlain.image import Box, Exposure
from chamberlain.instrument import simulate_raws
from chamberlain.tasks.ingest_raws import IngestSummary, find_raw_files, ingest_raws

RUN = "SimCam/raw/all"


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate_raws(out, 3, seed=4, image_size=16, detectors=[0, 4])
    return out


@pytest.fixture
def raws(sim_dir: Path, tmp_path: Path) -> list[Path]:
    target = tmp_path / "raws"
    shutil.copytree(sim_dir, target)
    return sorted(target.glob("*.fits"))


def _repo(tmp_path: Path, database: Any = None) -> Butler:
    if database is None or database.backend == "sqlite":
        return Butler.create(tmp_path / "repo")
    return Butler.create(tmp_path / "repo", db=database.url, namespace=database.namespace)


def _counts(butler: Butler) -> tuple[int, int]:
    registry = butler.registry
    types = [t.name for t in registry.query_dataset_types("raw")]
    datasets = len(list(registry.query_datasets("raw", RUN, find_first=False))) if types else 0
    return len(registry.fetch_dimension_records("exposure")), datasets


def test_ingest_simcam_records_match_headers(tmp_path: Path, database: Any, raws: list[Path]) -> None:
    with _repo(tmp_path, database) as butler:
        summary = ingest_raws(butler, [raws[0].parent], transfer="direct")
        assert isinstance(summary, IngestSummary)
        assert (summary.ingested, summary.already_present, summary.failed) == (len(raws), 0, [])
        assert str(summary) == f"Ingested {len(raws)} raw file(s); 0 already present; 0 failed."
        registry = butler.registry
        (raw_type,) = registry.query_dataset_types("raw")
        assert raw_type.storage_class == "RawExposure"
        assert set(raw_type.dimensions.required) == {"instrument", "exposure", "detector"}
        assert len(registry.fetch_dimension_records("detector")) == 9  # SimCam registered whole
        for path in raws:
            header = fitsio.read_header(str(path))
            rec = registry.get_dimension_record("exposure", instrument="SimCam", exposure=header["EXPID"])
            assert rec is not None
            assert rec.obs_id == header["OBSID"]
            assert rec.physical_filter == header["FILTER"]
            assert rec.group == header["GROUPID"]
            assert rec.day_obs == header["DAYOBS"]
            assert rec.seq_num == header["SEQNUM"]
            assert rec.observation_type == header["OBSTYPE"]
            assert rec.exposure_time == pytest.approx(header["EXPTIME"])
            assert rec.tracking_ra == pytest.approx(header["RA"])
            assert rec.zenith_angle == pytest.approx(90.0 - header["ALT"])
            begin = time_to_ns(astropy.time.Time(header["DATE-OBS"], scale="utc"))
            assert rec.timespan.begin == begin
            data_id = {"instrument": "SimCam", "exposure": header["EXPID"], "detector": header["DET-ID"]}
            ref = butler.find_dataset("raw", data_id, collections=RUN)
            assert ref is not None
            assert ref.id == deterministic_id(DatasetIdGenEnum.DATAID_TYPE_RUN, "raw", RUN, data_id)
            assert butler.get_uri("raw", data_id, collections=RUN) == str(path)  # direct: not moved
        assert {r.id for r in summary.refs} == {
            r.id for r in registry.query_datasets("raw", RUN, find_first=False)
        }


def test_reingest_is_idempotent_and_parallel_reading_agrees(tmp_path: Path, raws: list[Path]) -> None:
    with _repo(tmp_path) as butler:
        first = ingest_raws(butler, raws, transfer="copy", processes=2, batch_size=2)
        assert (first.ingested, first.failed) == (len(raws), [])
        before = _counts(butler)
        again = ingest_raws(butler, raws, transfer="copy", processes=2)
        assert (again.ingested, again.already_present, again.failed) == (0, len(raws), [])
        assert "Nothing to do" in str(again)
        assert _counts(butler) == before == (3, len(raws))
        # Copies live inside the repository, under the raw template.
        uri = butler.get_uri("raw", first.refs[0].data_id, collections=RUN)
        assert uri.startswith(str(tmp_path / "repo" / "SimCam" / "raw" / "all" / "raw"))


def test_bad_files_reported_and_rest_ingested(tmp_path: Path, raws: list[Path]) -> None:
    not_fits = tmp_path / "raws" / "notes.fits"
    not_fits.write_text("this is not a FITS file\n" * 200)
    truncated = tmp_path / "raws" / "truncated.fits"
    data = raws[0].read_bytes()
    truncated.write_bytes(data[:6000])  # header 5760 bytes, then 1024 bytes of pixels
    header_cut = tmp_path / "raws" / "header_cut.fits"
    header_cut.write_bytes(data[:2880])
    untranslatable = tmp_path / "raws" / "no_exptime.fits"
    cards = [r for r in fitsio.read_header(str(raws[1])).records() if r["name"] != "EXPTIME"]
    fitsio.write(str(untranslatable), np.zeros((4, 4), dtype=np.float32), header=cards)
    with _repo(tmp_path) as butler:
        summary = ingest_raws(butler, [tmp_path / "raws"], transfer="direct", batch_size=3)
        reasons = dict(summary.failed)
        assert set(reasons) == {str(p) for p in (not_fits, truncated, header_cut, untranslatable)}
        assert "not a FITS file" in reasons[str(not_fits)]
        assert "truncated" in reasons[str(truncated)] and "6000 bytes" in reasons[str(truncated)]
        assert "truncated" in reasons[str(header_cut)]
        assert (
            "cannot be translated" in reasons[str(untranslatable)]
            and "EXPTIME" in reasons[str(untranslatable)]
        )
        assert summary.ingested == len(raws)
        assert str(summary).endswith("4 failed.")


def test_fail_fast_writes_nothing_from_the_batch(tmp_path: Path, raws: list[Path]) -> None:
    bad = tmp_path / "raws" / "zz_bad.fits"  # sorted last: in the second batch
    bad.write_bytes(b"SIMPLE  = nonsense")
    with _repo(tmp_path) as butler:
        with pytest.raises(IngestError, match="zz_bad.fits") as info:
            ingest_raws(butler, [tmp_path / "raws"], transfer="direct", fail_fast=True, batch_size=4)
        assert "Nothing from its batch" in str(info.value)
        # The first batch (4 files) was committed; the second (2 good files + the bad one) was not.
        assert _counts(butler)[1] == 4
        # Without fail-fast the remaining good files go in.
        summary = ingest_raws(butler, [tmp_path / "raws"], transfer="direct")
        assert (summary.ingested, summary.already_present) == (len(raws) - 4, 4)
        assert [p for p, _ in summary.failed] == [str(bad)]


def test_fail_fast_on_first_file_writes_nothing(tmp_path: Path, raws: list[Path]) -> None:
    bad = tmp_path / "raws" / "a_bad.fits"
    bad.write_text("garbage")
    with _repo(tmp_path) as butler:
        with pytest.raises(IngestError, match="a_bad.fits.*not a FITS file"):
            ingest_raws(butler, [tmp_path / "raws"], transfer="direct", fail_fast=True)
        assert _counts(butler) == (0, 0)


def test_duplicate_file_in_one_batch_fails_the_second(tmp_path: Path, raws: list[Path]) -> None:
    copy = tmp_path / "raws" / "zz_copy.fits"
    shutil.copyfile(raws[0], copy)
    with _repo(tmp_path) as butler:
        summary = ingest_raws(butler, [tmp_path / "raws"], transfer="direct")
        assert summary.ingested == len(raws)
        ((path, reason),) = summary.failed
        assert path == str(copy)
        assert "same instrument, exposure and detector" in reason and str(raws[0]) in reason


def test_bad_arguments(tmp_path: Path, raws: list[Path]) -> None:
    with _repo(tmp_path) as butler:
        with pytest.raises(IngestError, match="'teleport'"):
            ingest_raws(butler, raws, transfer="teleport")
        with pytest.raises(IngestError, match="processes.*0"):
            ingest_raws(butler, raws, processes=0)
        with pytest.raises(IngestError, match="batch_size"):
            ingest_raws(butler, raws, batch_size=-1)
        with pytest.raises(IngestError, match="nowhere.fits"):
            ingest_raws(butler, [tmp_path / "nowhere.fits"])
    with Butler(tmp_path / "repo") as read_only, pytest.raises(ReadOnlyError):
        ingest_raws(read_only, raws)


def test_find_raw_files(tmp_path: Path, raws: list[Path]) -> None:
    (tmp_path / "raws" / "readme.txt").write_text("x")
    (tmp_path / "raws" / ".hidden.fits").write_text("x")
    explicit = tmp_path / "raws" / "readme.txt"
    found = find_raw_files([tmp_path / "raws", explicit, raws[0]])
    assert found == [str(p) for p in raws] + [str(explicit)]


def test_raw_formatter_components_and_cutouts(tmp_path: Path, raws: list[Path]) -> None:
    with _repo(tmp_path) as butler:
        summary = ingest_raws(butler, raws[:1], transfer="symlink", run="my/raws")
        (ref,) = summary.refs
        assert ref.run == "my/raws"
        pixels = fitsio.read(str(raws[0]))
        exposure = butler.get("raw", ref.data_id, collections="my/raws")
        assert isinstance(exposure, Exposure)
        np.testing.assert_array_equal(exposure.image.array, pixels)
        assert exposure.metadata["OBSID"] == fitsio.read_header(str(raws[0]))["OBSID"]
        assert butler.get("raw.bbox", ref.data_id, collections="my/raws") == Box(0, 0, 15, 15)
        wcs = butler.get("raw.wcs", ref.data_id, collections="my/raws")
        header = fitsio.read_header(str(raws[0]))
        ra, dec = wcs.pixel_to_world_values(header["CRPIX1"] - 1, header["CRPIX2"] - 1)
        assert (float(ra), float(dec)) == pytest.approx((header["CRVAL1"], header["CRVAL2"]))
        cut = butler.get("raw", ref.data_id, collections="my/raws", parameters={"bbox": Box(3, 5, 6, 9)})
        np.testing.assert_array_equal(cut.image.array, pixels[5:10, 3:7])
        assert cut.image.xy0 == (3, 5)
        assert butler.get("raw.psf", ref.data_id, collections="my/raws") is None


def _rewrite(source: Path, target: Path, **changes: Any) -> None:
    """Copy a raw with some header values changed."""
    header = fitsio.read_header(str(source))
    cards = [r for r in header.records() if r["name"] not in changes and r["name"] not in ("COMMENT", "")]
    cards += [{"name": k, "value": v} for k, v in changes.items()]
    fitsio.write(str(target), fitsio.read(str(source)), header=cards, clobber=True)


def test_exposure_described_differently_in_one_batch(tmp_path: Path, raws: list[Path]) -> None:
    first, second = raws[0], raws[1]  # detectors 0 and 4 of the first exposure
    assert fitsio.read_header(str(first))["EXPID"] == fitsio.read_header(str(second))["EXPID"]
    _rewrite(second, second, OBJECT="ELSEWHERE")
    with _repo(tmp_path) as butler:
        summary = ingest_raws(butler, raws, transfer="direct")
        ((path, reason),) = summary.failed
        assert path == str(second)
        assert f"differently from {first}" in reason and "target_name" in reason and "ELSEWHERE" in reason
        assert summary.ingested == len(raws) - 1


def test_failing_batch_is_retried_file_by_file(tmp_path: Path, raws: list[Path]) -> None:
    # A target name longer than the exposure table allows (64) fails the batch's bulk insert;
    # the batch is then retried one file at a time so that only that file fails. The long
    # value needs CONTINUE cards, which the header reader hands to astropy.
    odd = tmp_path / "raws" / "odd.fits"
    _rewrite(raws[0], odd, EXPID=2025031499999, OBSID="SC_O_ODD", OBJECT="X" * 80)
    with _repo(tmp_path) as butler:
        summary = ingest_raws(butler, [tmp_path / "raws"], transfer="direct")
        assert summary.ingested == len(raws)
        ((path, reason),) = summary.failed
        assert path == str(odd)
        assert "cannot be ingested" in reason and "target_name" in reason
        assert (
            butler.registry.get_dimension_record("exposure", instrument="SimCam", exposure=2025031499999)
            is None
        )
        with pytest.raises(IngestError, match="nothing from it was written"):
            ingest_raws(butler, [odd], transfer="direct", fail_fast=True)
