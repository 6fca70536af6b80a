"""Compile a parsed `where` tree to a SQLAlchemy Core boolean expression.

Every value from the user becomes a bound parameter; names become columns
through the query's `Resolver` and join plan. Region terms are handed to the
query (`Sources.region_predicate`), which computes the exact set of matching
keys first and returns a plain SQL predicate, so region terms combine with
AND, OR and NOT like any other.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import astropy.time
import lsst.sphgeom as sg
import sqlalchemy as sa

from ...errors import InvalidQueryError
from ...geometry import Timespan, time_to_ns
from ..datasets import overlaps_clause
from ._resolve import Ref, Resolver
from .expressions import (
    BinaryOp,
    BindParameter,
    FunctionCall,
    Identifier,
    InList,
    IsNull,
    Literal,
    Node,
    RangeLiteral,
    TupleLiteral,
    UnaryOp,
    error_at,
    make_region,
    parse_region_string,
)
from .expressions.diagnostics import describe_position

__all__ = ["Sources", "WhereCompiler"]


class Sources(Protocol):
    """What the compiler needs from the query being built."""

    def column(self, ref: Ref) -> sa.ColumnElement: ...

    def timespan(self, ref: Ref) -> tuple[sa.ColumnElement, sa.ColumnElement]: ...

    def region_predicate(self, element: str, region: sg.Region | sg.LonLat) -> sa.ColumnElement[bool]: ...

    def region_join(self, a: str, b: str) -> sa.ColumnElement[bool] | None: ...


@dataclass
class _Value:
    """A compiled operand: ``kind`` is scalar, region_col, timespan_col, region, timespan, null or list."""

    kind: str
    sql: Any = None
    value: Any = None
    node: Node | None = None
    time: bool = False


_COMPARE = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_ARITH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}


def _time_ns(value: Any) -> int | None:
    if isinstance(value, astropy.time.Time):
        return time_to_ns(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return time_to_ns(astropy.time.Time(value, scale="utc"))
    return None


def timespans_overlap(a: tuple[Any, Any], b: tuple[Any, Any]) -> sa.ColumnElement[bool]:
    """SQL true where half-open ranges ``a`` and ``b`` overlap (NULL bound = unbounded)."""
    (ab, ae), (bb, be) = a, b
    return sa.and_(
        sa.or_(ab.is_(None), be.is_(None), ab < be),
        sa.or_(bb.is_(None), ae.is_(None), bb < ae),
    )


class WhereCompiler:
    """Turns a tree into SQL for one query.

    Parameters
    ----------
    resolver
        Resolves identifiers.
    sources
        The query's columns and spatial helpers.
    bind
        Bind parameter values.
    text
        The expression, for error messages.
    dialect
        ``sqlite`` or ``postgresql`` (GLOB is spelled differently).
    """

    def __init__(
        self, resolver: Resolver, sources: Sources, bind: Mapping[str, Any], text: str, dialect: str
    ) -> None:
        self.resolver = resolver
        self.sources = sources
        self.bind = dict(bind)
        self.text = text
        self.dialect = dialect

    def _error(self, node: Node, message: str) -> InvalidQueryError:
        where = describe_position(self.text, node.start)
        return error_at(self.text, node.start, node.end, f"{message} at {where}")

    # --- entry point -------------------------------------------------------------------------

    def compile(self, node: Node) -> sa.ColumnElement[bool]:
        """Compile a boolean expression.

        Raises
        ------
        InvalidQueryError
            For unknown names, missing binds and type mismatches; the message
            marks the offending part of the expression.
        """
        value = self._value(node)
        if value.kind == "scalar":
            return value.sql
        raise self._error(node, "Expected a condition (true or false), not a value")

    # --- operands ----------------------------------------------------------------------------

    def _bind_value(self, node: BindParameter | Identifier, name: str) -> Any:
        if name not in self.bind:
            known = ", ".join(sorted(self.bind)) or "none"
            raise self._error(node, f"Name {name!r} is not in the bind map (binds given: {known})")
        return self.bind[name]

    def _from_python(self, value: Any, node: Node) -> _Value:
        if isinstance(value, sg.Region | sg.LonLat):
            return _Value("region", value=value, node=node)
        if isinstance(value, Timespan):
            return _Value("timespan", value=value, node=node)
        ns = _time_ns(value)
        if ns is not None:
            return _Value("scalar", sa.literal(ns, sa.BigInteger()), ns, node, time=True)
        if isinstance(value, list | tuple | set | frozenset):
            return _Value("list", value=list(value), node=node)
        if value is None:
            return _Value("null", node=node)
        if isinstance(value, bool):
            return _Value("scalar", sa.literal(value, sa.Boolean()), value, node)
        if isinstance(value, uuid.UUID):
            return _Value("scalar", sa.literal(value, sa.Uuid()), value, node)
        if isinstance(value, int | float | str):
            return _Value("scalar", sa.literal(value), value, node)
        raise self._error(node, f"Bind value of type {type(value).__name__} is not supported")

    def _value(self, node: Node) -> _Value:
        if isinstance(node, Literal):
            return self._literal(node)
        if isinstance(node, BindParameter):
            return self._from_python(self._bind_value(node, node.name), node)
        if isinstance(node, Identifier):
            ref = self.resolver.resolve(node)
            if ref.kind == "bind":
                return self._from_python(self._bind_value(node, ref.name), node)
            if ref.kind == "region":
                return _Value("region_col", value=ref.element, node=node)
            if ref.kind == "timespan" or (ref.kind == "dataset" and ref.name == "timespan"):
                return _Value("timespan_col", value=self.sources.timespan(ref), node=node)
            time = ref.kind == "bound" or (ref.kind == "dataset" and ref.name == "ingest_date")
            return _Value("scalar", self.sources.column(ref), node=node, time=time)
        if isinstance(node, TupleLiteral):
            return _Value("timespan", value=self._timespan_tuple(node), node=node)
        if isinstance(node, UnaryOp):
            inner = self._value(node.operand)
            if inner.kind != "scalar":
                raise self._error(node, f"Operator {node.op!r} needs a number or condition")
            if node.op == "NOT":
                return _Value("scalar", sa.not_(inner.sql), node=node)
            return _Value("scalar", -inner.sql if node.op == "-" else inner.sql, node=node)
        if isinstance(node, BinaryOp):
            return self._binary(node)
        if isinstance(node, InList):
            return self._in(node)
        if isinstance(node, IsNull):
            inner = self._value(node.operand)
            if inner.kind != "scalar":
                raise self._error(node, "IS NULL needs a column")
            return _Value(
                "scalar", inner.sql.is_not(None) if node.negated else inner.sql.is_(None), node=node
            )
        if isinstance(node, FunctionCall):
            return self._function(node)
        if isinstance(node, RangeLiteral):
            raise self._error(node, "A range is only valid inside IN (...)")
        raise self._error(node, f"Unsupported expression {type(node).__name__}")

    def _literal(self, node: Literal) -> _Value:
        if node.kind in ("region", "point"):
            return _Value("region", value=node.value, node=node)
        if node.kind == "null":
            return _Value("null", node=node)
        if node.kind == "time":
            return _Value("scalar", sa.literal(node.value, sa.BigInteger()), node.value, node, time=True)
        if node.kind == "uuid":
            return _Value("scalar", sa.literal(node.value, sa.Uuid()), node.value, node)
        if node.kind == "bool":
            return _Value("scalar", sa.true() if node.value else sa.false(), node.value, node)
        return _Value("scalar", sa.literal(node.value), node.value, node)

    def _timespan_tuple(self, node: TupleLiteral) -> Timespan:
        bounds: list[int | None] = []
        for item in node.items:
            value = self._value(item)
            if value.kind == "null":
                bounds.append(None)
            elif value.kind == "scalar" and value.time and isinstance(value.value, int):
                bounds.append(value.value)
            else:
                raise self._error(
                    item, "A timespan (t1, t2) needs times (T'...' literals, time binds or NULL)"
                )
        return Timespan(bounds[0], bounds[1])

    # --- operators ---------------------------------------------------------------------------

    def _binary(self, node: BinaryOp) -> _Value:
        if node.op in ("AND", "OR"):
            lhs, rhs = self.compile(node.lhs), self.compile(node.rhs)
            return _Value("scalar", sa.and_(lhs, rhs) if node.op == "AND" else sa.or_(lhs, rhs), node=node)
        a, b = self._value(node.lhs), self._value(node.rhs)
        if node.op == "OVERLAPS":
            return _Value("scalar", self._overlaps(node, a, b), node=node)
        if node.op in ("=", "!=") and (a.kind == "null" or b.kind == "null"):
            other = b if a.kind == "null" else a
            if other.kind != "scalar":
                raise self._error(node, "Only columns can be compared with NULL")
            return _Value(
                "scalar", other.sql.is_(None) if node.op == "=" else other.sql.is_not(None), node=node
            )
        for v in (a, b):
            if v.kind != "scalar":
                what = {"region_col": "a region", "region": "a region", "timespan_col": "a timespan"}
                raise self._error(
                    v.node or node,
                    f"Operator {node.op!r} cannot take {what.get(v.kind, 'this value')}"
                    + ("; use OVERLAPS, or .begin/.end of a timespan" if "timespan" in v.kind else ""),
                )
        if node.op in _COMPARE:
            return _Value("scalar", _COMPARE[node.op](a.sql, b.sql), node=node)
        return _Value("scalar", _ARITH[node.op](a.sql, b.sql), node=node, time=a.time or b.time)

    def _overlaps(self, node: BinaryOp, a: _Value, b: _Value) -> sa.ColumnElement[bool]:
        kinds = {a.kind, b.kind}
        if a.kind == "region_col" and b.kind == "region_col":
            joined = self.sources.region_join(a.value, b.value)
            if joined is None:
                raise self._error(
                    node, f"No stored overlaps between {a.value!r} and {b.value!r} regions; "
                    "spatial joins are between observation regions and skymap regions"
                )  # fmt: skip
            return joined
        if kinds == {"region_col", "region"}:
            col, lit = (a, b) if a.kind == "region_col" else (b, a)
            return self.sources.region_predicate(col.value, lit.value)
        if "timespan_col" in kinds:
            col, other = (a, b) if a.kind == "timespan_col" else (b, a)
            if other.kind == "timespan_col":
                return timespans_overlap(col.value, other.value)
            if other.kind == "timespan":
                return overlaps_clause(col.value[0], col.value[1], other.value)
            if other.kind == "scalar" and other.time:
                # A time instant overlaps a range that contains it: begin <= t < end.
                return timespans_overlap(col.value, (other.sql, other.sql + 1))
        raise self._error(node, "OVERLAPS needs a region column and a region, or timespans and times")

    def _in(self, node: InList) -> _Value:
        lhs = self._value(node.lhs)
        if lhs.kind != "scalar":
            raise self._error(node.lhs, "IN needs a column or value on its left")
        terms: list[sa.ColumnElement[bool]] = []
        plain: list[Any] = []
        for item in node.items:
            if isinstance(item, RangeLiteral):
                if item.stride == 1:
                    terms.append(lhs.sql.between(item.first, item.last))
                else:
                    terms.append(
                        sa.and_(
                            lhs.sql.between(item.first, item.last),
                            lhs.sql % item.stride == item.first % item.stride,
                        )
                    )
                continue
            value = self._value(item)
            if value.kind == "list":
                plain.extend(value.value)
            elif value.kind == "scalar":
                if value.value is not None or isinstance(item, Literal | BindParameter):
                    plain.append(value.value)
                else:
                    terms.append(lhs.sql == value.sql)
            else:
                raise self._error(item, "IN lists may hold only numbers, strings, times and binds")
        if plain:
            terms.append(lhs.sql.in_(plain))
        result = sa.or_(*terms) if len(terms) > 1 else terms[0]
        return _Value("scalar", sa.not_(result) if node.negated else result, node=node)

    def _function(self, node: FunctionCall) -> _Value:
        if node.name == "GLOB":
            column = self._value(node.args[0])
            pattern = self._value(node.args[1])
            if column.kind != "scalar" or pattern.kind != "scalar" or not isinstance(pattern.value, str):
                raise self._error(node, "GLOB needs a string column and a string pattern")
            if self.dialect == "sqlite":
                return _Value("scalar", column.sql.op("GLOB")(pattern.sql), node=node)
            like = (
                pattern.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                .replace("*", "%").replace("?", "_")
            )  # fmt: skip
            return _Value("scalar", column.sql.like(like, escape="\\"), node=node)
        args = [self._value(a) for a in node.args]
        values = [a.value for a in args]
        try:
            if node.name == "UUID":
                return _Value("scalar", sa.literal(uuid.UUID(str(values[0])), sa.Uuid()), node=node)
            if node.name == "REGION":
                return _Value("region", value=parse_region_string(str(values[0])), node=node)
            return _Value("region", value=make_region(node.name, [float(v) for v in values]), node=node)
        except (ValueError, TypeError) as err:
            raise self._error(node, f"Invalid arguments to {node.name}: {err}") from None
