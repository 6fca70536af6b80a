"""The typed tree a parsed `where` expression becomes.

Every node is a frozen dataclass carrying ``start`` and ``end``: character
offsets (0-based, ``end`` exclusive) into the original expression string, so a
later stage can point at the exact text it rejects. Positions take no part in
equality, so two trees parsed from differently spaced or parenthesised text
compare equal when they mean the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from typing import Literal as TypingLiteral

__all__ = [
    "BinaryOp",
    "BindParameter",
    "FunctionCall",
    "Identifier",
    "InList",
    "IsNull",
    "Literal",
    "LiteralKind",
    "LogicalOp",
    "Node",
    "NodeVisitor",
    "RangeLiteral",
    "TupleLiteral",
    "UnaryOp",
    "walk",
]

LiteralKind = TypingLiteral["int", "float", "string", "time", "region", "point", "null", "bool", "uuid"]
"""The kinds of `Literal`.

``time`` values are integer TAI nanoseconds since 1970; ``region`` values are
`lsst.sphgeom.Region` instances (``Circle``, ``Box``, ``ConvexPolygon``);
``point`` values are `lsst.sphgeom.LonLat`; ``uuid`` values are `uuid.UUID`;
``null`` has value `None`.
"""


@dataclass(frozen=True, kw_only=True)
class Node:
    """Base class of every expression node."""

    start: int = field(default=0, compare=False)
    """Offset of the node's first character in the expression."""

    end: int = field(default=0, compare=False)
    """Offset just past the node's last character in the expression."""

    def children(self) -> tuple[Node, ...]:
        """Return the direct sub-nodes, in source order.

        Returns
        -------
        children : `tuple` [`Node`, ...]
            Empty for a leaf.
        """
        return ()


@dataclass(frozen=True, kw_only=True)
class Literal(Node):
    """A constant: number, string, time, region, point, NULL, boolean or UUID."""

    kind: LiteralKind
    """What sort of constant this is (see `LiteralKind`)."""

    value: Any
    """The constant itself, already converted (see `LiteralKind`)."""

    text: str | None = field(default=None, compare=False)
    """The literal's source spelling, when it came from parsed text.

    `to_text` prints it back verbatim for time and region literals so that
    they re-parse to exactly the same value.
    """


@dataclass(frozen=True, kw_only=True)
class Identifier(Node):
    """A name: ``dimension``, ``element.field``, ``element.timespan.begin``, ``calexp.run``..."""

    parts: tuple[str, ...]
    """The dot-separated parts (one to three), case preserved."""

    @property
    def text(self) -> str:
        """The identifier as written, parts joined by dots."""
        return ".".join(self.parts)


@dataclass(frozen=True, kw_only=True)
class BindParameter(Node):
    """A ``:name`` placeholder whose value is supplied with the query."""

    name: str
    """The bind name, without the colon."""


@dataclass(frozen=True, kw_only=True)
class RangeLiteral(Node):
    """An integer range ``first..last[:stride]``, both ends inclusive (only inside ``IN``).

    The bounds are called ``first`` and ``last`` because ``start``/``end`` are
    every node's source offsets.
    """

    first: int
    """First value of the range."""

    last: int
    """Last value of the range (inclusive)."""

    stride: int = 1
    """Step between values, at least 1."""


@dataclass(frozen=True, kw_only=True)
class TupleLiteral(Node):
    """A parenthesised pair ``(t1, t2)``, used for timespan literals."""

    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:  # noqa: D102
        return self.items


@dataclass(frozen=True, kw_only=True)
class UnaryOp(Node):
    """A prefix operator: ``-`` / ``+`` (arithmetic) or ``NOT`` (logical).

    The parser cancels ``NOT`` pairs (``NOT NOT x`` is ``x``), so the operand of
    a ``NOT`` is never another ``NOT``.
    """

    op: str
    operand: Node

    def children(self) -> tuple[Node, ...]:  # noqa: D102
        return (self.operand,)


@dataclass(frozen=True, kw_only=True)
class BinaryOp(Node):
    """An infix operator.

    ``op`` is one of ``OVERLAPS = != < <= > >= + - * / %`` (``OVERLAPS`` upper-case;
    ``==`` and ``<>`` in the source are normalised to ``=`` and ``!=``). ``AND`` and
    ``OR`` are `LogicalOp` nodes.
    """

    op: str
    lhs: Node
    rhs: Node

    def children(self) -> tuple[Node, ...]:  # noqa: D102
        return (self.lhs, self.rhs)


@dataclass(frozen=True, kw_only=True)
class LogicalOp(Node):
    """``AND`` or ``OR`` of two or more operands, in source order.

    The parser flattens chains: ``a OR b OR c`` and ``(a OR b) OR c`` are one
    node with three operands, never a nest, so a machine-written chain of
    thousands of terms is a wide tree, not a deep one.
    """

    op: str
    """``AND`` or ``OR``."""

    operands: tuple[Node, ...]
    """The terms combined (at least two; none is a `LogicalOp` with the same ``op``)."""

    def children(self) -> tuple[Node, ...]:  # noqa: D102
        return self.operands


@dataclass(frozen=True, kw_only=True)
class InList(Node):
    """``lhs IN (items...)`` or, with ``negated``, ``lhs NOT IN (items...)``.

    Items are any value expressions, `RangeLiteral`, or a `BindParameter` that
    the caller will expand to a list of values.
    """

    lhs: Node
    items: tuple[Node, ...]
    negated: bool = False

    def children(self) -> tuple[Node, ...]:  # noqa: D102
        return (self.lhs, *self.items)


@dataclass(frozen=True, kw_only=True)
class IsNull(Node):
    """``operand IS NULL`` or, with ``negated``, ``operand IS NOT NULL``."""

    operand: Node
    negated: bool = False

    def children(self) -> tuple[Node, ...]:  # noqa: D102
        return (self.operand,)


@dataclass(frozen=True, kw_only=True)
class FunctionCall(Node):
    """A call that could not be folded into a `Literal` at parse time.

    That is ``GLOB(expr, pattern)``, and region or ``UUID`` calls whose
    arguments include bind parameters. ``name`` is upper-case.
    """

    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:  # noqa: D102
        return self.args


def walk(node: Node) -> Iterator[Node]:
    """Iterate over ``node`` and all its descendants, depth first, parents before children.

    Parameters
    ----------
    node
        Root of the tree to walk.

    Yields
    ------
    Node
        Each node of the tree, in source order.
    """
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children()))


class NodeVisitor:
    """Dispatch on node type: ``visit(node)`` calls ``visit_<ClassName>(node)``.

    Subclasses implement the ``visit_*`` methods they need; any other node
    goes to `generic_visit`, which visits the children and returns `None`.
    """

    def visit(self, node: Node) -> Any:
        """Visit one node and return what its ``visit_*`` method returns.

        Parameters
        ----------
        node : `Node`
            The node.

        Returns
        -------
        result : `object`
            What ``visit_<ClassName>`` (or `generic_visit`) returns.
        """
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            return self.generic_visit(node)
        return method(node)

    def generic_visit(self, node: Node) -> Any:
        """Visit every child of ``node``; return `None`.

        Parameters
        ----------
        node : `Node`
            The node whose children to visit.

        Returns
        -------
        None
            Always.
        """
        for child in node.children():
            self.visit(child)
        return None
