"""Dimension records and small helpers of the Instrument base class (via SimCam)."""

from __future__ import annotations

import pytest

from chamberlain.errors import InstrumentError
from chamberlain.geometry import Timespan, time_to_ns
from chamberlain.instrument import (
    EXPOSURE_FIELDS,
    RawInfo,
    SimCam,
    day_obs_from_tai_ns,
    instrument_from_class_name,
)


@pytest.fixture(scope="module")
def simcam() -> SimCam:
    return SimCam()


def test_instrument_record(simcam: SimCam) -> None:
    rec = simcam.instrument_record()
    assert list(rec) == ["name", "visit_max", "visit_system", "exposure_max", "detector_max", "class_name"]
    assert rec["name"] == "SimCam"
    assert rec["visit_system"] == 0
    assert rec["detector_max"] == 9
    for key in ("visit_max", "exposure_max", "detector_max", "visit_system"):
        assert type(rec[key]) is int
    assert rec["class_name"] == "chamberlain.instrument.simcam.SimCam"
    assert isinstance(instrument_from_class_name(rec["class_name"]), SimCam)
    # The first-snap visit ID "9" + exposure ID must fit under visit_max.
    assert int("9" + str(20991231 * 100_000 + 99_999)) < rec["visit_max"]
    assert simcam.raw_storage_class == "Exposure"


def test_detector_records(simcam: SimCam) -> None:
    recs = simcam.detector_records()
    assert len(recs) == 9
    for rec in recs:
        assert list(rec) == ["instrument", "id", "full_name", "name_in_raft", "raft", "purpose"]
        assert rec["instrument"] == "SimCam"
        assert type(rec["id"]) is int and 0 <= rec["id"] < simcam.detector_max
        assert rec["purpose"] == "SCIENCE"
        assert rec["full_name"] == f"{rec['raft']}_{rec['name_in_raft']}"
    assert sorted(r["id"] for r in recs) == list(range(9))
    assert len({r["full_name"] for r in recs}) == 9
    assert {r["name_in_raft"] for r in recs} == {f"S{a}{b}" for a in range(3) for b in range(3)}


def test_detector_geometry(simcam: SimCam) -> None:
    for det in simcam.detectors:
        assert det.bbox == (2048, 2048)
        assert det.pixel_scale == 0.2
        assert abs(det.rotation) < 0.1
    centre = simcam.get_detector(4)
    assert (centre.x_center, centre.y_center) == (0.0, 0.0)
    # Neighbours are one detector width plus a small gap apart.
    pitch = simcam.get_detector(5).x_center - centre.x_center
    assert 2048 * 0.2 < pitch < 2048 * 0.2 + 20
    assert simcam.get_detector_by_name("R00_S21").id == 7


def test_physical_filter_records(simcam: SimCam) -> None:
    recs = simcam.physical_filter_records()
    assert all(list(r) == ["instrument", "name", "band"] for r in recs)
    assert {r["name"]: r["band"] for r in recs} == {
        "SimCam-g": "g",
        "SimCam-r": "r",
        "SimCam-i": "i",
        "SimCam-z": "z",
    }
    assert {r["instrument"] for r in recs} == {"SimCam"}


def test_group_and_day_obs_records(simcam: SimCam) -> None:
    assert simcam.group_record("20250314_00002") == {"instrument": "SimCam", "name": "20250314_00002"}
    rec = simcam.day_obs_record(20250314)
    assert list(rec) == ["instrument", "id", "timespan"]
    assert rec["id"] == 20250314
    # Noon TAI to noon TAI.
    import astropy.time

    noon = time_to_ns(astropy.time.Time("2025-03-14T12:00:00", scale="tai"))
    assert rec["timespan"] == Timespan(noon, noon + 86_400 * 10**9)


def test_day_obs_boundary(simcam: SimCam) -> None:
    import astropy.time

    noon = time_to_ns(astropy.time.Time("2025-03-15T12:00:00", scale="tai"))
    assert simcam.day_obs_for(noon - 1) == 20250314
    assert simcam.day_obs_for(noon) == 20250315
    assert day_obs_from_tai_ns(noon - 1) == 20250315  # no offset: TAI calendar date
    assert simcam.day_obs_record(simcam.day_obs_for(noon))["timespan"].contains(noon)


@pytest.mark.parametrize("bad", [2025031, 20251340, "x"])
def test_day_obs_record_bad(simcam: SimCam, bad: object) -> None:
    with pytest.raises(InstrumentError, match=str(bad)):
        simcam.day_obs_record(bad)  # type: ignore[arg-type]


def test_unknown_detector_and_filter(simcam: SimCam) -> None:
    with pytest.raises(InstrumentError, match=r"99.*valid IDs"):
        simcam.get_detector(99)
    with pytest.raises(InstrumentError, match="'R99_S00'"):
        simcam.get_detector_by_name("R99_S00")
    with pytest.raises(InstrumentError, match=r"'SimCam-y'.*'SimCam-g'"):
        simcam.band_for("SimCam-y")


def test_raw_info_validates_fields() -> None:
    exposure = dict.fromkeys(EXPOSURE_FIELDS)
    exposure["timespan"] = Timespan(0, 10)
    assert RawInfo(detector=1, exposure=exposure).detector == 1
    with pytest.raises(InstrumentError, match="seq_num"):
        RawInfo(detector=1, exposure={k: v for k, v in exposure.items() if k != "seq_num"})
    with pytest.raises(InstrumentError, match="bogus"):
        RawInfo(detector=1, exposure={**exposure, "bogus": 1})
    with pytest.raises(InstrumentError, match="timespan"):
        RawInfo(detector=1, exposure={**exposure, "timespan": (0, 10)})
