"""The query methods of `Registry` (a mixin, kept apart so registry.py stays readable).

Each method builds lazy results through `chamberlain.registry.queries.api`;
see docs/queries.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Unpack, cast

from ..datasets import DatasetType
from ..dimensions import DimensionGroup
from .queries import api as _queries
from .queries.api import QueryOptions
from .queries.results import DataCoordinateQueryResults, DatasetQueryResults, DimensionRecordQueryResults

if TYPE_CHECKING:
    from .registry import Registry

__all__ = ["RegistryQueries"]


class RegistryQueries:
    """`Registry.query_data_ids`, `Registry.query_datasets`, `Registry.query_dimension_records`."""

    def query_data_ids(
        self,
        dimensions: DimensionGroup | Iterable[str] | str,
        *,
        datasets: str | Iterable[str] | None = None,
        collections: str | Iterable[str] | None = None,
        **options: Unpack[QueryOptions],
    ) -> DataCoordinateQueryResults:
        """Data IDs of the given dimensions that satisfy the constraints (lazy; one SQL statement).

        Related dimensions are joined automatically (``visit_definition`` when
        both exposure and visit are present, the stored exact overlaps when
        observation and skymap dimensions are both present); dimensions named
        only in ``where``/``data_id`` are joined in and the result is
        de-duplicated.

        Parameters
        ----------
        dimensions
            Dimension names (or a group) of the result data IDs.
        datasets, collections
            Keep only data IDs for which a dataset of each type exists in the
            collections (CALIBRATION collections are matched on validity
            range against the rows' exposure/visit timespan).
        **options
            ``where``, ``bind``, ``data_id``, ``order_by``, ``limit``, and
            data ID values as keywords: see `QueryOptions`.

        Returns
        -------
        DataCoordinateQueryResults
            Lazy, streaming results; nothing runs until they are iterated.

        Raises
        ------
        InvalidQueryError
            For a bad expression or unknown name; a type mismatch (``visit =
            'abc'``, a string bound to ``visit``, a number used as a
            condition), a constant zero divisor, an integer beyond 64 bits, a
            non-finite float or a NUL character in a literal, bind or data ID
            value; operators nested more than 100 deep; or a ``limit`` outside
            1 to 2**63 - 1. All raised before any SQL runs (see
            ``docs/queries.md``).
        """
        return _queries.query_data_ids(
            cast("Registry", self), dimensions, datasets=datasets, collections=collections, **options
        )

    def query_datasets(
        self,
        dataset_type: str | DatasetType | Iterable[str | DatasetType],
        collections: str | Iterable[str],
        *,
        find_first: bool = True,
        with_dimension_records: bool = False,
        **options: Unpack[QueryOptions],
    ) -> DatasetQueryResults:
        """Datasets of one or more types (names, glob patterns) in the collections (lazy).

        Each dataset type is one SQL statement, run when the results are
        iterated.

        Parameters
        ----------
        dataset_type
            Dataset types, names or glob patterns.
        collections
            Collections searched, in order (chains flattened).
        find_first
            Return only the first dataset per data ID in collection search order.
        with_dimension_records
            Attach the dimension records to each data ID.
        **options
            As for `query_data_ids`; ``where`` may also use ``ingest_date``,
            ``run``, ``collection``, ``dataset_id`` and ``<type>.timespan``
            (validity).

        Returns
        -------
        DatasetQueryResults
            Lazy, streaming results.

        Raises
        ------
        MissingDatasetTypeError
            If a named dataset type is not registered.
        MissingCollectionError
            If a collection does not exist.
        CalibrationLookupError
            If CALIBRATION collections are searched with ``find_first`` and the
            query has no exposure/visit/day_obs timespan to match against.
        InvalidQueryError
            For a bad expression, bind, data ID value or ``limit``, as for
            `query_data_ids`.
        """
        return _queries.query_datasets(
            cast("Registry", self),
            dataset_type,
            collections,
            find_first=find_first,
            with_dimension_records=with_dimension_records,
            **options,
        )

    def query_dimension_records(
        self,
        element: str,
        *,
        datasets: str | Iterable[str] | None = None,
        collections: str | Iterable[str] | None = None,
        **options: Unpack[QueryOptions],
    ) -> DimensionRecordQueryResults:
        """Records of one element satisfying the constraints (lazy; regions decoded per row).

        Parameters
        ----------
        element
            The dimension element, e.g. ``"exposure"``.
        datasets, collections, **options
            As for `query_data_ids`.

        Returns
        -------
        DimensionRecordQueryResults
            Lazy, streaming results.

        Raises
        ------
        InvalidQueryError
            For an unknown ``element`` (the message lists the known ones), and
            as for `query_data_ids`.
        """
        return _queries.query_dimension_records(
            cast("Registry", self), element, datasets=datasets, collections=collections, **options
        )
