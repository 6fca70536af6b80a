"""Camera geometry: WCS orientation, regions via astropy and via numpy."""

from __future__ import annotations

import numpy as np
import pytest
from lsst.sphgeom import LonLat, UnitVector3d

from chamberlain.errors import InstrumentError
from chamberlain.instrument import CameraGeometry, DetectorGeometry, SimCam

RA, DEC = 150.2, -30.5


@pytest.fixture(scope="module")
def simcam() -> SimCam:
    return SimCam()


def _vertices(poly) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([[v.x(), v.y(), v.z()] for v in poly.getVertices()])


def _same_vertices(a, b, tol: float = 1e-11) -> bool:  # type: ignore[no-untyped-def]
    va, vb = _vertices(a), _vertices(b)
    if len(va) != len(vb):
        return False
    return all(np.min(np.linalg.norm(vb - v, axis=1)) < tol for v in va)


def test_wcs_orientation(simcam: SimCam) -> None:
    # Detector 4 sits at the boresight with a zero mount rotation.
    wcs = simcam.detector_wcs(4, RA, DEC, 0.0)
    (ra0, dec0), (ra_up, dec_up), (ra_right, dec_right) = wcs.wcs_pix2world(
        [[1023.5, 1023.5], [1023.5, 1123.5], [1123.5, 1023.5]], 0
    )
    assert ra0 == pytest.approx(RA, abs=1e-9) and dec0 == pytest.approx(DEC, abs=1e-9)
    assert dec_up - dec0 == pytest.approx(100 * 0.2 / 3600, rel=1e-6)  # +y is North
    assert ra_up == pytest.approx(ra0, abs=1e-9)
    assert ra_right < ra0  # +x is West at sky angle 0
    assert dec_right == pytest.approx(dec0, abs=1e-5)
    east = simcam.detector_wcs(4, RA, DEC, 90.0).wcs_pix2world([[1023.5, 1123.5]], 0)[0]
    assert east[0] > RA  # sky angle 90: +y points East
    assert east[1] == pytest.approx(DEC, abs=1e-5)


def test_pixel_scale(simcam: SimCam) -> None:
    wcs = simcam.detector_wcs(0, RA, DEC, 33.0)
    scales = wcs.proj_plane_pixel_scales()
    assert [s.to_value("arcsec") for s in scales] == pytest.approx([0.2, 0.2], rel=1e-9)


@pytest.mark.parametrize("rotation", [0.0, 47.0, 211.5])
@pytest.mark.parametrize("padding", [0, 250])
def test_vectorised_regions_match_wcs(simcam: SimCam, rotation: float, padding: int) -> None:
    fast = simcam.detector_regions(RA, DEC, rotation, padding)
    assert sorted(fast) == list(range(9))
    for det_id, poly in fast.items():
        slow = simcam.detector_region(det_id, RA, DEC, rotation, padding_pixels=padding)
        assert _same_vertices(poly, slow), det_id


def test_regions_many_match_single(simcam: SimCam) -> None:
    ras, decs, rots = (
        np.array([10.0, 150.0, 359.9]),
        np.array([-80.0, 2.0, 45.0]),
        np.array([0.0, 120.0, 300.0]),
    )
    many = simcam.detector_regions_many(ras, decs, rots, 50)
    assert len(many) == 3
    for regions, ra, dec, rot in zip(many, ras, decs, rots, strict=True):
        single = simcam.detector_regions(ra, dec, rot, 50)
        assert all(_same_vertices(regions[d], single[d]) for d in range(9))


def test_padding_and_disjointness(simcam: SimCam) -> None:
    plain = simcam.detector_regions(RA, DEC, 10.0)
    padded = simcam.detector_regions(RA, DEC, 10.0, padding=100)
    for det_id in plain:
        assert all(padded[det_id].contains(v) for v in plain[det_id].getVertices())
        assert not all(plain[det_id].contains(v) for v in padded[det_id].getVertices())
    # Unpadded detectors are separated by gaps; padding by 100 pixels (20") closes them.
    assert plain[4].isDisjointFrom(plain[5])
    assert not padded[4].isDisjointFrom(padded[5])
    visit = simcam.visit_region(RA, DEC, 10.0, padding=100)
    for poly in padded.values():
        assert all(visit.contains(v) for v in poly.getVertices())
    assert visit.contains(UnitVector3d(LonLat.fromDegrees(RA, DEC)))


def test_bad_detector_ids(simcam: SimCam) -> None:
    with pytest.raises(InstrumentError, match=r"No detector with ID 9\b"):
        simcam.detector_region(9, RA, DEC, 0.0)
    with pytest.raises(InstrumentError, match="'4'"):
        simcam.detector_wcs("4", RA, DEC, 0.0)  # type: ignore[arg-type]
    with pytest.raises(InstrumentError, match="True"):
        simcam.get_detector(True)


def test_camera_rejects_duplicates() -> None:
    det = DetectorGeometry(1, "A", "A", "R", "SCIENCE", 10, 10, 1.0, 0.0, 0.0)
    other = DetectorGeometry(1, "B", "B", "R", "SCIENCE", 10, 10, 1.0, 20.0, 0.0)
    with pytest.raises(InstrumentError, match="ID 1"):
        CameraGeometry([det, other])
    with pytest.raises(InstrumentError, match="'A'"):
        CameraGeometry([det, DetectorGeometry(2, "A", "A", "R", "SCIENCE", 10, 10, 1.0, 20.0, 0.0)])


def test_focal_plane_round_trip(simcam: SimCam) -> None:
    det = simcam.get_detector(2)
    x, y = np.array([0.0, 100.0, 2047.0]), np.array([5.0, 1500.0, 2047.0])
    u, v = det.pixel_to_focal_plane(x, y)
    x2, y2 = det.focal_plane_to_pixel(u, v)
    assert np.allclose(x2, x) and np.allclose(y2, y)
    assert np.all(u > 200) and np.all(v < -200)  # S02: column 2 (+u), row 0 (-v)
