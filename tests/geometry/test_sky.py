"""Sky position <-> unit vector conversions, checked against astropy and sphgeom."""

from __future__ import annotations

import lsst.sphgeom as sphgeom
import numpy as np
from astropy.coordinates import SkyCoord

from chamberlain.geometry import lonlat_to_vectors, radec_to_vectors, vectors_to_lonlat, vectors_to_radec


def test_radec_matches_astropy_cartesian() -> None:
    rng = np.random.default_rng(3)
    ra = rng.uniform(0, 360, 500)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    expected = SkyCoord(ra, dec, unit="deg").cartesian.xyz.value.T
    np.testing.assert_allclose(radec_to_vectors(ra, dec), expected, atol=1e-15)
    back_ra, back_dec = vectors_to_radec(expected * 7.5)  # any length
    np.testing.assert_allclose(back_dec, dec, atol=1e-12)
    np.testing.assert_allclose(np.angle(np.exp(1j * np.radians(back_ra - ra))), 0.0, atol=1e-12)
    assert np.all((back_ra >= 0) & (back_ra < 360))


def test_lonlat_matches_sphgeom_and_edges() -> None:
    for lon, lat in [(0.0, 0.0), (np.pi, 0.5), (6.0, -1.2), (1.0, np.pi / 2)]:
        v = sphgeom.UnitVector3d(sphgeom.LonLat.fromRadians(lon, lat))
        np.testing.assert_allclose(lonlat_to_vectors(lon, lat), [v.x(), v.y(), v.z()], atol=1e-15)
    # A vector just below the x axis has longitude ~2 pi, which must come back as < 2 pi, and -0.0 as 0.
    lon, _ = vectors_to_lonlat(np.array([[1.0, -0.0, 0.0], [1.0, -1e-300, 0.0]]))
    assert np.all((lon >= 0) & (lon < 2 * np.pi))
    assert lon[0] == 0.0
    assert lonlat_to_vectors(np.zeros((2, 3)), np.zeros((2, 3))).shape == (2, 3, 3)
