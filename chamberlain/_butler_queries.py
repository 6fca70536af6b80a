"""Query methods of the `Butler` (thin wrappers over the registry's query system).

Kept apart from ``butler.py`` so that module stays about reading and writing
datasets; the `Butler` inherits these methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import lsst.sphgeom as sg

if TYPE_CHECKING:
    from .datasets import DatasetType
    from .dimensions import DataCoordinate, DimensionGroup
    from .registry import Registry
    from .registry.queries.results import (
        DataCoordinateQueryResults,
        DatasetQueryResults,
        DimensionRecordQueryResults,
    )


class ButlerQueries:
    """Query methods shared by every `Butler` (a mixin; needs ``registry`` and ``_collections``)."""

    registry: Registry

    def _collections(self, collections: str | Sequence[str] | None) -> Sequence[str]:  # pragma: no cover
        raise NotImplementedError

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

        ``collections`` defaults to the butler's default collections. See
        `Registry.query_datasets` for the other parameters.
        """
        return self.registry.query_datasets(
            dataset_type, self._collections(collections), where=where, bind=bind, data_id=data_id,
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
        """
        if datasets is not None and collections is None:
            collections = self._collections(None)
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
        """Records of one element satisfying the constraints (lazy); see `Registry.query_dimension_records`."""
        if datasets is not None and collections is None:
            collections = self._collections(None)
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
