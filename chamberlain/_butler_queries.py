"""Query methods of the `Butler` (thin wrappers over the registry's query system).

Kept apart from ``butler.py`` so that module stays about reading and writing
datasets; the `Butler` inherits these methods.

The ``collections`` of these query methods (and the butler's default
collections when they are used) may hold glob patterns (``*``, ``?``,
``[...]``), as on the command line: each pattern stands for the collections
whose names match it, in sorted order, and a pattern that matches nothing is
an error. Lookups of one dataset (`Butler.get`, `Butler.find_dataset`) take
exact names only, since their search order must be explicit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import lsst.sphgeom as sg

from .errors import MissingCollectionError, format_choices

if TYPE_CHECKING:
    from .datasets import DatasetType
    from .dimensions import DataCoordinate, DimensionGroup
    from .registry import Registry
    from .registry.queries.results import (
        DataCoordinateQueryResults,
        DatasetQueryResults,
        DimensionRecordQueryResults,
    )


_GLOB = frozenset("*?[")


class ButlerQueries:
    """Query methods shared by every `Butler` (a mixin; needs ``registry`` and ``_collections``)."""

    registry: Registry

    def _collections(self, collections: str | Sequence[str] | None) -> Sequence[str]:  # pragma: no cover
        raise NotImplementedError

    def _search_path(self, collections: str | Sequence[str] | None) -> list[str]:
        """Collection names to search, with glob patterns expanded (sorted, first occurrence kept).

        Raises
        ------
        MissingCollectionError
            If a pattern matches no collection (exact names are checked by the query).
        """
        out: list[str] = []
        for name in self._collections(collections):
            if isinstance(name, str) and _GLOB & set(name):
                matched = self.registry.query_collections(name)
                if not matched:
                    raise MissingCollectionError(
                        f"Collection pattern {name!r} matches no collection; collections: "
                        f"{format_choices(self.registry.query_collections('*'))}."
                    )
                out += [m for m in matched if m not in out]
            elif name not in out:
                out.append(name)
        return out

    def query_datasets(
        self,
        dataset_type: str | DatasetType | Iterable[str | DatasetType],
        collections: str | Sequence[str] | None = None,
        *,
        where: str = "",
        bind: Mapping[str, Any] | None = None,
        data_id: Mapping[str, Any] | None = None,
        find_first: bool = True,
        with_dimension_records: bool = False,
        order_by: str | Iterable[str] | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> DatasetQueryResults:
        """Datasets of one or more types in the collections (lazy; one SQL statement per type).

        Parameters
        ----------
        dataset_type
            Dataset type(s) or names; glob patterns match registered names.
        collections
            Collections to search, in order; glob patterns expand to the
            matching names in sorted order. Defaults to the butler's default
            collections.
        where, bind, data_id, find_first, with_dimension_records, order_by, limit, **kwargs
            As for `Registry.query_datasets`.

        Raises
        ------
        MissingCollectionError
            If a collection does not exist or a pattern matches none.
        """
        return self.registry.query_datasets(
            dataset_type, self._search_path(collections), where=where, bind=bind, data_id=data_id,
            find_first=find_first, with_dimension_records=with_dimension_records, order_by=order_by,
            limit=limit, **kwargs,
        )  # fmt: skip

    def query_data_ids(
        self,
        dimensions: DimensionGroup | Iterable[str] | str,
        *,
        where: str = "",
        bind: Mapping[str, Any] | None = None,
        data_id: Mapping[str, Any] | None = None,
        datasets: str | Iterable[str] | None = None,
        collections: str | Sequence[str] | None = None,
        order_by: str | Iterable[str] | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> DataCoordinateQueryResults:
        """Data IDs of some dimensions satisfying the constraints (lazy); see `Registry.query_data_ids`.

        When ``datasets`` is given and ``collections`` is not, the butler's
        default collections are searched.

        Parameters
        ----------
        dimensions
            The dimensions of the data IDs.
        collections
            Where ``datasets`` are searched; glob patterns expand to the
            matching names in sorted order.
        where, bind, data_id, datasets, order_by, limit, **kwargs
            As for `Registry.query_data_ids`.

        Raises
        ------
        MissingCollectionError
            If a collection does not exist or a pattern matches none.
        """
        if datasets is not None and collections is None:
            collections = self._collections(None)
        if collections is not None:
            collections = self._search_path(collections)
        return self.registry.query_data_ids(
            dimensions, where=where, bind=bind, data_id=data_id, datasets=datasets, collections=collections,
            order_by=order_by, limit=limit, **kwargs,
        )  # fmt: skip

    def query_dimension_records(
        self,
        element: str,
        *,
        where: str = "",
        bind: Mapping[str, Any] | None = None,
        data_id: Mapping[str, Any] | None = None,
        datasets: str | Iterable[str] | None = None,
        collections: str | Sequence[str] | None = None,
        order_by: str | Iterable[str] | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> DimensionRecordQueryResults:
        """Records of one element satisfying the constraints (lazy); see `Registry.query_dimension_records`.

        Parameters
        ----------
        element
            The dimension element, e.g. ``"exposure"``.
        collections
            Where ``datasets`` are searched; glob patterns expand to the
            matching names in sorted order.
        where, bind, data_id, datasets, order_by, limit, **kwargs
            As for `Registry.query_dimension_records`.

        Raises
        ------
        MissingCollectionError
            If a collection does not exist or a pattern matches none.
        """
        if datasets is not None and collections is None:
            collections = self._collections(None)
        if collections is not None:
            collections = self._search_path(collections)
        return self.registry.query_dimension_records(
            element, where=where, bind=bind, data_id=data_id, datasets=datasets, collections=collections,
            order_by=order_by, limit=limit, **kwargs,
        )  # fmt: skip

    def overlapping_patches(
        self,
        *,
        region: sg.Region | None = None,
        visit: int | None = None,
        detector: int | None = None,
        instrument: str | None = None,
        skymap: str | None = None,
        exact: bool = True,
    ) -> list[DataCoordinate]:
        """The (skymap, tract, patch) data IDs whose regions overlap a region or a visit's detector.

        For a stored visit (and detector) this reads the exact overlaps stored
        when the records were inserted (one SQL statement); for any other
        region it searches the sky-pixel index and tests candidates exactly.
        See `chamberlain.registry.spatial_queries.overlapping_patches`.
        """
        from .registry.spatial_queries import overlapping_patches

        return overlapping_patches(
            self.registry, region=region, visit=visit, detector=detector, instrument=instrument,
            skymap=skymap, exact=exact,
        )  # fmt: skip
