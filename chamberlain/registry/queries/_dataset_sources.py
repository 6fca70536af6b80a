"""Where a query's dataset rows come from: the tags/calibs tables of the collections searched.

A mixin of `Query` (kept apart to keep that module readable): it needs the
query's ``registry``, ``spec``, ``collections``, ``_types`` and
``_subquery_numbers``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ...errors import CalibrationLookupError
from .._timespans import timespans_overlap
from ..collections import CollectionRecord, CollectionType

if TYPE_CHECKING:
    from ..dataset_types import DatasetTypeRecord
    from ..registry import Registry
    from ._plan import JoinPlan

__all__ = ["DatasetSources"]


class DatasetSources:
    """Builds the dataset-row subqueries of a query (mixed into `Query`)."""

    registry: Registry
    spec: Any
    collections: Sequence[CollectionRecord]
    _types: dict[str, DatasetTypeRecord]
    _subquery_numbers: itertools.count[int]

    def _calib_ids(self, rec: DatasetTypeRecord) -> list[int]:
        if rec.calibs is None:
            return []
        return [c.id for c in self.collections if c.type is CollectionType.CALIBRATION]

    def _tag_ids(self) -> list[int]:
        return [c.id for c in self.collections if c.type is not CollectionType.CALIBRATION]

    def _needs_temporal_anchor(self) -> bool:
        return any(self._calib_ids(rec) for rec in self._types.values())

    # --- dataset sources ---------------------------------------------------------------------

    def _dataset_rows(self, rec: DatasetTypeRecord, ranked: bool) -> sa.Subquery:
        """Rows (data ID, dataset_id, collection_id, validity, [rank]) of a type in the collections.

        The subquery depends only on its arguments and the collections, so it is
        kept for reuse (building one, with its column collection, is a good
        part of the cost of a small query).
        """
        number = next(self._subquery_numbers)
        key = (
            "dataset_rows",
            rec.id,
            rec.tags.name,
            None if rec.calibs is None else rec.calibs.name,
            tuple((c.id, c.type) for c in self.collections),
            ranked,
            number,
        )
        cache = self.registry._query_cache
        if key in cache:
            return cache[key]
        if len(cache) >= 256:
            cache.clear()
        rows = cache[key] = self._make_dataset_rows(rec, ranked, number)
        return rows

    def _make_dataset_rows(self, rec: DatasetTypeRecord, ranked: bool, number: int) -> sa.Subquery:
        dims = list(rec.dataset_type.dimensions.required)
        order = {c.id: i for i, c in enumerate(self.collections)}
        parts: list[sa.Select] = []
        tag_ids = self._tag_ids()
        null = sa.null().cast(sa.BigInteger())

        def rank(table: sa.Table) -> list[sa.ColumnElement]:
            if not ranked:
                return []
            whens = {cid: order[cid] for cid in order}
            return [sa.case(whens, value=table.c.collection_id, else_=len(order)).label("rank")]

        def tag_rows(*where: Any) -> sa.Select:
            t = rec.tags
            return sa.select(
                *[t.c[d] for d in dims],
                t.c.dataset_id,
                t.c.collection_id,
                null.label("validity_begin"),
                null.label("validity_end"),
                *rank(t),
            ).where(*where)

        if tag_ids:
            parts.append(
                tag_rows(rec.tags.c.dataset_type_id == rec.id, rec.tags.c.collection_id.in_(tag_ids))
            )
        calib_ids = self._calib_ids(rec)
        if calib_ids:
            assert rec.calibs is not None
            c = rec.calibs
            parts.append(
                sa.select(
                    *[c.c[d] for d in dims],
                    c.c.dataset_id,
                    c.c.collection_id,
                    c.c.validity_begin,
                    c.c.validity_end,
                    *rank(c),
                ).where(c.c.dataset_type_id == rec.id, c.c.collection_id.in_(calib_ids))
            )
        if not parts:
            # No collection searched can hold this type (e.g. a non-calibration type and only
            # CALIBRATION collections): an empty source with the right columns, so the query
            # still has its dimensions and simply returns no rows.
            parts.append(tag_rows(sa.false()))
        stmt = parts[0] if len(parts) == 1 else sa.union_all(*parts)
        # Names numbered per statement: the same query gives the same SQL, so
        # SQLAlchemy's compiled-statement cache finds it.
        return stmt.subquery(f"ds_{rec.dataset_type.name}_{number}")

    def _temporal(self, plan: JoinPlan, rows: sa.Subquery, rec: DatasetTypeRecord) -> list[Any]:
        if not self._calib_ids(rec):
            return []
        anchor = plan.group.temporal_families().get("observation_timespans")
        if anchor is None or not plan.has_element(anchor):
            if self.spec.find_first:
                raise CalibrationLookupError(
                    f"Searching CALIBRATION collection(s) for {rec.dataset_type.name!r} with find_first needs "
                    "a time: include a dimension with a timespan (exposure, visit, day_obs) in the query, "
                    "or pass find_first=False to get every certified dataset."
                )
            return []
        table = plan.table(anchor)
        return [
            timespans_overlap(
                (rows.c.validity_begin, rows.c.validity_end), (table.c.timespan_begin, table.c.timespan_end)
            )
        ]
