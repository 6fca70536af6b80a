"""Compile a parsed `where` tree to a SQLAlchemy Core boolean expression.

Every value from the user becomes a bound parameter; names become columns
through the query's `Resolver` and join plan. Region terms are handed to the
query (`Sources.region_predicate`), which computes the exact set of matching
keys first and returns a plain SQL predicate, so region terms combine with
AND, OR and NOT like any other.

Types are checked here, before any SQL runs, so that both backends refuse the
same things with the same message (SQLite would quietly compare ``visit`` with
``'abc'`` and find nothing; PostgreSQL would fail with a driver error):
integer keys against strings, string keys against numbers, arithmetic on
strings, division by a constant zero, bind values that do not fit a
``BIGINT`` or hold NUL characters, and values used as conditions. A divisor
that is not constant becomes ``NULLIF(divisor, 0)``, so division by zero gives
NULL (no row) on both backends rather than an error on one.

Long ``AND``/``OR`` chains compile to balanced groups of `CHAIN` terms
(SQLite refuses expression trees deeper than 1000; SQLAlchemy would flatten
a plain nest back into one chain), and ``IN`` lists longer than
`INLINE_VALUES` travel as one parameter (an array on PostgreSQL,
``json_each`` on SQLite) whatever their length.
"""

from __future__ import annotations

import datetime
import json
import math
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import astropy.time
import erfa
import lsst.sphgeom as sg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from ...errors import InvalidQueryError
from ...geometry import Timespan, time_to_ns
from .._database import driver_value
from .._timespans import timespans_overlap
from ._resolve import Ref, Resolver
from .expressions import (
    BinaryOp,
    BindParameter,
    FunctionCall,
    Identifier,
    InList,
    IsNull,
    Literal,
    LogicalOp,
    Node,
    RangeLiteral,
    TupleLiteral,
    UnaryOp,
    error_at,
    make_region,
    parse_region_string,
)
from .expressions._literals import INT64_MAX, INT64_MIN
from .expressions.diagnostics import describe_position

__all__ = ["CHAIN", "INLINE_VALUES", "PLANNED_OR", "Sources", "WhereCompiler", "combine"]


class Sources(Protocol):
    """What the compiler needs from the query being built."""

    def column(self, ref: Ref) -> sa.ColumnElement: ...

    def timespan(self, ref: Ref) -> tuple[sa.ColumnElement, sa.ColumnElement]: ...

    def region_predicate(self, element: str, region: sg.Region | sg.LonLat) -> sa.ColumnElement[bool]: ...

    def region_join(self, a: str, b: str) -> sa.ColumnElement[bool] | None: ...


#: Operands of AND/OR per parenthesised group in the SQL.
CHAIN = 8

#: Longer ``IN`` lists are sent as a single array / JSON parameter.
INLINE_VALUES = 1_000


#: Longer ORs are hidden from SQLite's planner (see `combine`).
PLANNED_OR = 64


class _Parenthesized(sa.ColumnElement[bool]):
    """A boolean expression in parentheses (after ``prefix``) that SQLAlchemy will not flatten away."""

    inherit_cache = True
    _traverse_internals = [
        ("inner", InternalTraversal.dp_clauseelement),
        ("prefix", InternalTraversal.dp_string),
    ]

    def __init__(self, inner: sa.ColumnElement[bool], prefix: str = "") -> None:
        self.inner = inner
        self.prefix = prefix


@compiles(_Parenthesized)
def _render_parenthesized(element: _Parenthesized, compiler: SQLCompiler, **kw: Any) -> str:
    return element.prefix + "(" + compiler.process(element.inner, **kw) + ")"


def combine(op: str, terms: Sequence[sa.ColumnElement[bool]], dialect: str = "") -> sa.ColumnElement[bool]:
    """``AND`` or ``OR`` of ``terms`` as a balanced tree of groups of at most `CHAIN` terms.

    Parameters
    ----------
    op
        ``AND`` or ``OR``.
    terms
        The conditions, at least one.
    dialect
        ``sqlite`` to hide an OR of more than `PLANNED_OR` terms from SQLite's
        planner behind a unary ``+`` (the value is unchanged, NULL included):
        it plans such an OR in worse than quadratic time (seconds for a few
        thousand terms) and evaluates it in linear time.

    Returns
    -------
    sqlalchemy.ColumnElement
        The condition; as deep as ``CHAIN * log(len(terms), CHAIN)`` in SQL,
        however many terms there are.
    """
    function = sa.and_ if op == "AND" else sa.or_
    level = list(terms)
    while len(level) > CHAIN:
        level = [_Parenthesized(function(*level[i : i + CHAIN])) for i in range(0, len(level), CHAIN)]
    result = level[0] if len(level) == 1 else function(*level)
    if op == "OR" and dialect == "sqlite" and len(terms) > PLANNED_OR:
        return _Parenthesized(result, prefix="+")
    return result


#: Column types of the dimension universe -> the compiler's value types.
_SPEC_TYPES = {"int": "int", "float": "float", "bool": "bool", "string": "string"}
_DATASET_FIELD_TYPES = {"dataset_id": "uuid", "ingest_date": "time", "run": "string", "collection": "string"}
_TYPE_WORDS = {
    "int": "an integer",
    "float": "a float",
    "string": "a string",
    "bool": "a condition (true or false)",
    "time": "a time",
    "uuid": "a UUID",
}
_NUMERIC = frozenset({"int", "float"})


def _compatible(a: str | None, b: str | None) -> bool:
    """Whether values of types ``a`` and ``b`` may be compared (None: not known)."""
    if a is None or b is None or a == b:
        return True
    if a in _NUMERIC and b in _NUMERIC:
        return True
    return {a, b} == {"time", "int"}  # times are integer nanoseconds


@dataclass
class _Value:
    """A compiled operand: ``kind`` is scalar, region_col, timespan_col, region, timespan, null or list.

    ``dtype`` is the type of a scalar (see `_TYPE_WORDS`; None when not known);
    ``value`` the Python value of a literal or bind.
    """

    kind: str
    sql: Any = None
    value: Any = None
    node: Node | None = None
    time: bool = False
    dtype: str | None = None


_COMPARE = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
#: The most values a bind list (or range) may hold: each one is sent to the database.
MAX_BIND_LIST = 10_000_000

_ARITH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}


def _time_ns(value: Any) -> int | None:
    # ERFA warns of "dubious years" (beyond its leap-second table) while converting; the range
    # check of time_to_ns is what decides, as for time literals (expressions/_literals.py).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        if isinstance(value, astropy.time.Time):
            return time_to_ns(value)
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=datetime.UTC)
            return time_to_ns(astropy.time.Time(value, scale="utc"))
    return None


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
        ``sqlite`` or ``postgresql`` (GLOB and long IN lists are spelled differently).
    """

    def __init__(
        self, resolver: Resolver, sources: Sources, bind: Mapping[str, Any], text: str, dialect: str
    ) -> None:
        self.resolver = resolver
        self.sources = sources
        self.bind = dict(bind)
        self.text = text
        self.dialect = dialect

    def _error(self, node: Node, message: str, marker: str | None = None) -> InvalidQueryError:
        where = describe_position(self.text, node.start)
        return error_at(self.text, node.start, node.end, f"{message} at {where}", marker=marker)

    def _fault(self, node: Node, what: str, detail: str) -> InvalidQueryError:
        """Format ``{what} at {position}: {detail}`` with the marker under ``node``."""
        where = describe_position(self.text, node.start)
        return error_at(self.text, node.start, node.end, f"{what} at {where}: {detail}")

    # --- entry point -------------------------------------------------------------------------

    def compile(self, node: Node) -> sa.ColumnElement[bool]:
        """Compile a boolean expression.

        Parameters
        ----------
        node
            The root of the parsed tree (from `parse_where`).

        Returns
        -------
        sqlalchemy.ColumnElement
            The condition, with every user value a bound parameter.

        Raises
        ------
        InvalidQueryError
            For unknown names, missing binds, type mismatches (``visit = 'a'``,
            ``band = 5``, a number used as a condition), a constant zero
            divisor, and bind values out of range or holding NUL characters;
            the message marks the offending part of the expression.
        """
        return self._condition(node)

    def _condition(self, node: Node) -> sa.ColumnElement[bool]:
        value = self._value(node)
        if value.kind != "scalar":
            raise self._error(node, "Expected a condition (true or false), not a value")
        if value.dtype not in (None, "bool"):
            raise self._fault(
                node,
                "Expected a condition",
                f"{self._describe(value)} is not true or false; compare it with something "
                f"(e.g. {self._source(node)} = ...)",
            )
        return value.sql

    # --- describing values for messages ------------------------------------------------------

    def _describe(self, value: _Value) -> str:
        """``visit (an integer)``, ``the string 'abc'``, ``bind :v = 'abc' (a string)``."""
        node = value.node
        word = _TYPE_WORDS.get(value.dtype or "", "a value")
        if isinstance(node, Literal):
            kind = {"int": "integer", "float": "float", "string": "string", "bool": "condition"}
            return f"the {kind.get(node.kind, node.kind)} {self._source(node)}"
        if isinstance(node, BindParameter) or (
            isinstance(node, Identifier) and len(node.parts) == 1 and node.parts[0] in self.bind
        ):
            return f"bind :{_bind_name(node)} = {_short_repr(value.value)} ({word})"
        assert node is not None
        return f"{self._source(node)} ({word})"

    def _source(self, node: Node) -> str:
        text = self.text[node.start : node.end]
        return text if len(text) <= 60 else text[:57] + "..."

    # --- checks ------------------------------------------------------------------------------

    def _check_comparable(self, node: Node, a: _Value, b: _Value) -> None:
        if _compatible(a.dtype, b.dtype):
            return
        # Mark the literal or bind if there is one: that is the value to change.
        culprit = b if _is_constant(b) or not _is_constant(a) else a
        other = a if culprit is b else b
        hint = ""
        if {a.dtype, b.dtype} == {"uuid", "string"}:
            hint = "; write a dataset ID as UUID('...')"
        raise self._fault(
            culprit.node if _is_constant(culprit) and culprit.node is not None else node,
            "Type mismatch",
            f"cannot compare {self._describe(other)} with {self._describe(culprit)}{hint}",
        )

    def _check_python(self, value: Any, node: Node, label: str) -> None:
        """Refuse a bind value (or list item) no database can hold the same way."""
        if isinstance(value, bool):
            return
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise self._fault(
                node, "Bind value out of range",
                f"{label} = {_short_repr(value)} does not fit; integers must lie between "
                f"{INT64_MIN} and {INT64_MAX} (signed 64-bit)",
            )  # fmt: skip
        if isinstance(value, float) and not math.isfinite(value):
            raise self._fault(node, "Invalid bind value", f"{label} = {value!r} is not a finite number")
        if isinstance(value, str) and "\x00" in value:
            raise self._fault(
                node, "Invalid bind value",
                f"{label} = {_short_repr(value)} contains a NUL character (\\x00), "
                "which the databases cannot store",
            )  # fmt: skip

    # --- operands ----------------------------------------------------------------------------

    def _bind_value(self, node: BindParameter | Identifier, name: str) -> Any:
        if name not in self.bind:
            known = ", ".join(sorted(self.bind)) or "none"
            raise self._error(node, f"Name {name!r} is not in the bind map (binds given: {known})")
        return self.bind[name]

    def _from_python(self, value: Any, node: Node) -> _Value:
        if hasattr(value, "dtype") and hasattr(value, "tolist"):  # a numpy scalar or array
            value = value.tolist()
        if isinstance(value, sg.Region | sg.LonLat):
            return _Value("region", value=value, node=node)
        if isinstance(value, Timespan):
            return _Value("timespan", value=value, node=node)
        try:
            ns = _time_ns(value)
        except ValueError as err:  # outside 1678-2262
            detail = f"bind :{_bind_name(node)} = {_short_repr(value)}: {err}"
            raise self._fault(node, "Invalid bind value", detail) from None
        if ns is not None:
            return _Value("scalar", sa.literal(ns, sa.BigInteger()), ns, node, time=True, dtype="time")
        if isinstance(value, list | tuple | set | frozenset | range):
            if len(value) > MAX_BIND_LIST:
                detail = f"bind :{_bind_name(node)} has {len(value):,} values; at most {MAX_BIND_LIST:,}"
                raise self._fault(node, "Bind list too long", detail)
            return _Value("list", value=list(value), node=node)
        if value is None:
            return _Value("null", node=node)
        self._check_python(value, node, f"bind :{_bind_name(node)}")
        if isinstance(value, bool):
            return _Value("scalar", sa.literal(value, sa.Boolean()), value, node, dtype="bool")
        if isinstance(value, uuid.UUID):
            return _Value("scalar", sa.literal(value, sa.Uuid()), value, node, dtype="uuid")
        if isinstance(value, int):
            return _Value("scalar", sa.literal(value, sa.BigInteger()), value, node, dtype="int")
        if isinstance(value, float):
            return _Value("scalar", sa.literal(value), value, node, dtype="float")
        if isinstance(value, str):
            return _Value("scalar", sa.literal(value), value, node, dtype="string")
        raise self._error(node, f"Bind value of type {type(value).__name__} is not supported")

    def _ref_dtype(self, ref: Ref) -> str | None:
        universe = self.resolver.universe
        if ref.kind == "dimension":
            return _SPEC_TYPES.get(universe[ref.name].primary_key.type)  # type: ignore[attr-defined]
        if ref.kind == "field":
            assert ref.element is not None
            for spec in universe[ref.element].columns():
                if spec.name == ref.name:
                    return _SPEC_TYPES.get(spec.type)
            return None
        if ref.kind == "bound":
            return "time"
        if ref.kind == "dataset":
            return _DATASET_FIELD_TYPES.get(ref.name)
        return None

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
            dtype = self._ref_dtype(ref)
            return _Value("scalar", self.sources.column(ref), node=node, time=dtype == "time", dtype=dtype)
        if isinstance(node, LogicalOp):
            return self._logical(node)
        if isinstance(node, TupleLiteral):
            return _Value("timespan", value=self._timespan_tuple(node), node=node)
        if isinstance(node, UnaryOp):
            if node.op == "NOT":
                return _Value("scalar", sa.not_(self._condition(node.operand)), node=node, dtype="bool")
            inner = self._value(node.operand)
            if inner.kind != "scalar":
                raise self._error(node, f"Operator {node.op!r} needs a number or condition")
            if inner.dtype not in (None, "int", "float"):
                raise self._fault(
                    node, "Type mismatch", f"operator {node.op!r} needs a number, not {self._describe(inner)}"
                )
            sql = -inner.sql if node.op == "-" else inner.sql
            return _Value("scalar", sql, node=node, dtype=inner.dtype)
        if isinstance(node, BinaryOp):
            return self._binary(node)
        if isinstance(node, InList):
            return self._in(node)
        if isinstance(node, IsNull):
            inner = self._value(node.operand)
            if inner.kind != "scalar":
                raise self._error(node, "IS NULL needs a column")
            return _Value(
                "scalar",
                inner.sql.is_not(None) if node.negated else inner.sql.is_(None),
                node=node,
                dtype="bool",
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
            sql = sa.literal(node.value, sa.BigInteger())
            return _Value("scalar", sql, node.value, node, time=True, dtype="time")
        if node.kind == "uuid":
            return _Value("scalar", sa.literal(node.value, sa.Uuid()), node.value, node, dtype="uuid")
        if node.kind == "bool":
            return _Value("scalar", sa.true() if node.value else sa.false(), node.value, node, dtype="bool")
        if node.kind == "int":
            return _Value("scalar", sa.literal(node.value, sa.BigInteger()), node.value, node, dtype="int")
        dtype = "float" if node.kind == "float" else "string"
        return _Value("scalar", sa.literal(node.value), node.value, node, dtype=dtype)

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

    def _logical(self, node: LogicalOp) -> _Value:
        """Compile an AND/OR chain; ``col = v1 OR col = v2 ...`` (``!=`` with AND) folds into one IN list.

        SQLite plans a long OR of equalities in time quadratic in its length;
        the IN list it becomes is planned once (and sent as one parameter when long).
        """
        folding = "=" if node.op == "OR" else "!="
        terms: list[sa.ColumnElement[bool] | None] = []
        groups: dict[tuple[str, ...], tuple[int, _Value, list[Any]]] = {}
        for operand in node.operands:
            if isinstance(operand, BinaryOp) and operand.op == folding:
                a, b = self._value(operand.lhs), self._value(operand.rhs)
                column, constant = (a, b) if isinstance(operand.lhs, Identifier) else (b, a)
                if (
                    isinstance(column.node, Identifier)
                    and not _is_constant(column)
                    and column.kind == "scalar"
                    and constant.kind == "scalar"
                    and _is_constant(constant)
                ):
                    self._check_comparable(operand, a, b)
                    key = column.node.parts
                    if key not in groups:
                        groups[key] = (len(terms), column, [])
                        terms.append(None)  # filled in below, keeping the first term's place
                    groups[key][2].append(constant.value)
                    continue
                terms.append(self._binary_values(operand, a, b).sql)
                continue
            terms.append(self._condition(operand))
        for index, column, values in groups.values():
            if len(values) == 1:
                term = column.sql == values[0] if folding == "=" else column.sql != values[0]
            else:
                inside = self._in_values(column, values)
                term = inside if folding == "=" else sa.not_(inside)
            terms[index] = term
        done = [t for t in terms if t is not None]
        return _Value("scalar", combine(node.op, done, self.dialect), node=node, dtype="bool")

    def _binary(self, node: BinaryOp) -> _Value:
        return self._binary_values(node, self._value(node.lhs), self._value(node.rhs))

    def _binary_values(self, node: BinaryOp, a: _Value, b: _Value) -> _Value:
        if node.op == "OVERLAPS":
            return _Value("scalar", self._overlaps(node, a, b), node=node, dtype="bool")
        if node.op in ("=", "!=") and (a.kind == "null" or b.kind == "null"):
            other = b if a.kind == "null" else a
            if other.kind != "scalar":
                raise self._error(node, "Only columns can be compared with NULL")
            sql = other.sql.is_(None) if node.op == "=" else other.sql.is_not(None)
            return _Value("scalar", sql, node=node, dtype="bool")
        for v in (a, b):
            if v.kind != "scalar":
                what = {"region_col": "a region", "region": "a region", "timespan_col": "a timespan"}
                raise self._error(
                    v.node or node,
                    f"Operator {node.op!r} cannot take {what.get(v.kind, 'this value')}"
                    + ("; use OVERLAPS, or .begin/.end of a timespan" if "timespan" in v.kind else ""),
                )
        if node.op in _COMPARE:
            self._check_comparable(node, a, b)
            return _Value("scalar", _COMPARE[node.op](a.sql, b.sql), node=node, dtype="bool")
        return self._arithmetic(node, a, b)

    def _arithmetic(self, node: BinaryOp, a: _Value, b: _Value) -> _Value:
        allowed = ("int",) if node.op == "%" else ("int", "float", "time")
        for v in (a, b):
            if v.dtype is not None and v.dtype not in allowed:
                needs = "integers" if node.op == "%" else "numbers"
                raise self._fault(
                    v.node or node, "Type mismatch",
                    f"operator {node.op!r} needs {needs}, not {self._describe(v)}",
                )  # fmt: skip
        rhs = b.sql
        if node.op in ("/", "%"):
            if _is_constant(b) and b.value == 0:
                divisor = self._source(b.node) if isinstance(b.node, Literal) else self._describe(b)
                raise self._fault(b.node or node, "Division by zero", f"the divisor {divisor} is zero")
            if not _is_constant(b):
                # Zero at run time: NULL on both backends (PostgreSQL would raise, SQLite give NULL).
                rhs = sa.func.nullif(b.sql, 0, type_=b.sql.type)
        if a.dtype == "time" or b.dtype == "time":
            dtype: str | None = "time"
        elif a.dtype == "float" or b.dtype == "float":
            dtype = "float"
        elif a.dtype == "int" and b.dtype == "int":
            dtype = "int"
        else:
            dtype = None
        return _Value("scalar", _ARITH[node.op](a.sql, rhs), node=node, time=dtype == "time", dtype=dtype)

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
                return timespans_overlap(col.value, other.value)
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
                if lhs.dtype not in (None, "int"):
                    raise self._fault(
                        item, "Type mismatch",
                        f"cannot compare {self._describe(lhs)} with the integer range {self._source(item)}",
                    )  # fmt: skip
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
                plain.extend(self._list_values(lhs, item, value.value))
            elif value.kind == "scalar":
                self._check_comparable(item, lhs, value)
                if value.value is not None or isinstance(item, Literal | BindParameter):
                    plain.append(value.value)
                else:
                    terms.append(lhs.sql == value.sql)
            else:
                raise self._error(item, "IN lists may hold only numbers, strings, times and binds")
        if plain:
            terms.append(self._in_values(lhs, plain))
        if not terms:  # IN an empty bind list: no value is in it
            result: sa.ColumnElement[bool] = sa.false()
        else:
            result = combine("OR", terms, self.dialect)
        return _Value("scalar", sa.not_(result) if node.negated else result, node=node, dtype="bool")

    def _list_values(self, lhs: _Value, node: Node, values: list[Any]) -> list[Any]:
        """Check the items of a bind list against ``lhs``; return them as SQL-ready values."""
        label = f"bind :{_bind_name(node)}"
        if all(type(v) is int for v in values):  # the common case, checked in bulk
            if values and (min(values) < INT64_MIN or max(values) > INT64_MAX):
                bad = next(v for v in values if not INT64_MIN <= v <= INT64_MAX)
                self._check_python(bad, node, f"item {values.index(bad)} of {label}")
            item_types = {"int"} if values else set()
            out = values
        elif all(type(v) is str for v in values):
            if any("\x00" in v for v in values):
                bad = next(v for v in values if "\x00" in v)
                self._check_python(bad, node, f"item {values.index(bad)} of {label}")
            item_types, out = {"string"}, values
        elif all(type(v) is int or type(v) is float for v in values):
            for i, v in enumerate(values):
                infinite = type(v) is float and not math.isfinite(v)
                if infinite or (type(v) is int and not INT64_MIN <= v <= INT64_MAX):
                    self._check_python(v, node, f"item {i} of {label}")
            item_types, out = {"int", "float"}, values
        elif all(type(v) is uuid.UUID for v in values):
            item_types, out = {"uuid"}, values
        else:
            item_types, out = set(), []
            for i, v in enumerate(values):
                converted = self._from_python(v, node) if v is not None else _Value("null")
                if converted.kind != "scalar":
                    raise self._fault(
                        node, "Invalid bind value",
                        f"item {i} of {label} is {_short_repr(v)}; IN lists hold numbers, strings, "
                        "times and UUIDs",
                    )  # fmt: skip
                if converted.dtype is not None:
                    item_types.add(converted.dtype)
                out.append(converted.value)
        for dtype in sorted(item_types):
            if not _compatible(lhs.dtype, dtype):
                i, bad = next(
                    (i, v) for i, v in enumerate(values) if _python_dtype(v) == dtype
                )  # fmt: skip
                raise self._fault(
                    node, "Type mismatch",
                    f"cannot compare {self._describe(lhs)} with item {i} of {label}, "
                    f"{_short_repr(bad)} ({_TYPE_WORDS[dtype]})",
                )  # fmt: skip
        return out

    def _in_values(self, lhs: _Value, values: list[Any]) -> sa.ColumnElement[bool]:
        """``lhs IN values``; a long list is one parameter, so no backend limit is reached."""
        if len(values) <= INLINE_VALUES:
            return lhs.sql.in_(values)
        types = {_python_dtype(v) for v in values}
        dtype = next(iter(types)) if len(types) == 1 else "float" if types <= _NUMERIC else None
        if dtype is None:
            return lhs.sql.in_(values)  # mixed types (or NULLs) against an untyped value: rare
        if dtype == "float":
            values = [float(v) for v in values]  # one element type for the array
        if self.dialect == "postgresql":
            sql_types: dict[str, sa.types.TypeEngine[Any]] = {
                "int": sa.BigInteger(), "float": sa.Float(), "string": sa.String(),
                "uuid": sa.Uuid(), "bool": sa.Boolean(),
            }  # fmt: skip
            array: postgresql.ARRAY[Any] = postgresql.ARRAY(sql_types[dtype])
            return lhs.sql == sa.any_(sa.cast(sa.bindparam(None, values, type_=array), array))
        if dtype == "uuid":
            values = [driver_value(v) for v in values]  # how SQLAlchemy stores UUIDs on SQLite
        rows: sa.Select[Any] = sa.select(sa.literal_column("value")).select_from(
            sa.func.json_each(sa.literal(json.dumps(values), sa.String()))
        )
        return lhs.sql.in_(rows.scalar_subquery())

    def _function(self, node: FunctionCall) -> _Value:
        if node.name == "GLOB":
            column = self._value(node.args[0])
            pattern = self._value(node.args[1])
            if column.kind != "scalar" or pattern.kind != "scalar" or not isinstance(pattern.value, str):
                raise self._error(node, "GLOB needs a string column and a string pattern")
            if column.dtype not in (None, "string"):
                raise self._fault(
                    node.args[0], "Type mismatch", f"GLOB needs a string, not {self._describe(column)}"
                )
            if self.dialect == "sqlite":
                return _Value("scalar", column.sql.op("GLOB")(pattern.sql), node=node, dtype="bool")
            like = (
                pattern.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                .replace("*", "%").replace("?", "_")
            )  # fmt: skip
            return _Value("scalar", column.sql.like(like, escape="\\"), node=node, dtype="bool")
        args = [self._value(a) for a in node.args]
        values = [a.value for a in args]
        try:
            if node.name == "UUID":
                sql = sa.literal(uuid.UUID(str(values[0])), sa.Uuid())
                return _Value("scalar", sql, node=node, dtype="uuid")
            if node.name == "REGION":
                return _Value("region", value=parse_region_string(str(values[0])), node=node)
            return _Value("region", value=make_region(node.name, [float(v) for v in values]), node=node)
        except (ValueError, TypeError) as err:
            raise self._error(node, f"Invalid arguments to {node.name}: {err}") from None


def _bind_name(node: Node | None) -> str:
    if isinstance(node, BindParameter):
        return node.name
    if isinstance(node, Identifier):
        return node.text
    return "?"


def _is_constant(value: _Value) -> bool:
    """Whether ``value`` is a literal or bind (its Python value is known now)."""
    return value.value is not None and isinstance(value.node, Literal | BindParameter | Identifier)


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _python_dtype(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, uuid.UUID):
        return "uuid"
    if _time_ns(value) is not None:
        return "time"
    return None
