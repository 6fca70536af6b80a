"""What every skymap shares: tract access, searches, the hash and registry records."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any, ClassVar

import lsst.sphgeom as sphgeom
import numpy as np

from ._coords import SkyCoordLike, as_vector, as_vectors
from .config import SkyMapConfig, coerce_config
from .patch import PatchInfo
from .tract import SkyMapLookupError, TractInfo

__all__ = ["BaseSkyMap"]


class BaseSkyMap:
    """Base class of skymaps: an indexable, iterable collection of `TractInfo`.

    Subclasses set `config_class`, implement `_make_tract` and `_pack_subclass_config`,
    and may provide faster searches. Tracts are built on first use and cached.

    Parameters
    ----------
    config : `SkyMapConfig`, `~collections.abc.Mapping` [`str`, `~typing.Any`] or None
        A config model, a mapping of config keys, or `None`.
    **kwargs
        Config keys overriding those in ``config``.

    Raises
    ------
    SkyMapError
        If a config value is invalid; the message names the key and the valid range.
    """

    config_class: ClassVar[type[SkyMapConfig]] = SkyMapConfig

    def __init__(self, config: SkyMapConfig | Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        self.config = coerce_config(self.config_class, config, **kwargs)
        self._tracts: dict[int, TractInfo] = {}

    # --- to be provided by subclasses ---------------------------------------------------

    def __len__(self) -> int:
        raise NotImplementedError

    def _make_tract(self, tract_id: int) -> TractInfo:
        raise NotImplementedError

    def _pack_subclass_config(self) -> bytes:
        raise NotImplementedError

    # --- tracts -----------------------------------------------------------------------------

    def __getitem__(self, tract_id: int) -> TractInfo:
        """Return the tract with this number (built on first use, then cached)."""
        if not isinstance(tract_id, int | np.integer) or isinstance(tract_id, bool):
            raise SkyMapLookupError(f"Tract id {tract_id!r} must be an integer.")
        tract_id = int(tract_id)
        tract = self._tracts.get(tract_id)
        if tract is None:
            if not 0 <= tract_id < len(self):
                raise SkyMapLookupError(
                    f"Tract {tract_id} is not in this {type(self).__name__}; "
                    f"valid ids are 0..{len(self) - 1}."
                )
            tract = self._make_tract(tract_id)
            self._tracts[tract_id] = tract
        return tract

    def __iter__(self) -> Iterator[TractInfo]:
        """All tracts in id order."""
        for tract_id in range(len(self)):
            yield self[tract_id]

    # --- searches ---------------------------------------------------------------------------

    def find_tract(self, coord: SkyCoordLike) -> TractInfo:
        """Return the tract whose centre is nearest to ``coord`` (ties go to the lower id).

        The result need not contain the position. O(number of tracts).

        Parameters
        ----------
        coord : `SkyCoordLike`
            One sky position: an astropy ``SkyCoord``, a sphgeom ``LonLat``,
            ``UnitVector3d`` or ``Vector3d``, or an ``(ra, dec)`` pair in degrees.

        Returns
        -------
        tract : `TractInfo`
            The nearest tract.

        Raises
        ------
        SkyMapError
            If ``coord`` is not a single sky position.
        """
        v = as_vector(coord)
        centres = self._tract_centre_vectors
        return self[int(np.argmax(centres @ v))]

    def find_all_tracts(self, coord: SkyCoordLike) -> list[TractInfo]:
        """Return every tract whose box contains ``coord``, in id order.

        Parameters
        ----------
        coord : `SkyCoordLike`
            One sky position (see `find_tract`).

        Returns
        -------
        tracts : `list` [`TractInfo`]
            The tracts whose outer box holds the position (tracts overlap, so
            there may be several); empty if none does.

        Raises
        ------
        SkyMapError
            If ``coord`` is not a single sky position.
        """
        v = as_vector(coord)[np.newaxis, :]
        return [tract for tract in self if tract.contains_vectors(v)[0]]

    def find_tract_patch_list(
        self, coords: Iterable[SkyCoordLike]
    ) -> list[tuple[TractInfo, list[PatchInfo]]]:
        """Find, for every tract, the patches that may overlap the area the positions bound.

        Parameters
        ----------
        coords : `~collections.abc.Iterable` [`SkyCoordLike`]
            Sky positions (the corners of the area), or an ``(N, 2)`` array of
            ``(ra, dec)`` in degrees or an ``(N, 3)`` array of vectors.

        Returns
        -------
        tract_patches : `list` [`tuple` [`TractInfo`, `list` [`PatchInfo`]]]
            ``(tract, patches)`` for every tract, in id order, with at least one
            such patch.

        Raises
        ------
        SkyMapError
            If a position is not a sky coordinate.
        """
        vectors = as_vectors(coords)
        result = []
        for tract in self:
            patches = tract.find_patch_list(vectors)
            if patches:
                result.append((tract, patches))
        return result

    def find_closest_tract_patch_list(
        self, coords: Iterable[SkyCoordLike]
    ) -> list[tuple[TractInfo, list[PatchInfo]]]:
        """Like `find_tract_patch_list`, over the tract `find_tract` picks for each position.

        Parameters
        ----------
        coords : `~collections.abc.Iterable` [`SkyCoordLike`]
            Sky positions (the corners of the area); see `find_tract_patch_list`.

        Returns
        -------
        tract_patches : `list` [`tuple` [`TractInfo`, `list` [`PatchInfo`]]]
            ``(tract, patches)`` for each distinct closest tract, in the order
            of the positions; the patch list may be empty.

        Raises
        ------
        SkyMapError
            If a position is not a sky coordinate.
        """
        vectors = as_vectors(coords)
        result: list[tuple[TractInfo, list[PatchInfo]]] = []
        seen: set[int] = set()
        for v in vectors:
            tract = self.find_tract(sphgeom.UnitVector3d(*v.tolist()))
            if tract.tract_id in seen:
                continue
            seen.add(tract.tract_id)
            result.append((tract, tract.find_patch_list(vectors)))
        return result

    @cached_property
    def _tract_centre_vectors(self) -> np.ndarray:
        from ._projection import lonlat_to_vectors

        ra = np.array([t.ctr_ra for t in self])
        dec = np.array([t.ctr_dec for t in self])
        return lonlat_to_vectors(ra, dec)

    # --- identity -----------------------------------------------------------------------------

    def _pack_builder_config(self) -> bytes:
        c = self.config
        tail = (c.tract_overlap, c.pixel_scale, c.projection.encode("ascii"), c.rotation)
        if c.tract_builder == "cells":
            return struct.pack(
                "<iiiiidd3sd",
                c.cell_inner_dimensions[0],
                c.cell_inner_dimensions[1],
                c.cell_border,
                c.num_cells_per_patch_inner,
                c.num_cells_in_patch_border,
                *tail,
            )
        return struct.pack(
            "<iiidd3sd", c.patch_inner_dimensions[0], c.patch_inner_dimensions[1], c.patch_border, *tail
        )

    @cached_property
    def hash(self) -> bytes:
        """SHA-1 (20 bytes) of the class name and the packed config, as in the Rubin skymap."""
        sha1 = hashlib.sha1()
        sha1.update(type(self).__name__.encode("utf-8"))
        sha1.update(self._pack_builder_config())
        sha1.update(self._pack_subclass_config())
        return sha1.digest()

    @property
    def hash_hex(self) -> str:
        """`hash` as 40 hexadecimal digits."""
        return self.hash.hex()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseSkyMap):
            return NotImplemented
        return self.hash == other.hash

    def __hash__(self) -> int:
        return hash(self.hash)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} tracts, hash={self.hash_hex})"

    # --- registry records ---------------------------------------------------------------------

    def skymap_record(self, name: str) -> dict[str, Any]:
        """Return the ``skymap`` dimension record: name, hash, tract_max, patch_nx_max, patch_ny_max.

        Builds every tract (cheap: no patches, no regions).

        Parameters
        ----------
        name : `str`
            The name the skymap is registered under.

        Returns
        -------
        record : `dict` [`str`, `~typing.Any`]
            Field name -> value for the ``skymap`` record.
        """
        nx = max(t.num_patches[0] for t in self)
        ny = max(t.num_patches[1] for t in self)
        return {
            "name": name,
            "hash": self.hash,
            "tract_max": len(self),
            "patch_nx_max": nx,
            "patch_ny_max": ny,
        }

    def tract_records(self, name: str) -> Iterator[dict[str, Any]]:
        """Yield ``tract`` records ``{skymap, id, region}`` (region = tract outer polygon), lazily.

        Parameters
        ----------
        name : `str`
            The name the skymap is registered under (the ``skymap`` field).

        Yields
        ------
        record : `dict` [`str`, `~typing.Any`]
            One record per tract, in id order.
        """
        for tract in self:
            yield {"skymap": name, "id": tract.tract_id, "region": tract.outer_region}

    def patch_records(self, name: str, tract_ids: Iterable[int] | None = None) -> Iterator[dict[str, Any]]:
        """Yield ``patch`` records ``{skymap, tract, id, cell_x, cell_y, region}``, lazily.

        ``region`` is the patch outer polygon; corners of a tract's patches are computed
        in one vectorised call.

        Parameters
        ----------
        name : `str`
            The name the skymap is registered under (the ``skymap`` field).
        tract_ids : `~collections.abc.Iterable` [`int`], optional
            Restrict the output to these tracts; default every tract.

        Yields
        ------
        record : `dict` [`str`, `~typing.Any`]
            One record per patch, tract by tract, patches in sequential order.

        Raises
        ------
        SkyMapLookupError
            If a tract id is out of range.
        """
        ids = range(len(self)) if tract_ids is None else tract_ids
        polygon = sphgeom.ConvexPolygon
        unit = sphgeom.UnitVector3d
        for tract_id in ids:
            tract = self[tract_id]
            corners = tract.patch_outer_corner_vectors().tolist()
            nx = tract.num_patches[0]
            for y, row in enumerate(corners):
                for x, quad in enumerate(row):
                    yield {
                        "skymap": name,
                        "tract": tract_id,
                        "id": nx * y + x,
                        "cell_x": x,
                        "cell_y": y,
                        "region": polygon([unit(*c) for c in quad]),
                    }
