"""Print an expression tree back as `where` text (`to_text`).

The output parses back to an equal tree (positions aside), with only the
parentheses precedence requires. Compilers use it to quote a sub-expression in
an error message.
"""

from __future__ import annotations

import math
import uuid

import lsst.sphgeom as sphgeom

from chamberlain.geometry import ns_to_time

from ._literals import quote_string
from .nodes import (
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
)

__all__ = ["to_text"]

# Binding strength of each construct; higher binds tighter (see _grammar.py).
_OR, _AND, _NOT, _OVERLAPS, _EQ, _REL, _PREDICATE, _ADD, _MUL, _UNARY, _ATOM = range(1, 12)
_BINARY_LEVELS = {
    "OVERLAPS": _OVERLAPS,
    "=": _EQ,
    "!=": _EQ,
    "<": _REL,
    "<=": _REL,
    ">": _REL,
    ">=": _REL,
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
    "%": _MUL,
}
_LEFT_ASSOCIATIVE = frozenset({_ADD, _MUL})


def to_text(node: Node) -> str:
    """Return ``where`` text for ``node`` that `parse_where` reads back as an equal tree.

    Parameters
    ----------
    node
        Root of the (sub-)tree to print.

    Returns
    -------
    str
        The expression text.

    Raises
    ------
    ValueError
        If the tree holds something the language cannot spell (a non-finite
        float, an unsupported region type).
    """
    return _text(node)[0]


def _wrap(node: Node, minimum: int) -> str:
    text, level = _text(node)
    return f"({text})" if level < minimum else text


def _text(node: Node) -> tuple[str, int]:
    """Return the text of ``node`` and the binding strength of its outermost construct."""
    if isinstance(node, Literal):
        return _literal_text(node)
    if isinstance(node, Identifier):
        return node.text, _ATOM
    if isinstance(node, BindParameter):
        return f":{node.name}", _ATOM
    if isinstance(node, LogicalOp):
        level = _OR if node.op == "OR" else _AND
        # An operand that is itself an AND/OR of the same kind keeps its parentheses.
        return f" {node.op} ".join(_wrap(operand, level + 1) for operand in node.operands), level
    if isinstance(node, BinaryOp):
        level = _BINARY_LEVELS[node.op]
        right_minimum = level + 1
        left_minimum = level if level in _LEFT_ASSOCIATIVE else level + 1
        return f"{_wrap(node.lhs, left_minimum)} {node.op} {_wrap(node.rhs, right_minimum)}", level
    if isinstance(node, UnaryOp):
        if node.op == "NOT":
            return f"NOT {_wrap(node.operand, _NOT)}", _NOT
        operand = node.operand
        operand_text = _wrap(operand, _UNARY)
        if isinstance(operand, Literal | UnaryOp) and operand_text[:1] in "+-":
            operand_text = f"({operand_text})"
        return f"{node.op}{operand_text}", _UNARY
    if isinstance(node, InList):
        items = ", ".join(_wrap(item, _ADD) for item in node.items)
        keyword = "NOT IN" if node.negated else "IN"
        return f"{_wrap(node.lhs, _ADD)} {keyword} ({items})", _PREDICATE
    if isinstance(node, IsNull):
        keyword = "IS NOT NULL" if node.negated else "IS NULL"
        return f"{_wrap(node.operand, _ADD)} {keyword}", _PREDICATE
    if isinstance(node, RangeLiteral):
        stride = f":{node.stride}" if node.stride != 1 else ""
        return f"{node.first}..{node.last}{stride}", _ATOM
    if isinstance(node, TupleLiteral):
        return f"({', '.join(to_text(item) for item in node.items)})", _ATOM
    if isinstance(node, FunctionCall):
        return f"{node.name}({', '.join(to_text(arg) for arg in node.args)})", _ATOM
    raise TypeError(f"Cannot print a {type(node).__name__} node.")


def _number(value: float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"The expression language cannot spell the float {value!r}.")
    return repr(value)


def _literal_text(node: Literal) -> tuple[str, int]:
    kind, value = node.kind, node.value
    if kind in ("int", "float"):
        text = _number(value)
        return text, (_UNARY if text.startswith("-") else _ATOM)
    if kind == "string":
        return quote_string(value), _ATOM
    if kind == "null":
        return "NULL", _ATOM
    if kind == "bool":
        return ("TRUE" if value else "FALSE"), _ATOM
    if node.text is not None:
        return node.text, _ATOM
    if kind == "uuid":
        return f"UUID('{uuid.UUID(str(value))}')", _ATOM
    if kind == "time":
        return f"T'{ns_to_time(value).isot}/tai'", _ATOM
    return _region_text(value), _ATOM


def _region_text(region: object) -> str:
    def lonlat(v: sphgeom.UnitVector3d | sphgeom.LonLat) -> str:
        ll = v if isinstance(v, sphgeom.LonLat) else sphgeom.LonLat(v)
        return f"{_number(ll.getLon().asDegrees())}, {_number(ll.getLat().asDegrees())}"

    if isinstance(region, sphgeom.LonLat):
        return f"POINT({lonlat(region)})"
    if isinstance(region, sphgeom.Circle):
        return f"CIRCLE({lonlat(region.getCenter())}, {_number(region.getOpeningAngle().asDegrees())})"
    if isinstance(region, sphgeom.ConvexPolygon):
        return f"POLYGON({', '.join(lonlat(v) for v in region.getVertices())})"
    if isinstance(region, sphgeom.Box):
        lon, lat = region.getLon(), region.getLat()
        bounds = (lon.getA(), lon.getB(), lat.getA(), lat.getB())
        return f"REGION('RANGE {' '.join(repr(b.asDegrees()) for b in bounds)}')"
    raise ValueError(f"The expression language cannot spell the region {region!r}.")
