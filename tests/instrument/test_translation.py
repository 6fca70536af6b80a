"""Tests for chamberlain.instrument.translation against real instrument headers.

Every header in /work/shared/data/headers is written as the primary header of
a FITS file, read back (with fitsio and with astropy), translated, and each
exposure-record field is compared with what the header itself states. The
expectations are computed here from the header keywords, never by asking the
translator again.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import astropy.units as u
import fitsio
import numpy as np
import pytest
import yaml
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS
from lsst.sphgeom import LonLat, UnitVector3d

from chamberlain.errors import InstrumentError
from chamberlain.geometry.timespan import Timespan
from chamberlain.instrument.translation import (
    EXPOSURE_FIELDS,
    TranslatedRaw,
    band_for_physical_filter,
    icrs_degrees,
    normalize_header,
    region_from_header,
    translate_header,
)

HEADER_DIR = Path("/work/shared/data/headers")
_TAI_EPOCH = Time("1970-01-01T00:00:00", scale="tai")
_ONE_MS_NS = 1_000_000
_ARCSEC = 1.0 / 3600.0

# --- loading the YAML headers -------------------------------------------------------------


class _HeaderLoader(yaml.SafeLoader):
    """A YAML loader that understands the ``!<lsst.daf.base.PropertyList>`` tag."""


def _property_list(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> dict[str, Any]:
    header: dict[str, Any] = {}
    for key, _type, value, _comment in loader.construct_sequence(node, deep=True):
        if key in header and key in ("COMMENT", "HISTORY", ""):
            previous = header[key]
            header[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            header[key] = value
    return header


_HeaderLoader.add_constructor("lsst.daf.base.PropertyList", _property_list)


def _load_headers(path: Path) -> list[dict[str, Any]]:
    """All headers in one YAML file (one document, or several; a mapping or a list)."""
    headers: list[dict[str, Any]] = []
    for doc in yaml.load_all(path.read_text(), Loader=_HeaderLoader):
        docs = doc if isinstance(doc, list) else [doc]
        headers.extend(d for d in docs if isinstance(d, dict))
    return headers


def _all_headers() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted(HEADER_DIR.glob("*.yaml")):
        for i, header in enumerate(_load_headers(path)):
            cases.append((f"{path.stem}[{i}]", header))
    return cases


HEADERS = _all_headers()
HEADER_IDS = [name for name, _ in HEADERS]


def test_header_files_found() -> None:
    assert len(HEADERS) >= 6
    assert {h.get("INSTRUME", h.get("TELESCOP")) for _, h in HEADERS} >= {
        "DECam",
        "Hyper Suprime-Cam",
        "MegaPrime",
    }


# --- writing them as FITS files ------------------------------------------------------------

# Structural keywords of the original HDU; the test file's own structure replaces them.
_STRUCTURAL = {"SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT", "TFIELDS", "END"}


def _is_structural(key: str) -> bool:
    return (
        key in _STRUCTURAL
        or (key.startswith("NAXIS") and key[5:].isdigit())
        or (key[:5] in ("TTYPE", "TFORM") and key[5:].isdigit())
    )


def _write_fits(header: dict[str, Any], path: Path) -> None:
    hdr = fits.Header()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # HIERARCH and long-string notices
        for key, value in header.items():
            if _is_structural(key):
                continue
            for v in value if isinstance(value, list) else [value]:
                if key == "COMMENT":
                    hdr.add_comment(v)
                elif key == "HISTORY":
                    hdr.add_history(v)
                else:
                    hdr[key] = v
        fits.PrimaryHDU(header=hdr).writeto(path)


def _read_fitsio(path: Path) -> Any:
    return fitsio.read_header(str(path), 0)


def _read_astropy(path: Path) -> Any:
    return fits.getheader(path, 0)


READERS: dict[str, Callable[[Path], Any]] = {"fitsio": _read_fitsio, "astropy": _read_astropy}


# --- expectations from each header's own keywords -----------------------------------------


def _tai_ns(time: Time) -> int:
    return round((time.tai - _TAI_EPOCH).to_value(u.s) * 1e9)


def _instrument_of(header: dict[str, Any]) -> str:
    instrume = str(header.get("INSTRUME", "")).strip()
    if instrume == "DECam":
        return "DECam"
    if instrume == "MegaPrime":
        return "MegaPrime"
    # One HSC file lacks INSTRUME; HSC exposure IDs start with HSC.
    assert instrume in ("Hyper Suprime-Cam", "") and str(header["EXP-ID"]).startswith("HSC")
    return "HSC"


def _observation_type(raw: str) -> str:
    lowered = raw.strip().lower()
    return "science" if lowered == "object" else lowered


def _expected(header: dict[str, Any]) -> dict[str, Any]:
    """What the exposure record must say, from the header's keywords alone.

    Returns the expected values plus ``_begin`` (astropy time), ``_day_offset``
    (seconds), ``_radec_tol`` (degrees) and ``_band``.
    """
    instrument = _instrument_of(header)
    exp: dict[str, Any] = {"instrument": instrument, "target_name": header.get("OBJECT")}
    exp["observation_type"] = _observation_type(
        header["DATA-TYP"] if instrument == "HSC" else header["OBSTYPE"]
    )
    exp["exposure_time"] = float(header["EXPTIME"])
    if instrument == "DECam":
        exp["id"] = int(header["EXPNUM"])
        exp["obs_id"] = header["OBSID"]
        # DECam bias frames are taken behind the solid plate whatever FILTER says;
        # astro-metadata-translator's documented DECam header fix-up applies that.
        zero = exp["observation_type"] in ("zero", "bias")
        exp["physical_filter"] = "solid plate 0.0 0.0" if zero else header["FILTER"]
        exp["_band"] = "solid plate 0.0 0.0" if zero else header["FILTER"].split()[0].lower()
        exp["dark_time"] = float(header["DARKTIME"])
        exp["science_program"] = header["PROPID"]
        exp["_begin"] = Time(header["DATE-OBS"], scale="utc")
        exp["_radec"] = SkyCoord(header["TELRA"], header["TELDEC"], unit=(u.hourangle, u.deg), frame="fk5")
        # The translator corrects the boresight of one known DECam programme
        # (Trifid/Lagoon, Feb 2013) by a few hundredths of a degree.
        exp["_radec_tol"] = 0.1
        exp["azimuth"] = header.get("AZ")
        exp["zenith_angle"] = header.get("ZD")
        exp["sky_angle"] = 90.0  # DECam's translator: fixed rotator angle
        exp["_detector"] = (int(header["CCDNUM"]), header["DETPOS"])
        exp["_day_offset"] = 12 * 3600
    elif instrument == "HSC":
        exp_id = str(header["EXP-ID"])
        exp["id"] = int(exp_id[4:-2])
        exp["obs_id"] = exp_id
        exp["physical_filter"] = header["FILTER01"].upper()
        exp["_band"] = header["FILTER01"][4].lower()
        exp["science_program"] = header["PROP-ID"]
        exp["_begin"] = Time(header["MJD-STR"], format="mjd", scale="utc")
        exp["_radec"] = SkyCoord(header["RA2000"], header["DEC2000"], unit=(u.hourangle, u.deg), frame="icrs")
        exp["_radec_tol"] = _ARCSEC
        exp["azimuth"] = float(header["AZIMUTH"])
        exp["zenith_angle"] = 90.0 - float(header["ALTITUDE"])
        exp["sky_angle"] = (270.0 - float(header["INST-PA"])) % 360.0
        exp["_detector"] = (int(header["DET-ID"]), None)
        exp["_day_offset"] = 0
    else:
        exp["id"] = int(header["EXPNUM"])
        exp["obs_id"] = str(header["OBSID"])
        exp["physical_filter"] = header["FILTER"]
        exp["_band"] = header["FILTER"].split(".")[0]
        exp["dark_time"] = float(header["DARKTIME"])
        exp["science_program"] = header["RUNID"]
        exp["_begin"] = Time(f"{header['DATE-OBS']}T{header['UTC-OBS']}", scale="utc")
        exp["_radec"] = SkyCoord(header["RA_DEG"], header["DEC_DEG"], unit=u.deg, frame="fk5")
        exp["_radec_tol"] = _ARCSEC
        exp["azimuth"] = float(header["TELAZ"])
        exp["zenith_angle"] = 90.0 - float(header["TELALT"])
        exp["sky_angle"] = 0.0  # MegaPrime's translator: no rotator
        exp["_detector"] = (int(header["EXTNAME"][3:]), header["EXTNAME"])
        exp["_day_offset"] = 0
    exp["can_see_sky"] = exp["observation_type"] == "science"
    begin_tai = exp["_begin"].tai - exp["_day_offset"] * u.s
    exp["day_obs"] = int(begin_tai.strftime("%Y%m%d"))
    return exp


# --- translation of each real header, via a FITS file ----------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("raw_headers")
    paths = {}
    for name, header in HEADERS:
        path = root / f"{name.replace('[', '_').replace(']', '')}.fits"
        _write_fits(header, path)
        paths[name] = path
    return paths


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize(("name", "header"), HEADERS, ids=HEADER_IDS)
def test_translate_real_header(
    name: str, header: dict[str, Any], reader: str, written: dict[str, Path]
) -> None:
    path = written[name]
    read_back = READERS[reader](path)
    result = translate_header(read_back, filename=str(path))
    exp = _expected(header)
    rec = result.exposure

    assert isinstance(result, TranslatedRaw)
    assert tuple(rec) == EXPOSURE_FIELDS
    assert result.instrument == exp["instrument"] == rec["instrument"]
    for key in ("id", "obs_id", "physical_filter", "observation_type", "target_name", "science_program"):
        assert rec[key] == exp[key], key
    assert rec["day_obs"] == exp["day_obs"]
    assert rec["exposure_time"] == pytest.approx(exp["exposure_time"], abs=1e-6)
    if "dark_time" in exp:
        assert rec["dark_time"] == pytest.approx(exp["dark_time"], abs=1e-6)
    assert rec["can_see_sky"] is exp["can_see_sky"]
    assert rec["has_simulated"] is False
    assert isinstance(rec["id"], int) and isinstance(rec["day_obs"], int)

    # Times: TAI nanoseconds, begin from the header's own start time within 1 ms.
    span = rec["timespan"]
    assert isinstance(span, Timespan)
    assert span.begin is not None and span.end is not None
    assert abs(span.begin - _tai_ns(exp["_begin"])) < _ONE_MS_NS
    # TAI, not UTC: 33-36 leap seconds separate them in 2008-2015.
    utc_unix_ns = round(exp["_begin"].unix * 1e9)
    assert 32.9e9 < span.begin - utc_unix_ns < 36.1e9
    assert span.end - span.begin >= round(exp["exposure_time"] * 1e9) - _ONE_MS_NS

    # Pointing.
    radec = exp["_radec"].icrs
    assert rec["tracking_ra"] == pytest.approx(radec.ra.deg, abs=exp["_radec_tol"])
    assert rec["tracking_dec"] == pytest.approx(radec.dec.deg, abs=exp["_radec_tol"])
    for key in ("azimuth", "zenith_angle", "sky_angle"):
        if exp[key] is None:
            assert rec[key] is None, key
        else:
            assert rec[key] == pytest.approx(exp[key], abs=1e-6), key

    # Related records.
    det_id, det_full_name = exp["_detector"]
    assert result.detector["id"] == det_id
    if det_full_name is not None:
        assert result.detector["full_name"] == det_full_name
    assert set(result.detector) == {"instrument", "id", "full_name", "name_in_raft", "raft", "purpose"}
    assert result.group == {"instrument": exp["instrument"], "name": rec["group"]}
    assert result.physical_filter == {
        "instrument": exp["instrument"],
        "name": exp["physical_filter"],
        "band": exp["_band"],
    }
    day = result.day_obs
    assert day["instrument"] == exp["instrument"] and day["id"] == exp["day_obs"]
    assert day["timespan"] == Timespan.from_day_obs(exp["day_obs"], exp["_day_offset"])
    assert day["timespan"].contains(span.begin)


@pytest.mark.parametrize(("name", "header"), HEADERS, ids=HEADER_IDS)
def test_header_kinds_agree_and_input_untouched(name: str, header: dict[str, Any]) -> None:
    """dict, astropy Header and fitsio FITSHDR give the same records; the input is not modified."""
    before = copy.deepcopy(header)
    from_dict = translate_header(header)
    assert header == before  # the translators' header fix-ups edit a private copy
    cards = {k: v for k, v in header.items() if not _is_structural(k) and not isinstance(v, list)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_astropy = translate_header(fits.Header(cards))
    from_fitsio = translate_header(fitsio.FITSHDR([{"name": k, "value": v} for k, v in cards.items()]))
    assert from_astropy == from_dict
    assert from_fitsio == from_dict


# --- errors ------------------------------------------------------------------------------------


def test_unknown_instrument_names_file_and_instrument(tmp_path: Path) -> None:
    # A realistic header (DECam's) whose instrument nobody supports; DECam's translator
    # also recognises its own filter names, so the filter changes too.
    header = dict(next(h for _, h in HEADERS if h.get("INSTRUME") == "DECam"))
    header.update(INSTRUME="NOPECAM", TELESCOP="Nope 1.2m", FILTER="r NOPE-R")
    path = tmp_path / "nope_raw.fits"
    _write_fits(header, path)
    with pytest.raises(InstrumentError) as info:
        translate_header(_read_fitsio(path), filename=str(path))
    message = str(info.value)
    assert str(path) in message
    assert "NOPECAM" in message and "Nope 1.2m" in message
    for supported in ("DECam", "HSC", "MegaPrime"):
        assert supported in message


def test_unknown_instrument_without_filename() -> None:
    with pytest.raises(InstrumentError, match="NOPECAM") as info:
        translate_header({"INSTRUME": "NOPECAM"})
    assert "Supported translators" in str(info.value)
    with pytest.raises(InstrumentError, match="neither INSTRUME nor TELESCOP"):
        translate_header({"OBJECT": "M31"}, filename="x.fits")


@pytest.mark.parametrize(("name", "header"), HEADERS, ids=HEADER_IDS)
def test_missing_exptime_names_file_and_key(name: str, header: dict[str, Any], tmp_path: Path) -> None:
    broken = {k: v for k, v in header.items() if k != "EXPTIME"}
    path = tmp_path / "no_exptime.fits"
    _write_fits(broken, path)
    with pytest.raises(InstrumentError) as info:
        translate_header(_read_astropy(path), filename=str(path))
    message = str(info.value)
    assert str(path) in message
    assert "EXPTIME" in message
    # Whichever needed property the translator computes first is named.
    assert "'exposure_time'" in message or "'datetime_end'" in message


@pytest.mark.parametrize(("name", "header"), [c for c in HEADERS if "hsc" in c[0]], ids=lambda x: str(x)[:40])
def test_missing_date_obs_names_file_and_property(name: str, header: dict[str, Any], tmp_path: Path) -> None:
    broken = {k: v for k, v in header.items() if k != "DATE-OBS"}
    path = tmp_path / "no_date.fits"
    _write_fits(broken, path)
    with pytest.raises(InstrumentError) as info:
        translate_header(_read_fitsio(path), filename=str(path))
    message = str(info.value)
    assert str(path) in message and "HSC" in message
    assert "datetime_begin" in message


def test_decam_without_date_obs_uses_mjd_obs() -> None:
    _, header = next(c for c in HEADERS if c[1].get("INSTRUME") == "DECam")
    broken = {k: v for k, v in header.items() if k != "DATE-OBS"}
    begin = translate_header(broken).exposure["timespan"].begin
    expected = _tai_ns(Time(header["MJD-OBS"], format="mjd", scale="utc"))
    assert abs(begin - expected) < 5 * _ONE_MS_NS  # MJD-OBS is rounded to ~1 ms


def test_unreadable_header_type() -> None:
    with pytest.raises(InstrumentError, match="list"):
        translate_header([("INSTRUME", "DECam")])


def test_normalize_header_drops_commentary_and_copies() -> None:
    hdr = fits.Header()
    hdr["INSTRUME"] = "DECam"
    hdr.add_comment("a comment")
    hdr["UNDEF"] = fits.card.UNDEFINED
    plain = normalize_header(hdr)
    assert plain == {"INSTRUME": "DECam", "UNDEF": None}
    plain["INSTRUME"] = "changed"
    assert hdr["INSTRUME"] == "DECam"


# --- bands -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "physical_filter", "band"),
    [
        ("HSC", "HSC-R", "r"),
        ("HSC", "HSC-R2", "r"),
        ("HSC", "HSC-I2", "i"),
        ("HSC", "HSC-Y", "y"),
        ("HSC", "NB0921", "N921"),
        ("HSC", "IB0945", "I945"),
        ("HSC", "ENG-R1", "ENG-R1"),
        ("DECam", "g DECam SDSS c0001 4720.0 1520.0", "g"),
        ("DECam", "Y DECam c0005 10095.0 1130.0", "y"),
        ("DECam", "VR DECam c0007 6300.0 2600.0", "VR"),
        ("DECam", "N964 DECam c0008 9645.0 94.0", "N964"),
        ("DECam", "solid plate 0.0 0.0", "solid plate 0.0 0.0"),
        ("MegaPrime", "i.MP9702", "i"),
        ("MegaPrime", "i2.MP9703", "i"),
        ("MegaPrime", "Ha.MP7605", "Ha.MP7605"),
        ("SDSS", "R", "r"),
        ("SuprimeCam", "W-S-R+", "W-S-R+"),
    ],
)
def test_band_for_physical_filter(instrument: str, physical_filter: str, band: str) -> None:
    assert band_for_physical_filter(instrument, physical_filter) == band


# --- ICRS conversion ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ra", "dec", "frame"),
    [
        (42.81995833, -0.00158306, "fk5"),
        (270.6114705, -23.78616606, "fk5"),
        (0.0, 0.0, "fk5"),
        (359.99999, 10.0, "fk5"),
        (123.0, 89.9999, "fk5"),
        (300.0, -89.5, "fk5"),
        (135.409417, -2.4, "fk5-b1950"),
        (21.1572375, 1.25975833, "icrs"),
        (120.0, 30.0, "galactic"),
    ],
)
def test_icrs_degrees_matches_astropy(ra: float, dec: float, frame: str) -> None:
    if frame == "fk5-b1950":
        coord = SkyCoord(ra * u.deg, dec * u.deg, frame="fk5", equinox="J1950")
    elif frame == "galactic":
        coord = SkyCoord(l=ra * u.deg, b=dec * u.deg, frame="galactic")
    else:
        coord = SkyCoord(ra * u.deg, dec * u.deg, frame=frame)
    got_ra, got_dec = icrs_degrees(coord)
    want = coord.icrs
    assert 0.0 <= got_ra < 360.0
    separation = want.separation(SkyCoord(got_ra * u.deg, got_dec * u.deg, frame="icrs"))
    assert separation.to_value(u.arcsec) < 1e-6
    if frame.startswith("fk5"):  # and the conversion is not a no-op
        unconverted = SkyCoord(coord.ra, coord.dec, frame="icrs")
        assert unconverted.separation(want).to_value(u.arcsec) > 1e-3


# --- regions from the header WCS ---------------------------------------------------------------


def _shape(header: dict[str, Any]) -> tuple[int, int]:
    if "ZNAXIS1" in header:
        return int(header["ZNAXIS1"]), int(header["ZNAXIS2"])
    return int(header["NAXIS1"]), int(header["NAXIS2"])


def _sky_vector(wcs: WCS, x: float, y: float) -> UnitVector3d:
    ra, dec = wcs.all_pix2world([x], [y], 0)
    return UnitVector3d(LonLat.fromDegrees(float(ra[0]), float(dec[0])))


WCS_HEADERS = [c for c in HEADERS if "CTYPE1" in c[1]]


@pytest.mark.parametrize(("name", "header"), WCS_HEADERS, ids=[c[0] for c in WCS_HEADERS])
def test_region_contains_detector_centre(name: str, header: dict[str, Any]) -> None:
    region = region_from_header(header)
    assert region is not None
    nx, ny = _shape(header)
    wcs_cards = {k: v for k, v in header.items() if k[:2] in ("CT", "CR", "CD", "PC", "PV", "RA", "EQ")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(fits.Header({**wcs_cards, "NAXIS": 2, "NAXIS1": nx, "NAXIS2": ny}))
    # The detector's centre pixel and points just inside its corners are in the region ...
    assert region.contains(_sky_vector(wcs, (nx - 1) / 2, (ny - 1) / 2))
    for x, y in ((1, 1), (nx - 2, 1), (1, ny - 2), (nx - 2, ny - 2)):
        assert region.contains(_sky_vector(wcs, x, y)), (x, y)
    # ... and a point one detector-width beyond an edge is not.
    assert not region.contains(_sky_vector(wcs, 2 * nx, (ny - 1) / 2))
    assert not region.contains(_sky_vector(wcs, (nx - 1) / 2, -ny))


def test_region_from_written_compressed_header(written: dict[str, Path]) -> None:
    # DECam raws are tile-compressed: NAXIS1 (8) is the table width, ZNAXIS1 the image's.
    name, header = next(c for c in WCS_HEADERS if c[1].get("INSTRUME") == "DECam")
    read_back = _read_fitsio(written[name])
    region = region_from_header(read_back)
    assert region is not None
    assert region == region_from_header(header)
    radius_deg = math.degrees(region.getBoundingCircle().getOpeningAngle().asRadians())
    # With ZNAXIS the footprint spans the whole CCD (half-diagonal ~0.17 deg at 0.27"/pixel);
    # with NAXIS1 = 8 it would be a sliver.
    half_diagonal = 0.5 * math.hypot(header["ZNAXIS1"], header["ZNAXIS2"]) * header["PIXSCAL1"] / 3600
    assert radius_deg == pytest.approx(half_diagonal, rel=0.1)


def test_region_none_without_usable_wcs() -> None:
    _, header = WCS_HEADERS[0]
    no_wcs = {k: v for k, v in header.items() if not k.startswith("CTYPE")}
    assert region_from_header(no_wcs) is None
    no_size = {k: v for k, v in header.items() if "NAXIS" not in k}
    assert region_from_header(no_size) is None
    singular = {**header, "CD1_1": 0.0, "CD1_2": 0.0, "CD2_1": 0.0, "CD2_2": 0.0}
    for key in [k for k in singular if k.startswith(("PV", "PC", "CDELT"))]:
        del singular[key]
    assert region_from_header(singular) is None
    pixel_axes = {**header, "CTYPE1": "LINEAR", "CTYPE2": "LINEAR"}
    assert region_from_header(pixel_axes) is None


def test_region_from_simple_tan_header() -> None:
    header = {
        "NAXIS1": 100,
        "NAXIS2": 200,
        "CTYPE1": "RA---TAN",
        "CTYPE2": "DEC--TAN",
        "CRVAL1": 10.0,
        "CRVAL2": -30.0,
        "CRPIX1": 50.5,
        "CRPIX2": 100.5,
        "CD1_1": -1.0 / 3600,
        "CD1_2": 0.0,
        "CD2_1": 0.0,
        "CD2_2": 1.0 / 3600,
    }
    region = region_from_header(header)
    assert region is not None
    centre = UnitVector3d(LonLat.fromDegrees(10.0, -30.0))
    assert region.contains(centre)
    # 100 x 200 arcsec footprint: 45 arcsec north of centre is in, 55 arcsec east is out.
    assert region.contains(UnitVector3d(LonLat.fromDegrees(10.0, -30.0 + 45 / 3600)))
    east = 10.0 + 55 / 3600 / np.cos(np.radians(30.0))
    assert not region.contains(UnitVector3d(LonLat.fromDegrees(east, -30.0)))


# --- translators that leave properties unimplemented (plug-ins) --------------------------------


@pytest.fixture
def partial_translator() -> Any:
    """A registered translator (HSC's, re-badged) that lacks two properties."""
    from astro_metadata_translator import MetadataTranslator
    from astro_metadata_translator.translators.hsc import HscTranslator

    class _PartialTranslator(HscTranslator):
        name = "PartialTestCam"
        supported_instrument = "PartialTestCam"

        @classmethod
        def can_translate(cls, header: Any, filename: str | None = None) -> bool:
            return header.get("INSTRUME") == "PARTIALCAM"

        def to_science_program(self) -> str:
            raise NotImplementedError("Translator for 'science_program' undefined.")

        def to_exposure_time(self) -> Any:
            if self._header.get("NO_EXPTIME_METHOD"):
                raise NotImplementedError("Translator for 'exposure_time' undefined.")
            return super().to_exposure_time()

    yield _PartialTranslator
    MetadataTranslator.translators.pop("PartialTestCam", None)


def test_unimplemented_optional_property_becomes_none(partial_translator: Any) -> None:
    _, header = next(c for c in HEADERS if c[1].get("INSTRUME") == "Hyper Suprime-Cam")
    header = {**header, "INSTRUME": "PARTIALCAM"}
    for _ in range(2):  # the second call no longer asks for the missing property
        result = translate_header(header, filename="partial.fits")
        assert result.translator == "PartialTestCam"
        assert result.exposure["science_program"] is None
        assert result.exposure["exposure_time"] == pytest.approx(float(header["EXPTIME"]))
    with pytest.raises(InstrumentError) as info:
        translate_header({**header, "NO_EXPTIME_METHOD": True}, filename="partial.fits")
    message = str(info.value)
    # datetime_end needs exposure_time, so either may be the property that fails first;
    # the message names the unimplemented one either way.
    assert "partial.fits" in message and "'exposure_time'" in message and "not implemented" in message


def test_exposure_fields_match_instrument_base() -> None:
    """The records built here fit the instrument layer's own exposure-record contract."""
    base = pytest.importorskip("chamberlain.instrument.base")
    assert tuple(base.EXPOSURE_FIELDS) == EXPOSURE_FIELDS
    _, header = HEADERS[0]
    result = translate_header(header)
    info = base.RawInfo(detector=result.detector["id"], exposure=result.exposure)
    assert info.exposure["id"] == result.exposure["id"]
