"""Registering a skymap in a registry: skymap, tract and patch records in one transaction.

The registry is passed in and only used through a few methods (see `RegistryLike`),
so this module does not import the registry layer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from chamberlain._progress import ProgressCallback
from chamberlain.errors import SkyMapError

from .base import BaseSkyMap

__all__ = ["DEFAULT_BATCH_SIZE", "ProgressCallback", "RegistryLike", "register_skymap", "stored_skymap_hash"]

#: Patch records handed to the registry per insert call.
DEFAULT_BATCH_SIZE = 50_000


class RegistryLike(Protocol):
    """The part of `chamberlain.registry.Registry` that registration uses."""

    def transaction(self, *, savepoint: bool = False) -> AbstractContextManager[None]:
        """Group operations into one transaction.

        Parameters
        ----------
        savepoint : `bool`, optional
            Whether a nested transaction uses a savepoint, so that its failure
            rolls back only its own work.

        Returns
        -------
        context : `contextlib.AbstractContextManager` [None]
            Commits on normal exit and rolls back on an exception.
        """
        ...

    def insert_dimension_records(
        self,
        element: str,
        records: Iterable[Mapping[str, Any]],
        *,
        skip_existing: bool = False,
        replace: bool = False,
    ) -> int:
        """Insert records of one element in bulk.

        Parameters
        ----------
        element : `str`
            The dimension element name (``skymap``, ``tract`` or ``patch`` here).
        records : `~collections.abc.Iterable` [`~collections.abc.Mapping` [`str`, `~typing.Any`]]
            Field name -> value for each record.
        skip_existing : `bool`, optional
            Whether to skip records whose primary key is already present.
        replace : `bool`, optional
            Whether to replace records whose primary key is already present.

        Returns
        -------
        count : `int`
            The number of records written.
        """
        ...

    def fetch_dimension_records(
        self, element: str, values: Iterable[Any] | None = None, *, fields: Sequence[str] | None = None
    ) -> list[Any]:
        """Return the records of an element whose ``fields`` take one of ``values`` (bulk).

        Parameters
        ----------
        element : `str`
            The dimension element name (``skymap`` here).
        values : `~collections.abc.Iterable`, optional
            Value tuples (or bare values, for one field) to match.
        fields : `~collections.abc.Sequence` [`str`], optional
            The record fields compared with ``values``.

        Returns
        -------
        records : `list`
            The matching dimension records.
        """
        ...


def stored_skymap_hash(registry: RegistryLike, name: str) -> bytes | None:
    """Return the hash stored for the skymap called ``name``, or `None` if there is none.

    Runs one SQL query (never served from a cache, so another process's registration is seen).

    Parameters
    ----------
    registry : `RegistryLike`
        The registry to look in.
    name : `str`
        The skymap name.

    Returns
    -------
    hash : `bytes` or None
        The stored SHA-1 of the skymap's configuration, or None if no
        skymap of that name is registered.
    """
    records = registry.fetch_dimension_records("skymap", [name], fields=["name"])
    return bytes(records[0].hash) if records else None


def _name_with_hash(registry: RegistryLike, hash_value: bytes) -> str | None:
    records = registry.fetch_dimension_records("skymap", [hash_value], fields=["hash"])
    return str(records[0].name) if records else None


def _batches(records: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(itertools.islice(records, size)):
        yield batch


def register_skymap(
    registry: RegistryLike,
    name: str,
    skymap: BaseSkyMap,
    *,
    progress: ProgressCallback | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> bool:
    """Write a skymap's ``skymap``, ``tract`` and ``patch`` records, all in one transaction.

    Tract and patch regions are the exact outer polygons (`TractInfo.outer_region`,
    `PatchInfo.outer_region`). The registry indexes them and stores their exact overlaps
    with the visits and visit-detector regions already present. If anything fails or is
    interrupted, nothing is left behind.

    Parameters
    ----------
    registry
        The registry to write to.
    name
        The ``skymap`` dimension value, e.g. ``"hsc_rings_v1"``.
    skymap
        The skymap to register.
    progress
        Called as ``progress(done, total)`` (a `ProgressCallback`) after each batch of records (and once
        before the first), counting the skymap record, tracts and patches.
    batch_size
        Patch records per insert call (memory stays bounded by one batch).

    Returns
    -------
    bool
        True if the records were written; False if a skymap with the same hash is
        already registered under ``name`` (nothing is written then).

    Raises
    ------
    SkyMapError
        If a different skymap (another hash) is registered under ``name``; the message
        names both hashes. If the same skymap is registered under another name (skymap
        hashes are unique in the registry); the message names it. If ``name`` is not a
        non-empty string or ``batch_size`` < 1.
    """
    if not isinstance(name, str) or not name:
        raise SkyMapError(f"Skymap name must be a non-empty string; got {name!r}.")
    if batch_size < 1:
        raise SkyMapError(f"batch_size must be >= 1; got {batch_size!r}.")
    with registry.transaction():
        stored = stored_skymap_hash(registry, name)
        if stored is not None:
            if stored == skymap.hash:
                return False
            raise SkyMapError(
                f"A different skymap is already registered as {name!r}: stored hash {stored.hex()}, "
                f"given {type(skymap).__name__} with hash {skymap.hash_hex}. Skymaps cannot be "
                "modified; register this one under another name."
            )
        other_name = _name_with_hash(registry, skymap.hash)
        if other_name is not None:
            raise SkyMapError(
                f"This {type(skymap).__name__} (hash {skymap.hash_hex}) is already registered as "
                f"{other_name!r}; a skymap can be registered under one name only, so use {other_name!r} "
                f"instead of {name!r}."
            )
        record = skymap.skymap_record(name)
        n_tracts = len(skymap)
        n_patches = sum(len(tract) for tract in skymap)
        total = 1 + n_tracts + n_patches
        done = 0
        if progress is not None:
            progress(done, total)
        registry.insert_dimension_records("skymap", [record])
        done += 1
        for batch in _batches(skymap.tract_records(name), batch_size):
            registry.insert_dimension_records("tract", batch)
            done += len(batch)
            if progress is not None:
                progress(done, total)
        for batch in _batches(skymap.patch_records(name), batch_size):
            registry.insert_dimension_records("patch", batch)
            done += len(batch)
            if progress is not None:
                progress(done, total)
    return True
