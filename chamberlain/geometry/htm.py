"""Batch HTM covers for many small regions at once, vectorised with numpy.

The registry's sky-pixel index needs, for every inserted region, the HTM
trixels that touch the region's bounding circle. lsst.sphgeom computes such an
envelope one region at a time (a few microseconds each, holding the GIL); for
bulk inserts of detector-sized regions that was half the cost of the insert.
`HtmCover` computes the same kind of cover for a whole batch of convex
polygons with array operations:

1. each polygon's vertices are read from its sphgeom encoding; its bounding
   circle is centred on the normalised vertex sum with the largest vertex
   distance as radius (every vertex inside a cap smaller than a hemisphere
   puts the whole convex polygon inside it);
2. the trixel holding each centre is found by descending the HTM tree;
3. a circle that stays farther than its radius from all three edges of that
   trixel touches nothing else; otherwise every trixel sharing a vertex with
   it (its "ring", precomputed once) is tested exactly: the circle touches a
   neighbour when one of the neighbour's edges (great-circle arcs) comes
   within the radius of the centre.

Step 3 is only complete when the circle cannot reach past the ring, so circles
wider than `HtmCover.max_radius` (half the smallest trixel altitude, ~0.25 deg
at level 7: the nearest trixel outside any trixel's ring is one altitude away,
so a circle up to half that, centred anywhere in the trixel, cannot reach it)
and regions that are not convex polygons are left to sphgeom. Distances get
a small allowance (`SLACK`, ~20 milliarcseconds) so rounding can only add
trixels, never drop one. The result is a superset of the trixels the region
overlaps, as the index requires; `tests/geometry/test_htm.py` checks it
against sphgeom on random regions everywhere on the sky.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import lsst.sphgeom as sg
import numpy as np

from chamberlain.errors import GeometryError

__all__ = ["BATCH_MIN", "SLACK", "HtmCover", "cover", "region_pixels"]

#: Batches with fewer regions than this go to sphgeom one at a time: the
#: array path has a fixed cost of ~0.2 ms, about 50 sphgeom envelopes.
BATCH_MIN = 64

#: Angular allowance (radians, ~20 milliarcseconds) added to every distance
#: test: about the tolerance sphgeom's own overlap tests allow themselves.
SLACK = 1e-7

#: Vertex indices of the HTM root trixels S0..S3 (ids 8..11) and N0..N3 (12..15)
#: into _ROOT_VERTICES, in sphgeom's order.
_ROOT_VERTICES = np.array(
    [[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=np.float64
)
_ROOTS = [(0, 5, 1), (1, 5, 2), (2, 5, 3), (3, 5, 0), (0, 4, 3), (3, 4, 2), (2, 4, 1), (1, 4, 0)]


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _subdivide(tri: np.ndarray) -> np.ndarray:
    """Children of trixels ``tri`` (n, 3, 3) in HTM order, shape (4n, 3, 3)."""
    v0, v1, v2 = tri[:, 0], tri[:, 1], tri[:, 2]
    w0 = _normalize(v1 + v2)
    w1 = _normalize(v0 + v2)
    w2 = _normalize(v0 + v1)
    children = np.stack(
        [
            np.stack([v0, w2, w1], axis=1),
            np.stack([v1, w0, w2], axis=1),
            np.stack([v2, w1, w0], axis=1),
            np.stack([w0, w1, w2], axis=1),
        ],
        axis=1,
    )
    return children.reshape(-1, 3, 3)


def _unit_cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _normalize(np.cross(a, b))


class HtmCover:
    """Precomputed tables for covering circles with trixels of one HTM level.

    Parameters
    ----------
    level
        The HTM level (the registry uses 7). Building the tables takes
        ~0.1 s and ~20 MB at level 7; use `cover` for a shared instance.
    """

    def __init__(self, level: int) -> None:
        self.level = level
        tri = _ROOT_VERTICES[np.array(_ROOTS)]
        #: Per level below ``level``: the three inner-edge normals of each trixel,
        #: used to pick the child holding a point.
        self._split: list[np.ndarray] = []
        for _ in range(level):
            v0, v1, v2 = tri[:, 0], tri[:, 1], tri[:, 2]
            w0, w1, w2 = _normalize(v1 + v2), _normalize(v0 + v2), _normalize(v0 + v1)
            self._split.append(np.stack([np.cross(w2, w1), np.cross(w0, w2), np.cross(w1, w0)], axis=1))
            tri = _subdivide(tri)
        self._tri = tri
        n = len(tri)
        #: Outward-facing unit normals of each trixel's edges (v0v1, v1v2, v2v0), (n, 3, 3).
        self._edge_normals = np.stack(
            [
                _unit_cross(tri[:, 0], tri[:, 1]),
                _unit_cross(tri[:, 1], tri[:, 2]),
                _unit_cross(tri[:, 2], tri[:, 0]),
            ],
            axis=1,
        )
        # Trixels sharing a vertex: identify vertices by their exact coordinates
        # (every shared vertex is computed by the same float operations).
        flat = np.ascontiguousarray(tri.reshape(-1, 3))
        _, vertex_id = np.unique(flat.view(np.dtype((np.void, 24))).ravel(), return_inverse=True)
        owner = np.repeat(np.arange(n), 3)
        order = np.argsort(vertex_id, kind="stable")
        sorted_vid = vertex_id[order]
        starts = np.flatnonzero(np.r_[True, sorted_vid[1:] != sorted_vid[:-1]])
        counts = np.diff(np.r_[starts, len(order)])
        width = int(counts.max())
        star = np.full((len(starts), width), -1, dtype=np.int64)
        rank = np.arange(len(order)) - np.repeat(starts, counts)
        star[np.repeat(np.arange(len(starts)), counts), rank] = owner[order]
        vid = vertex_id.reshape(n, 3)
        ring = np.concatenate([star[vid[:, 0]], star[vid[:, 1]], star[vid[:, 2]]], axis=1)
        ring = np.where(ring == np.arange(n)[:, None], -1, ring)
        ring.sort(axis=1)
        # Drop duplicates (edge neighbours appear in two stars).
        dup = np.zeros_like(ring, dtype=bool)
        dup[:, 1:] = ring[:, 1:] == ring[:, :-1]
        ring[dup] = -1
        ring.sort(axis=1)
        keep = int((ring >= 0).sum(axis=1).max())
        self._ring = ring[:, -keep:]
        # Smallest distance from a vertex to the opposite edge, over all trixels.
        alt = np.abs(np.einsum("nij,nij->ni", tri[:, [2, 0, 1]], self._edge_normals))
        #: Largest circle radius (radians) `cover_circles` handles itself.
        self.max_radius = 0.5 * float(np.arcsin(alt.min()))
        # Each trixel's own bounding circle, for a cheap first test of ring candidates.
        self._centers = _normalize(tri.sum(axis=1))
        chord = np.sqrt(((tri - self._centers[:, None, :]) ** 2).sum(axis=2)).max(axis=1)
        self._radii = 2.0 * np.arcsin(chord / 2.0)
        self._first_id = 8 * 4**level

    # --- point location ------------------------------------------------------------------

    def locate(self, points: np.ndarray) -> np.ndarray:
        """Find the trixels that hold unit vectors.

        Parameters
        ----------
        points : `numpy.ndarray`
            Unit vectors, shape ``(n, 3)``.

        Returns
        -------
        rows : `numpy.ndarray`
            Row numbers (0-based at this level, int64, shape ``(n,)``) of the
            trixels holding each point; add ``8 * 4**level`` for HTM ids.
        """
        x, y, z = points[:, 0], points[:, 1], points[:, 2]
        # Root order: S0..S3 (z < 0), N0..N3; quadrant by the signs of x and y.
        south = np.where(x >= 0, np.where(y >= 0, 0, 3), np.where(y >= 0, 1, 2))
        north = np.where(x >= 0, np.where(y >= 0, 7, 4), np.where(y >= 0, 6, 5))
        idx = np.where(z < 0, south, north).astype(np.int64)
        for normals in self._split:
            nrm = normals[idx]  # (n, 3, 3)
            d = np.einsum("nij,nj->ni", nrm, points)
            child = np.where(d[:, 0] >= 0, 0, np.where(d[:, 1] >= 0, 1, np.where(d[:, 2] >= 0, 2, 3)))
            idx = idx * 4 + child
        return idx

    # --- covers --------------------------------------------------------------------------

    def cover_circles(self, centers: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Find the HTM ids of the trixels touching each circle (a superset; see the module docs).

        Parameters
        ----------
        centers : `numpy.ndarray`
            Circle centres as unit vectors, shape ``(n, 3)``.
        radii : `numpy.ndarray`
            Opening angles in radians, shape ``(n,)``, each at most `max_radius`.

        Returns
        -------
        owner, pixel : `numpy.ndarray`
            For each (circle, trixel) pair the circle's position in ``centers``
            and the trixel's HTM id, ordered by circle.

        Raises
        ------
        GeometryError
            If a radius exceeds `max_radius`.
        """
        if len(radii) and float(radii.max()) > self.max_radius:
            raise GeometryError(
                f"Circle radius {float(radii.max())} exceeds the batch cover limit {self.max_radius}."
            )
        home = self.locate(centers)
        sin_r = np.sin(radii + SLACK)
        # Distance from the centre to each edge's great circle of the home trixel.
        near = np.abs(np.einsum("nij,nj->ni", self._edge_normals[home], centers)) <= sin_r[:, None]
        owner = np.arange(len(home))
        rows = np.flatnonzero(near.any(axis=1))
        if len(rows) == 0:
            return owner, home + self._first_id
        cand = self._ring[home[rows]]  # (m, k), -1 padded
        pair_row = np.repeat(rows, cand.shape[1])
        pair_tri = cand.ravel()
        valid = pair_tri >= 0
        pair_row, pair_tri = pair_row[valid], pair_tri[valid]
        # Keep the candidates whose bounding circles the circle reaches.
        cos_sep = np.einsum("ij,ij->i", centers[pair_row], self._centers[pair_tri])
        reach = np.minimum(radii[pair_row] + self._radii[pair_tri] + SLACK, math.pi)
        maybe = cos_sep >= np.cos(reach)
        pair_row, pair_tri = pair_row[maybe], pair_tri[maybe]
        hit = self._touches(centers[pair_row], radii[pair_row], pair_tri)
        all_owner = np.concatenate([owner, pair_row[hit]])
        all_pixel = np.concatenate([home, pair_tri[hit]]) + self._first_id
        order = np.argsort(all_owner, kind="stable")
        return all_owner[order], all_pixel[order]

    def _touches(self, c: np.ndarray, radii: np.ndarray, tri_idx: np.ndarray) -> np.ndarray:
        """Whether circles (c, radii) come within their radius of trixels ``tri_idx`` (c outside them)."""
        tri = self._tri[tri_idx]  # (m, 3, 3)
        normals = self._edge_normals[tri_idx]  # (m, 3, 3)
        r = radii + SLACK
        sin_r = np.sin(r)
        chord2 = (2.0 * np.sin(np.minimum(r, math.pi) / 2.0)) ** 2
        result = np.zeros(len(c), dtype=bool)
        for e in range(3):
            a, b, n = tri[:, e], tri[:, (e + 1) % 3], normals[:, e]
            s = np.einsum("ij,ij->i", c, n)
            p = c - s[:, None] * n  # projection onto the edge's great circle
            inside_arc = (np.einsum("ij,ij->i", np.cross(a, p), n) >= 0) & (
                np.einsum("ij,ij->i", np.cross(p, b), n) >= 0
            )
            close_line = np.abs(s) <= sin_r
            da = ((c - a) ** 2).sum(axis=1)
            db = ((c - b) ** 2).sum(axis=1)
            close_end = np.minimum(da, db) <= chord2
            result |= (inside_arc & close_line) | close_end
        return result


@cache
def cover(level: int) -> HtmCover:
    """Return the shared `HtmCover` of a level (built on first use).

    Parameters
    ----------
    level : `int`
        The HTM level.

    Returns
    -------
    cover : `HtmCover`
        The cached tables for that level.
    """
    return HtmCover(level)


def polygon_circles(encoded: Sequence[bytes | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Find the bounding circles of the convex polygons among encoded sphgeom regions.

    Parameters
    ----------
    encoded : `~collections.abc.Sequence` [`bytes` or None]
        Region encodings (``sphgeom.Region.encode``); None for no region.

    Returns
    -------
    rows : `numpy.ndarray`
        The positions in ``encoded`` that hold convex polygons, ascending.
        Other regions (and None) are not in ``rows``.
    centers : `numpy.ndarray`
        Their circles' unit-vector centres, shape ``(m, 3)``.
    radii : `numpy.ndarray`
        Their circles' radii in radians, shape ``(m,)``.
    """
    by_size: dict[int, list[int]] = {}
    for i, data in enumerate(encoded):
        if data is not None and data[:1] == b"p" and (len(data) - 1) % 24 == 0:
            by_size.setdefault(len(data), []).append(i)
    rows_out, centers_out, radii_out = [], [], []
    for size, rows in by_size.items():
        nv = (size - 1) // 24
        buf = np.frombuffer(b"".join(encoded[i] for i in rows), dtype=np.uint8).reshape(len(rows), size)  # type: ignore[misc]
        verts = np.ascontiguousarray(buf[:, 1:]).view("<f8").reshape(len(rows), nv, 3)
        center = _normalize(verts.sum(axis=1))
        chord = np.sqrt(((verts - center[:, None, :]) ** 2).sum(axis=2)).max(axis=1)
        radius = 2.0 * np.arcsin(np.minimum(chord / 2.0, 1.0))
        good = np.isfinite(radius)
        rows_out.append(np.asarray(rows)[good])
        centers_out.append(center[good])
        radii_out.append(radius[good])
    if not rows_out:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 3)), np.zeros(0)
    rows_all = np.concatenate(rows_out)
    order = np.argsort(rows_all, kind="stable")
    return rows_all[order], np.concatenate(centers_out)[order], np.concatenate(radii_out)[order]


def envelope_pixels(pixelization: sg.HtmPixelization, region: sg.Region) -> list[int]:
    """Compute sphgeom's cover of a region's bounding circle, as a list of trixel ids.

    Parameters
    ----------
    pixelization : `lsst.sphgeom.HtmPixelization`
        The pixelization (level) to cover with.
    region : `lsst.sphgeom.Region`
        The region whose bounding circle is covered.

    Returns
    -------
    pixels : `list` [`int`]
        HTM ids of the trixels of the envelope, ascending.
    """
    out: list[int] = []
    for begin, end in pixelization.envelope(region.getBoundingCircle()).ranges():
        out.extend(range(begin, end))
    return out


def region_pixels(
    level: int,
    regions: Sequence[sg.Region | None],
    encoded: Sequence[bytes | None] | None = None,
    *,
    method: str = "auto",
) -> tuple[list[int], list[int]]:
    """Find the trixels of HTM ``level`` touching each region's bounding circle.

    Small convex polygons go through the batch cover, everything else
    through sphgeom one at a time. The two covers agree on the trixels a
    region truly overlaps but may differ in trixels it only comes near, so
    code removing index rows should remove those of both.

    Parameters
    ----------
    level : `int`
        The HTM level of the trixels.
    regions : `~collections.abc.Sequence` [`lsst.sphgeom.Region` or None]
        The regions; None entries get no trixels.
    encoded : `~collections.abc.Sequence` [`bytes` or None], optional
        The regions' encodings, if they are already at hand (saves encoding
        them again).
    method : `str`, optional
        ``auto`` (the batch cover for at least `BATCH_MIN` regions),
        ``batch`` (the batch cover for every small polygon, however few) or
        ``sphgeom`` (sphgeom for every region).

    Returns
    -------
    owner, pixel : `list` [`int`]
        One entry per (region, trixel) pair: the region's position in
        ``regions`` and the trixel id, ordered by region.

    Raises
    ------
    GeometryError
        If ``method`` is not one of the three names.
    """
    if method not in ("auto", "batch", "sphgeom"):
        raise GeometryError(f"Unknown cover method {method!r}; use 'auto', 'batch' or 'sphgeom'.")
    minimum = {"auto": BATCH_MIN, "batch": 1, "sphgeom": len(regions) + 1}[method]
    done = np.zeros(len(regions), dtype=bool)
    owner: list[int] = []
    pixel: list[int] = []
    if len(regions) >= minimum:
        if encoded is None:
            encoded = [None if r is None else r.encode() for r in regions]
        rows, centers, radii = polygon_circles(encoded)
    else:
        rows = np.zeros(0, dtype=np.int64)
    if len(rows) >= minimum:
        table = cover(level)
        small = radii <= table.max_radius
        if small.any():
            o, p = table.cover_circles(centers[small], radii[small])
            owner = rows[small][o].tolist()
            pixel = p.tolist()
            done[rows[small]] = True
    rest = [i for i in np.flatnonzero(~done).tolist() if regions[i] is not None]
    if not rest:
        return owner, pixel
    batched = bool(owner)
    pixelization = sg.HtmPixelization(level)
    for i in rest:
        pix = envelope_pixels(pixelization, regions[i])  # type: ignore[arg-type]
        owner.extend([i] * len(pix))
        pixel.extend(pix)
    if not batched:
        return owner, pixel
    order = sorted(range(len(owner)), key=owner.__getitem__)
    return [owner[k] for k in order], [pixel[k] for k in order]


def pixel_lists(count: int, owner: Sequence[int], pixel: Sequence[int]) -> list[list[int]]:
    """Regroup ``(owner, pixel)`` pairs into one list of pixels per region.

    Parameters
    ----------
    count : `int`
        The number of regions.
    owner, pixel : `~collections.abc.Sequence` [`int`]
        Pairs as returned by `region_pixels`.

    Returns
    -------
    pixels : `list` [`list` [`int`]]
        For each region position below ``count``, its pixels in pair order.
    """
    out: list[list[int]] = [[] for _ in range(count)]
    for o, p in zip(owner, pixel):
        out[o].append(p)
    return out
