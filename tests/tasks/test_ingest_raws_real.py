"""Raw ingest of real HSC, DECam and MegaPrime headers (written as small FITS files), on both backends.

Every exposure-record field stored after ingest is compared with what the
header itself states (expectations computed from the keywords in
`_ingest_headers`, never by asking a translator).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from _ingest_headers import expected, load_headers, tai_ns, write_raw

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetIdGenEnum, deterministic_id
from chamberlain.geometry.timespan import Timespan
from chamberlain.image import Box, Exposure
from chamberlain.tasks.ingest_raws import ingest_raws

HEADERS = load_headers()
_ONE_MS_NS = 1_000_000


def _butler(root: Path, database: Any) -> Butler:
    if database.backend == "sqlite":
        return Butler.create(root)
    return Butler.create(root, db=database.url, namespace=database.namespace)


@pytest.fixture
def raw_files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, header in HEADERS:
        path = tmp_path / "raws" / f"{name}.fits"
        path.parent.mkdir(exist_ok=True)
        write_raw(header, path)
        out[name] = path
    return out


def test_real_headers_ingest_with_header_values(
    tmp_path: Path, database: Any, raw_files: dict[str, Path]
) -> None:
    assert {expected(h)["instrument"] for _, h in HEADERS} == {"HSC", "DECam", "MegaPrime"}
    with _butler(tmp_path / "repo", database) as butler:
        summary = ingest_raws(butler, [tmp_path / "raws"], transfer="copy")
        assert summary.failed == []
        assert (summary.ingested, summary.already_present) == (len(HEADERS), 0)
        registry = butler.registry
        for name, header in HEADERS:
            exp = expected(header)
            inst = exp["instrument"]
            rec = registry.get_dimension_record("exposure", instrument=inst, exposure=exp["id"])
            assert rec is not None, name
            for field in ("obs_id", "physical_filter", "observation_type", "target_name", "science_program"):
                assert getattr(rec, field) == exp[field], (name, field)
            assert rec.day_obs == exp["day_obs"], name
            assert rec.exposure_time == pytest.approx(exp["exposure_time"], abs=1e-6)
            assert rec.can_see_sky is exp["can_see_sky"]
            assert rec.has_simulated is False
            span = rec.timespan
            assert isinstance(span, Timespan) and span.begin is not None and span.end is not None
            assert abs(span.begin - tai_ns(exp["_begin"])) < _ONE_MS_NS, name
            assert span.end - span.begin >= round(exp["exposure_time"] * 1e9) - _ONE_MS_NS
            radec = exp["_radec"].icrs
            assert rec.tracking_ra == pytest.approx(radec.ra.deg, abs=exp["_radec_tol"])
            assert rec.tracking_dec == pytest.approx(radec.dec.deg, abs=exp["_radec_tol"])
            for field in ("azimuth", "zenith_angle"):
                if exp[field] is None:
                    assert getattr(rec, field) is None
                else:
                    assert getattr(rec, field) == pytest.approx(exp[field], abs=1e-6), (name, field)
            # Related records come from the header too.
            day = registry.get_dimension_record("day_obs", instrument=inst, day_obs=exp["day_obs"])
            assert day is not None and day.timespan.contains(span.begin)
            assert registry.get_dimension_record("group", instrument=inst, group=rec.group) is not None
            det = registry.get_dimension_record("detector", instrument=inst, detector=exp["_detector"])
            assert det is not None
            pf = registry.get_dimension_record(
                "physical_filter", instrument=inst, physical_filter=exp["physical_filter"]
            )
            assert pf is not None
            # The dataset: deterministic ID in <instrument>/raw/all, readable with the raw formatter.
            run = f"{inst}/raw/all"
            data_id = {"instrument": inst, "exposure": exp["id"], "detector": exp["_detector"]}
            ref = butler.find_dataset("raw", data_id, collections=run)
            assert ref is not None
            assert ref.id == deterministic_id(DatasetIdGenEnum.DATAID_TYPE_RUN, "raw", run, data_id)
            metadata = butler.get("raw.metadata", data_id, collections=run)
            assert metadata["EXPTIME"] == pytest.approx(exp["exposure_time"])
            cutout = butler.get("raw", data_id, collections=run, parameters={"bbox": Box(2, 1, 4, 2)})
            assert isinstance(cutout, Exposure)
            assert cutout.image.array.tolist() == [[10.0, 11.0, 12.0], [18.0, 19.0, 20.0]]
        # Re-ingest: nothing new.
        again = ingest_raws(butler, [tmp_path / "raws"], transfer="copy", processes=2)
        assert (again.ingested, again.already_present, again.failed) == (0, len(HEADERS), [])


def test_unsupported_instrument_reported_by_path_and_name(tmp_path: Path, raw_files: dict[str, Path]) -> None:
    header = dict(next(h for _, h in HEADERS if h.get("INSTRUME") == "DECam"))
    header.update(INSTRUME="NOPECAM", TELESCOP="Nope 1.2m", FILTER="r NOPE-R")
    bad = tmp_path / "raws" / "nope.fits"
    write_raw(header, bad)
    with Butler.create(tmp_path / "repo") as butler:
        summary = ingest_raws(butler, [*sorted(raw_files.values()), bad], transfer="direct")
        assert summary.ingested == len(HEADERS)
        assert [p for p, _ in summary.failed] == [str(bad)]
        reason = summary.failed[0][1]
        assert "NOPECAM" in reason and "translat" in reason


def test_instrument_option_rejects_other_instruments(tmp_path: Path, raw_files: dict[str, Path]) -> None:
    with Butler.create(tmp_path / "repo") as butler:
        summary = ingest_raws(butler, sorted(raw_files.values()), instrument="HSC", transfer="direct")
        hsc = [n for n, h in HEADERS if expected(h)["instrument"] == "HSC"]
        assert summary.ingested == len(hsc)
        failed = {Path(p).stem: reason for p, reason in summary.failed}
        assert set(failed) == {n for n, _ in HEADERS} - set(hsc)
        assert all("not the 'HSC' asked for" in r for r in failed.values())
        assert "'DECam'" in failed["fitsheader-decam_0"]


def test_changed_exposure_is_a_conflict(tmp_path: Path, raw_files: dict[str, Path]) -> None:
    name, header = next((n, h) for n, h in HEADERS if h.get("INSTRUME") == "MegaPrime")
    with Butler.create(tmp_path / "repo") as butler:
        assert ingest_raws(butler, [raw_files[name]], transfer="direct").ingested == 1
        changed = dict(header, OBJECT="somewhere else", EXTNAME="ccd03")
        other = tmp_path / "changed.fits"
        write_raw(changed, other)
        summary = ingest_raws(butler, [other], transfer="direct")
        assert summary.ingested == 0
        ((path, reason),) = summary.failed
        assert path == str(other)
        assert "already stored with different values" in reason and "target_name" in reason
        assert "somewhere else" in reason
    shutil.rmtree(tmp_path / "repo")
