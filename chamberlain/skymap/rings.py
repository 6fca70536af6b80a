"""RingsSkyMap: declination rings of equal-size tracts plus two polar caps (Rubin ``version=1``)."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import lsst.sphgeom as sphgeom
import numpy as np
import numpy.typing as npt

from ._coords import SkyCoordLike, as_vector, as_vectors
from ._projection import vectors_to_lonlat
from .base import BaseSkyMap
from .config import RingsSkyMapConfig
from .patch import PatchInfo
from .tract import SkyMapLookupError, TractInfo

__all__ = ["RingsSkyMap"]

_TWO_PI = 2.0 * math.pi


class RingsSkyMap(BaseSkyMap):
    """Tracts on ``num_rings`` declination rings between two polar caps.

    Ring ``i`` spans declinations ``[(i + 0.5) * h - pi/2, (i + 1.5) * h - pi/2]`` with
    ``h = pi / (num_rings + 1)`` and holds ``int(2 pi cos(d) / h) + 1`` tracts, ``d`` the
    smaller ``|dec|`` of its edges. Tract 0 is the south cap, then each ring from
    ``ra_start`` eastwards, south to north, and the last tract is the north cap.

    Parameters
    ----------
    config : `RingsSkyMapConfig`, `~collections.abc.Mapping` or None
        The config, a mapping of its keys (``num_rings``, ``ra_start`` and
        the common ones), or `None`.
    **kwargs
        Config keys overriding those in ``config``.

    Raises
    ------
    SkyMapError
        If a config value is invalid; the message names the key.
    """

    config_class: ClassVar[type[RingsSkyMapConfig]] = RingsSkyMapConfig
    config: RingsSkyMapConfig

    def __init__(self, config: RingsSkyMapConfig | Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        n_rings = self.config.num_rings
        self.ring_size = math.pi / (n_rings + 1)
        counts = []
        for i in range(n_rings):
            start = self.ring_size * (i + 0.5) - 0.5 * math.pi
            stop = start + self.ring_size
            d = min(math.fabs(start), math.fabs(stop))
            counts.append(int(2 * math.pi * math.cos(d) / self.ring_size) + 1)
        #: Number of tracts in each ring, south to north.
        self.ring_counts: tuple[int, ...] = tuple(counts)
        # First tract id of each ring (index n_rings = id of the north cap).
        self._ring_offsets = np.concatenate([[1], 1 + np.cumsum(counts)]).astype(np.int64)
        self._num_tracts = sum(counts) + 2
        self._first_ring_start = self.ring_size * 0.5 - 0.5 * math.pi
        self._ra_start = math.radians(self.config.ra_start)

    def __len__(self) -> int:
        return self._num_tracts

    def _pack_subclass_config(self) -> bytes:
        return struct.pack("<id", self.config.num_rings, self.config.ra_start)

    # --- numbering ----------------------------------------------------------------------------

    def ring_indices(self, tract_id: int) -> tuple[int, int]:
        """Return ``(ring, index in ring)`` of a tract; ring -1 is the south cap and ``num_rings`` the north cap.

        Parameters
        ----------
        tract_id : `int`
            A tract number, ``0 <= tract_id < len(self)``.

        Returns
        -------
        ring, index : `int`
            The ring of the tract and its position in the ring (0 for a cap).

        Raises
        ------
        SkyMapLookupError
            If ``tract_id`` is out of range.
        """
        if not 0 <= tract_id < self._num_tracts:
            raise SkyMapLookupError(f"Tract {tract_id} is out of range; valid ids are 0..{len(self) - 1}.")
        if tract_id == 0:
            return -1, 0
        if tract_id == self._num_tracts - 1:
            return self.config.num_rings, 0
        ring = int(np.searchsorted(self._ring_offsets, tract_id, side="right")) - 1
        return ring, tract_id - int(self._ring_offsets[ring])

    def ring_dec_range(self, ring: int) -> tuple[float, float]:
        """Return the declination range (radians) of a ring, or of a cap (ring -1 or ``num_rings``).

        Parameters
        ----------
        ring : `int`
            A ring number; below 0 means the south cap, ``num_rings`` or more the
            north cap.

        Returns
        -------
        dec_min, dec_max : `float`
            The bounds of the ring's tracts' inner regions, in radians.
        """
        if ring < 0:
            return -0.5 * math.pi, self._first_ring_start
        if ring >= self.config.num_rings:
            return -self._first_ring_start, 0.5 * math.pi
        start = self.ring_size * (ring + 0.5) - 0.5 * math.pi
        return start, start + self.ring_size

    def _make_tract(self, tract_id: int) -> TractInfo:
        ring, j = self.ring_indices(tract_id)
        dec_lo, dec_hi = self.ring_dec_range(ring)
        lat = sphgeom.AngleInterval.fromRadians(dec_lo, dec_hi)
        if ring == -1 or ring == self.config.num_rings:
            ra, dec = 0.0, (-0.5 if ring == -1 else 0.5) * math.pi
            inner = sphgeom.Box(sphgeom.NormalizedAngleInterval.full(), lat)
        else:
            n = self.ring_counts[ring]
            dec = self.ring_size * (ring + 1) - 0.5 * math.pi
            ra = (_TWO_PI * j / n + self._ra_start) % _TWO_PI
            half = math.pi / n
            lon = sphgeom.NormalizedAngleInterval.fromRadians((ra - half) % _TWO_PI, (ra + half) % _TWO_PI)
            inner = sphgeom.Box(lon, lat)
        return TractInfo(tract_id, ra, dec, 0.5 * self.ring_size, self.config, inner_region=inner)

    # --- searches -------------------------------------------------------------------------------

    def find_tract_id_array(self, ra: npt.ArrayLike, dec: npt.ArrayLike, degrees: bool = False) -> np.ndarray:
        """Vectorised `find_tract`: return tract ids (int32) of positions.

        Parameters
        ----------
        ra, dec : `numpy.typing.ArrayLike`
            Right ascensions and declinations, of the same shape (scalars
            allowed), in radians unless ``degrees``.
        degrees : `bool`, optional
            Whether ``ra`` and ``dec`` are in degrees.

        Returns
        -------
        tract_ids : `numpy.ndarray`
            The id of the tract whose inner region holds each position (int32,
            at least 1-D).
        """
        ra_a = np.atleast_1d(np.asarray(ra, dtype=np.float64))
        dec_a = np.atleast_1d(np.asarray(dec, dtype=np.float64))
        if degrees:
            ra_a, dec_a = np.radians(ra_a), np.radians(dec_a)
        n_rings = self.config.num_rings
        rings = np.empty(dec_a.shape, dtype=np.int64)
        south = dec_a < self._first_ring_start
        north = dec_a > -self._first_ring_start
        mid = ~south & ~north
        rings[south] = -1
        rings[north] = n_rings
        rings[mid] = ((dec_a[mid] - self._first_ring_start) / self.ring_size).astype(np.int64)
        rings[mid] = np.minimum(rings[mid], n_rings - 1)
        ids = np.zeros(dec_a.shape, dtype=np.int64)
        ids[north] = self._num_tracts - 1
        counts = np.asarray(self.ring_counts, dtype=np.int64)[rings[mid]]
        delta = (ra_a[mid] - self._ra_start) % _TWO_PI
        j = (delta / (_TWO_PI / counts) + 0.5).astype(np.int64)
        j[j >= counts] = 0
        ids[mid] = self._ring_offsets[rings[mid]] + j
        return ids.astype(np.int32)

    def _ring_of(self, dec: float) -> int:
        if dec < self._first_ring_start:
            return -1
        if dec > -self._first_ring_start:
            return self.config.num_rings
        return min(int((dec - self._first_ring_start) / self.ring_size), self.config.num_rings - 1)

    def _index_in_ring(self, ra: float, ring: int) -> int:
        n = self.ring_counts[ring]
        j = int(((ra - self._ra_start) % _TWO_PI) / (_TWO_PI / n) + 0.5)
        return 0 if j >= n else j

    def find_tract(self, coord: SkyCoordLike) -> TractInfo:
        """Return the tract whose inner region holds ``coord`` (O(1) from its ring and RA).

        Parameters
        ----------
        coord : `SkyCoordLike`
            One sky position (see `BaseSkyMap.find_tract`).

        Returns
        -------
        tract : `TractInfo`
            The tract.

        Raises
        ------
        SkyMapError
            If ``coord`` is not a single sky position.
        """
        lon, lat = vectors_to_lonlat(as_vector(coord))
        ring = self._ring_of(float(lat))
        if ring == -1:
            return self[0]
        if ring == self.config.num_rings:
            return self[self._num_tracts - 1]
        return self[int(self._ring_offsets[ring]) + self._index_in_ring(float(lon), ring)]

    def find_all_tracts(self, coord: SkyCoordLike) -> list[TractInfo]:
        """Return every tract containing ``coord``: the 3x3 ring neighbourhood plus both caps are tried.

        Parameters
        ----------
        coord : `SkyCoordLike`
            One sky position (see `BaseSkyMap.find_tract`).

        Returns
        -------
        tracts : `list` [`TractInfo`]
            The tracts whose outer box holds the position.

        Raises
        ------
        SkyMapError
            If ``coord`` is not a single sky position.
        """
        v = as_vector(coord)
        lon, lat = vectors_to_lonlat(v)
        ring = self._ring_of(float(lat))
        found: list[TractInfo] = []
        candidates: list[int] = []
        for r in (ring - 1, ring, ring + 1):
            if r < 0 or r >= self.config.num_rings:
                continue
            n = self.ring_counts[r]
            j = self._index_in_ring(float(lon), r)
            for t in (j - 1, j, j + 1):
                tid = int(self._ring_offsets[r]) + t % n
                if tid not in candidates:
                    candidates.append(tid)
        candidates += [0, self._num_tracts - 1]
        v1 = v[np.newaxis, :]
        for tid in candidates:
            tract = self[tid]
            if tract.contains_vectors(v1)[0]:
                found.append(tract)
        return found

    def find_tract_patch_list(
        self, coords: Iterable[SkyCoordLike]
    ) -> list[tuple[TractInfo, list[PatchInfo]]]:
        """Find the deduplicated ``(tract, patches)`` over `find_all_tracts` of each position.

        Parameters
        ----------
        coords : `~collections.abc.Iterable` [`SkyCoordLike`]
            Sky positions (the corners of the area); see
            `BaseSkyMap.find_tract_patch_list`.

        Returns
        -------
        tract_patches : `list` [`tuple` [`TractInfo`, `list` [`PatchInfo`]]]
            ``(tract, patches)`` for each tract, in the order first found, with
            at least one patch that may overlap the area.

        Raises
        ------
        SkyMapError
            If a position is not a sky coordinate.
        """
        vectors = as_vectors(coords)
        result: list[tuple[TractInfo, list[PatchInfo]]] = []
        seen: set[int] = set()
        for v in vectors:
            for tract in self.find_all_tracts(sphgeom.UnitVector3d(*v.tolist())):
                if tract.tract_id in seen:
                    continue
                patches = tract.find_patch_list(vectors)
                if patches:
                    seen.add(tract.tract_id)
                    result.append((tract, patches))
        return result
