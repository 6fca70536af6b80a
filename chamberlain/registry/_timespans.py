"""SQL for time spans stored as ``[begin, end)`` pairs of TAI-nanosecond columns.

The registry stores a `Timespan` as two BIGINT columns, NULL meaning
unbounded on that side, and the canonical empty timespan as ``(0, 0)``. The
one overlap test here serves the query compiler's ``OVERLAPS`` and the
calibration lookups, certify and decertify, with `Timespan.overlaps`'
meaning: half-open ranges share an instant, and an empty range overlaps nothing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..geometry import Timespan

__all__ = ["timespans_overlap"]

#: One side of an overlap test: a `Timespan` value, or ``(begin, end)`` SQL expressions.
Side = Timespan | tuple[Any, Any]


def timespans_overlap(a: Side, b: Side) -> sa.ColumnElement[bool]:
    """Build SQL that is true where two half-open time spans share an instant.

    Parameters
    ----------
    a, b
        Each a `Timespan` (its bounds become bound parameters; None is
        unbounded) or a ``(begin, end)`` pair of SQL expressions (columns
        whose NULL means unbounded).

    Returns
    -------
    sqlalchemy.ColumnElement [bool]
        The condition; ``false()`` when either side is an empty `Timespan`.
    """
    terms: list[sa.ColumnElement[bool]] = []
    for side in (a, b):
        if isinstance(side, Timespan):
            if side.is_empty:
                return sa.false()
        else:
            begin, end = side
            terms.append(sa.or_(begin.is_(None), end.is_(None), begin < end))  # not empty
    (a_begin, a_end), (b_begin, b_end) = _bounds(a), _bounds(b)
    for begin, end in ((a_begin, b_end), (b_begin, a_end)):
        if begin is None or end is None:
            continue  # an unbounded side of a Timespan value
        terms.append(sa.or_(*_nulls(begin, end), begin < end))
    return sa.and_(*terms) if terms else sa.true()


def _bounds(side: Side) -> tuple[Any, Any]:
    return (side.begin, side.end) if isinstance(side, Timespan) else side


def _nulls(*bounds: Any) -> list[sa.ColumnElement[bool]]:
    """``IS NULL`` tests of the bounds that are SQL expressions (values are not NULL)."""
    return [b.is_(None) for b in bounds if isinstance(b, sa.ColumnElement)]
