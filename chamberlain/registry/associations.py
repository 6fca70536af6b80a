"""Which datasets TAGGED and CALIBRATION collections hold: `DatasetAssociation` rows read in bulk."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..errors import CollectionTypeError
from ..geometry import Timespan
from .collections import CollectionType

if TYPE_CHECKING:
    from ._database import Database
    from .collections import CollectionManager
    from .dataset_types import DatasetTypeManager

__all__ = ["DatasetAssociation", "query_associations"]


@dataclasses.dataclass(frozen=True)
class DatasetAssociation:
    """One dataset's membership in a TAGGED or CALIBRATION collection.

    Returned by `Registry.query_dataset_associations`; the Rubin butler's
    ``DatasetAssociation`` holds a resolved ref where this holds the ID.

    Attributes
    ----------
    collection
        The collection's name.
    dataset_id
        The dataset's ID.
    timespan
        The validity range of a CALIBRATION membership; None for TAGGED.
    """

    collection: str
    dataset_id: uuid.UUID
    timespan: Timespan | None


def query_associations(
    db: Database,
    collections: CollectionManager,
    dataset_types: DatasetTypeManager,
    names: Iterable[str],
) -> list[DatasetAssociation]:
    """Return the memberships of the named collections (one SELECT per dataset-type table, all collections at once).

    Parameters
    ----------
    db
        The registry's database.
    collections, dataset_types
        The registry's collection and dataset-type managers.
    names
        Names of TAGGED or CALIBRATION collections.

    Returns
    -------
    list[DatasetAssociation]
        See `Registry.query_dataset_associations`.
    """
    records = [collections.get(n) for n in dict.fromkeys(names)]
    for rec in records:
        if rec.type not in (CollectionType.TAGGED, CollectionType.CALIBRATION):
            raise CollectionTypeError(
                f"Collection {rec.name!r} is {rec.type.name}; dataset associations are read from "
                "TAGGED and CALIBRATION collections only."
            )
    tagged = {r.id: r.name for r in records if r.type is CollectionType.TAGGED}
    calib = {r.id: r.name for r in records if r.type is CollectionType.CALIBRATION}
    types = dataset_types.all()
    out: list[DatasetAssociation] = []
    with db.transaction(write=False) as conn:
        if tagged:
            for t in {rec.tags.name: rec.tags for rec in types}.values():
                stmt = sa.select(t.c.collection_id, t.c.dataset_id).where(t.c.collection_id.in_(list(tagged)))
                out.extend(DatasetAssociation(tagged[c], d, None) for c, d in conn.execute(stmt))
        if calib:
            tables = {rec.calibs.name: rec.calibs for rec in types if rec.calibs is not None}
            for t in tables.values():
                stmt = sa.select(
                    t.c.collection_id, t.c.dataset_id, t.c.validity_begin, t.c.validity_end
                ).where(t.c.collection_id.in_(list(calib)))
                out.extend(
                    DatasetAssociation(calib[row[0]], row[1], Timespan(row[2], row[3]))
                    for row in conn.execute(stmt)
                )
    return out
