"""Translating the headers of simulated SimCam raws into exposure records."""

from __future__ import annotations

import datetime
from collections import defaultdict
from pathlib import Path
from typing import Any

import astropy.coordinates
import astropy.time
import astropy.units as u
import fitsio
import pytest

from chamberlain.errors import InstrumentError
from chamberlain.geometry import Timespan
from chamberlain.instrument import EXPOSURE_FIELDS, OBSERVATORY, RawInfo, SimCam, simulate_raws

N_EXPOSURES = 12
TAI_MINUS_UTC_2025 = 37  # seconds


@pytest.fixture(scope="module")
def raws(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return simulate_raws(
        tmp_path_factory.mktemp("raws"), N_EXPOSURES, seed=3, image_size=64, detectors=[0, 4]
    )


@pytest.fixture(scope="module")
def translated(raws: list[Path]) -> list[tuple[dict[str, Any], RawInfo]]:
    simcam = SimCam()
    out = []
    for path in raws:
        header = fitsio.read_header(str(path))
        out.append(
            ({rec["name"]: rec["value"] for rec in header.records()}, simcam.translate_raw_header(header))
        )
    return out


def test_exposure_fields_and_types(translated: list[tuple[dict[str, Any], RawInfo]]) -> None:
    types = {
        "instrument": str,
        "id": int,
        "obs_id": str,
        "physical_filter": str,
        "group": str,
        "day_obs": int,
        "exposure_time": float,
        "dark_time": float,
        "observation_type": str,
        "observation_reason": str,
        "seq_num": int,
        "seq_start": int,
        "seq_end": int,
        "target_name": str,
        "science_program": str,
        "tracking_ra": float,
        "tracking_dec": float,
        "sky_angle": float,
        "azimuth": float,
        "zenith_angle": float,
        "has_simulated": bool,
        "can_see_sky": bool,
        "timespan": Timespan,
    }
    assert set(types) == set(EXPOSURE_FIELDS)
    for _, info in translated:
        assert list(info.exposure) == list(EXPOSURE_FIELDS)
        for key, kind in types.items():
            assert type(info.exposure[key]) is kind, key


def test_values_match_header(translated: list[tuple[dict[str, Any], RawInfo]]) -> None:
    for header, info in translated:
        e = info.exposure
        assert info.detector == header["DET-ID"]
        assert e["instrument"] == "SimCam"
        assert e["id"] == e["day_obs"] * 100_000 + e["seq_num"] == header["EXPID"]
        assert e["obs_id"] == header["OBSID"] == f"SC_O_{e['day_obs']}_{e['seq_num']:06d}"
        assert e["physical_filter"] == header["FILTER"]
        assert (e["tracking_ra"], e["tracking_dec"], e["sky_angle"]) == (
            header["RA"],
            header["DEC"],
            header["ROTPA"],
        )
        assert e["zenith_angle"] == pytest.approx(90.0 - header["ALT"])
        assert e["has_simulated"] is True
        # Timespan: DATE-OBS (UTC) converted to TAI by hand, end = begin + EXPTIME.
        utc = datetime.datetime.fromisoformat(header["DATE-OBS"]).replace(tzinfo=datetime.UTC)
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
        begin = ((utc - epoch) // datetime.timedelta(microseconds=1)) * 1000 + TAI_MINUS_UTC_2025 * 10**9
        assert e["timespan"].begin == begin
        length = round(header["EXPTIME"] * 1e9)
        assert e["timespan"].end == begin + (length if length > 0 else 1)
        # day_obs: the TAI date 12 hours earlier.
        tai = utc + datetime.timedelta(seconds=TAI_MINUS_UTC_2025) - datetime.timedelta(hours=12)
        assert e["day_obs"] == int(tai.strftime("%Y%m%d")) == 20250314


def test_sky_visibility(translated: list[tuple[dict[str, Any], RawInfo]]) -> None:
    types = {info.exposure["observation_type"] for _, info in translated}
    assert types == {"science", "bias", "flat", "dark"}
    for _, info in translated:
        e = info.exposure
        assert e["can_see_sky"] is (e["observation_type"] == "science")
        if e["observation_type"] == "bias":
            assert e["exposure_time"] == 0.0
            assert not e["timespan"].is_empty


def test_altaz_consistent_with_radec(translated: list[tuple[dict[str, Any], RawInfo]]) -> None:
    header, info = translated[0]
    e = info.exposure
    begin, end = e["timespan"].to_times()
    mid = begin + (end - begin) / 2
    location = astropy.coordinates.EarthLocation.from_geodetic(
        OBSERVATORY["longitude"] * u.deg, OBSERVATORY["latitude"] * u.deg, OBSERVATORY["height"] * u.m
    )
    altaz = astropy.coordinates.SkyCoord(e["tracking_ra"] * u.deg, e["tracking_dec"] * u.deg).transform_to(
        astropy.coordinates.AltAz(obstime=mid, location=location)
    )
    assert e["azimuth"] == pytest.approx(altaz.az.deg, abs=1e-4)
    assert e["zenith_angle"] == pytest.approx(90.0 - altaz.alt.deg, abs=1e-4)
    assert header["AIRMASS"] == pytest.approx(float(altaz.secz), rel=1e-3)


def test_snaps_share_group(translated: list[tuple[dict[str, Any], RawInfo]]) -> None:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, info in translated:
        if info.detector == 0:
            groups[info.group].append(info.exposure)
    pairs = [g for g in groups.values() if len(g) == 2]
    assert len(pairs) == 2  # cycle positions 1-2 and 5-6 within 12 exposures
    for members in groups.values():
        members.sort(key=lambda e: e["seq_num"])
        seqs = [e["seq_num"] for e in members]
        assert seqs == list(range(members[0]["seq_start"], members[0]["seq_end"] + 1))
        assert (
            len(
                {(e["tracking_ra"], e["tracking_dec"], e["sky_angle"], e["physical_filter"]) for e in members}
            )
            == 1
        )
        # The group name's digits are the first exposure's ID.
        assert int(members[0]["group"].replace("_", "")) == members[0]["id"]
    for members in pairs:
        assert all(e["observation_type"] == "science" for e in members)
        assert members[0]["timespan"].end <= members[1]["timespan"].begin


def test_dict_and_fitsio_headers_agree(translated: list[tuple[dict[str, Any], RawInfo]]) -> None:
    header, info = translated[3]
    assert SimCam().translate_raw_header(header) == info


@pytest.fixture
def good_header(translated: list[tuple[dict[str, Any], RawInfo]]) -> dict[str, Any]:
    return dict(translated[0][0])


@pytest.mark.parametrize(
    "key", ["EXPTIME", "DATE-OBS", "FILTER", "OBSID", "EXPID", "INSTRUME", "SEQNUM", "OBSTYPE"]
)
def test_missing_required_key(good_header: dict[str, Any], key: str) -> None:
    del good_header[key]
    with pytest.raises(InstrumentError, match=f"'{key}'"):
        SimCam().translate_raw_header(good_header)


def test_missing_optional_keys_default(good_header: dict[str, Any]) -> None:
    for key in ("DARKTIME", "GROUPID", "SEQSTART", "SEQEND", "DAYOBS", "RA", "DEC", "ROTPA", "AZ", "ALT"):
        del good_header[key]
    e = SimCam().translate_raw_header(good_header).exposure
    assert e["dark_time"] == e["exposure_time"]
    assert e["group"] == e["obs_id"]
    assert e["seq_start"] == e["seq_end"] == e["seq_num"]
    assert e["day_obs"] == 20250314
    assert e["tracking_ra"] is None and e["zenith_angle"] is None


def test_detector_by_name_when_no_id(good_header: dict[str, Any]) -> None:
    del good_header["DET-ID"]
    good_header["DETECTOR"] = "R00_S22"
    assert SimCam().translate_raw_header(good_header).detector == 8
    good_header["DETECTOR"] = "R00_S99"
    with pytest.raises(InstrumentError, match="R00_S99"):
        SimCam().translate_raw_header(good_header)


@pytest.mark.parametrize(
    ("key", "value", "pattern"),
    [
        ("EXPTIME", "thirty", r"'EXPTIME'.*'thirty'"),
        ("EXPTIME", -1.0, r"'EXPTIME'.*-1\.0"),
        ("DATE-OBS", "yesterday", r"'DATE-OBS'.*'yesterday'"),
        ("DET-ID", 42, r"42"),
        ("SEQNUM", 1.5, r"'SEQNUM'.*1\.5"),
        ("INSTRUME", "HSC", r"'HSC'"),
        ("FILTER", "SimCam-y", r"'SimCam-y'"),
        ("EXPID", 10**15, r"'EXPID'"),
        ("RA", "north", r"'RA'.*'north'"),
    ],
)
def test_bad_values(good_header: dict[str, Any], key: str, value: object, pattern: str) -> None:
    good_header[key] = value
    with pytest.raises(InstrumentError, match=pattern):
        SimCam().translate_raw_header(good_header)
