"""Parse a user `where` string into the typed tree of `nodes`.

The grammar (`_grammar.GRAMMAR`) is compiled once per process into a lark
LALR parser whose callbacks build the tree while parsing, so no intermediate
lark tree is made. Literals are converted as they are read: times to TAI
nanoseconds, region functions with constant arguments to `lsst.sphgeom`
objects, ``UUID('...')`` to `uuid.UUID`. A mistake raises
`~chamberlain.errors.InvalidQueryError` with a caret under the culprit.

Nothing here recurses on the shape of the input: ``AND``/``OR`` chains become
one flat `LogicalOp` however long, ``NOT`` pairs cancel as they are read, and
the checks after parsing walk the tree with an explicit stack. What is left
deep (arithmetic like ``a + 1 + 1 + ...``, alternating nests of ``AND`` and
``OR``) is refused beyond `MAX_DEPTH` levels with an `InvalidQueryError`,
so that the compiler, SQLAlchemy and the databases (SQLite allows expression
trees 1000 deep) never meet it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import Any

import lark
from lark import Token, v_args

from chamberlain.errors import InvalidQueryError

from . import _literals
from ._grammar import GRAMMAR
from .diagnostics import describe_position, error_at
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

__all__ = ["FUNCTIONS", "MAX_DEPTH", "parse_where"]

MAX_DEPTH = 100
"""How deeply operators may nest in an expression (after flattening).

Each operator whose operand is another operator adds a level: ``a + 1 + 1``
is three deep, ``(a OR b) AND c`` two, and ``a OR b OR ... OR z`` (any
length) one. Redundant parentheses add nothing.
"""

FUNCTIONS: dict[str, str] = {
    **{name: signature for name, (_, signature) in _literals.REGION_FUNCTIONS.items()},
    "REGION": "REGION('IVOA SIAv2 POS string')",
    "GLOB": "GLOB(expression, 'pattern')",
    "UUID": "UUID('uuid string')",
}
"""Known function names (upper-case) and their signatures."""

_OP_ALIASES = {"==": "=", "<>": "!="}


class _Problem(Exception):
    """A semantic error found while building the tree; `parse_where` adds the caret."""

    def __init__(self, start: int, end: int, message: str, marker: str | None = None) -> None:
        super().__init__(message)
        self.start = start
        self.end = end
        self.message = message  # "{where}" stands for the position description
        self.marker = marker


def _problem(start: int, end: int, what: str, detail: str, marker: str | None = None) -> _Problem:
    return _Problem(start, end, f"{what} at {{where}}: {detail}", marker)


def _span(first: Node | Token, last: Node | Token) -> dict[str, int]:
    start = first.start_pos if isinstance(first, Token) else first.start
    end = last.end_pos if isinstance(last, Token) else last.end
    assert start is not None and end is not None
    return {"start": start, "end": end}


def _constant(node: Node) -> int | float | None:
    """Evaluate a numeric constant expression (literals and + - * /), or return `None`."""
    if isinstance(node, Literal):
        return node.value if node.kind in ("int", "float") else None
    if isinstance(node, UnaryOp) and node.op in "+-":
        value = _constant(node.operand)
        return None if value is None else (-value if node.op == "-" else value)
    if isinstance(node, BinaryOp) and node.op in ("+", "-", "*", "/"):
        lhs, rhs = _constant(node.lhs), _constant(node.rhs)
        if lhs is None or rhs is None:
            return None
        if node.op == "+":
            return lhs + rhs
        if node.op == "-":
            return lhs - rhs
        if node.op == "*":
            return lhs * rhs
        if rhs == 0:
            raise _problem(node.rhs.start, node.rhs.end, "Division by zero", "divisor is zero")
        return lhs / rhs
    return None


def _is_numeric_expression(node: Node) -> bool:
    """Whether ``node`` is numbers and binds combined with arithmetic (a bind-valued argument)."""
    if isinstance(node, BindParameter):
        return True
    if isinstance(node, Literal):
        return node.kind in ("int", "float")
    if isinstance(node, UnaryOp):
        return node.op in "+-" and _is_numeric_expression(node.operand)
    if isinstance(node, BinaryOp):
        return node.op in "+-*/%" and _is_numeric_expression(node.lhs) and _is_numeric_expression(node.rhs)
    return False


def _format_number(value: int | float) -> str:
    return repr(value)


@v_args(inline=True)
class _TreeBuilder(lark.Transformer):
    """Parse-time callbacks turning grammar matches into `nodes` objects."""

    # ------------------------------------------------------------------ literals

    def int_literal(self, tok: Token) -> Literal:
        return Literal(kind="int", value=int(tok), text=str(tok), **_span(tok, tok))

    def float_literal(self, tok: Token) -> Literal:
        return Literal(kind="float", value=float(tok), text=str(tok), **_span(tok, tok))

    def string_literal(self, tok: Token) -> Literal:
        return Literal(kind="string", value=_literals.unescape_string(tok), text=str(tok), **_span(tok, tok))

    def time_literal(self, tok: Token) -> Literal:
        try:
            ns = _literals.parse_time_literal(tok[2:-1])
        except ValueError as err:
            raise _problem(tok.start_pos or 0, tok.end_pos or 0, "Invalid time literal", str(err)) from None
        return Literal(kind="time", value=ns, text=str(tok), **_span(tok, tok))

    def null_literal(self, tok: Token) -> Literal:
        return Literal(kind="null", value=None, text="NULL", **_span(tok, tok))

    def bool_literal(self, tok: Token) -> Literal:
        value = tok.upper() == "TRUE"
        return Literal(kind="bool", value=value, text="TRUE" if value else "FALSE", **_span(tok, tok))

    def identifier(self, tok: Token) -> Identifier:
        return Identifier(parts=tuple(tok.split(".")), **_span(tok, tok))

    def bind(self, tok: Token) -> BindParameter:
        return BindParameter(name=tok[1:], **_span(tok, tok))

    def tuple_literal(self, lpar: Token, first: Node, second: Node, rpar: Token) -> TupleLiteral:
        return TupleLiteral(items=(first, second), **_span(lpar, rpar))

    def paren(self, lpar: Token, inner: Node, rpar: Token) -> Node:
        # The node keeps its meaning; its span grows to cover the brackets.
        return dataclasses.replace(inner, **_span(lpar, rpar))

    # ----------------------------------------------------------------- operators

    def unary_op(self, op: Token, operand: Node) -> Node:
        if isinstance(operand, Literal) and operand.kind in ("int", "float"):
            value = -operand.value if op == "-" else operand.value
            text = f"{op}{operand.text}" if operand.text is not None else _format_number(value)
            return Literal(kind=operand.kind, value=value, text=text, **_span(op, operand))
        return UnaryOp(op=str(op), operand=operand, **_span(op, operand))

    def not_op(self, tok: Token, operand: Node) -> Node:
        if isinstance(operand, UnaryOp) and operand.op == "NOT":
            # NOT NOT x is x (also in SQL's three-valued logic); a run of NOTs never nests.
            return dataclasses.replace(operand.operand, **_span(tok, operand))
        return UnaryOp(op="NOT", operand=operand, **_span(tok, operand))

    def logical(self, *children: Node | Token) -> LogicalOp:
        # children alternate: operand, keyword, operand, keyword, ... operand.
        op = str(children[1]).upper()
        operands: list[Node] = []
        for child in children[::2]:
            assert isinstance(child, Node)
            if isinstance(child, LogicalOp) and child.op == op:  # (a OR b) OR c: one chain
                operands.extend(child.operands)
            else:
                operands.append(child)
        return LogicalOp(op=op, operands=tuple(operands), **_span(children[0], children[-1]))

    def binary(self, lhs: Node, op: Token, rhs: Node) -> BinaryOp:
        return BinaryOp(op=_OP_ALIASES.get(op, str(op)), lhs=lhs, rhs=rhs, **_span(lhs, rhs))

    def binary_keyword(self, lhs: Node, op: Token, rhs: Node) -> BinaryOp:
        return BinaryOp(op=op.upper(), lhs=lhs, rhs=rhs, **_span(lhs, rhs))

    def is_null(self, operand: Node, _is: Token, null: Token) -> IsNull:
        return IsNull(operand=operand, negated=False, **_span(operand, null))

    def is_not_null(self, operand: Node, _is: Token, _not: Token, null: Token) -> IsNull:
        return IsNull(operand=operand, negated=True, **_span(operand, null))

    # ------------------------------------------------------------------ IN lists

    def items(self, *items: Node) -> tuple[Node, ...]:
        return items

    def in_list(self, lhs: Node, _in: Token, *rest: Any) -> InList:
        return self._in(lhs, rest, negated=False)

    def not_in_list(self, lhs: Node, _not: Token, _in: Token, *rest: Any) -> InList:
        return self._in(lhs, rest, negated=True)

    def _in(self, lhs: Node, rest: Sequence[Any], negated: bool) -> InList:
        if len(rest) == 1:  # IN :bind
            (bind_tok,) = rest
            items: tuple[Node, ...] = (self.bind(bind_tok),)
        else:
            items = rest[1]
        return InList(lhs=lhs, items=items, negated=negated, **_span(lhs, rest[-1]))

    def range_literal(self, first: Node, last: Node, stride: Node | None) -> RangeLiteral:
        bounds = []
        for label, node in (("start", first), ("stop", last), ("stride", stride)):
            if node is None:
                bounds.append(1)
                continue
            if not (isinstance(node, Literal) and node.kind == "int"):
                raise _problem(
                    node.start, node.end, "Invalid range", f"the range {label} must be an integer literal"
                )
            bounds.append(node.value)
        start, stop, step = bounds
        if step < 1:
            assert stride is not None
            raise _problem(stride.start, stride.end, "Invalid range", f"stride must be >= 1, got {step}")
        if stop < start:
            raise _problem(
                first.start, last.end, "Invalid range", f"stop {stop} is less than start {start}", "~"
            )
        return RangeLiteral(first=start, last=stop, stride=step, **_span(first, stride or last))

    # ----------------------------------------------------------------- functions

    def args(self, *args: Node) -> tuple[Node, ...]:
        return args

    def call(self, name_tok: Token, lpar: Token, args: tuple[Node, ...] | None, rpar: Token) -> Node:
        args = args or ()
        name = name_tok.upper()
        span = _span(name_tok, rpar)
        if name not in FUNCTIONS:
            raise _Problem(
                name_tok.start_pos or 0,
                name_tok.end_pos or 0,
                f"Unknown function {str(name_tok)!r} at {{where}}; "
                f"known functions are {', '.join(sorted(FUNCTIONS))}",
                "^",
            )
        if name in _literals.REGION_FUNCTIONS:
            return self._region_call(name, args, span)
        if name in ("REGION", "UUID"):
            if len(args) != 1:
                raise _problem(
                    span["start"], span["end"], "Invalid function call",
                    f"{name} takes one argument, {FUNCTIONS[name]}; got {len(args)}", "~",
                )  # fmt: skip
            (arg,) = args
            if isinstance(arg, BindParameter):
                return FunctionCall(name=name, args=args, **span)
            if not (isinstance(arg, Literal) and arg.kind == "string"):
                raise _problem(
                    arg.start, arg.end, "Invalid function call",
                    f"the argument of {name} must be a string literal or a bind parameter",
                )  # fmt: skip
            try:
                if name == "UUID":
                    value: Any = _literals.parse_uuid(arg.value)
                    return Literal(kind="uuid", value=value, text=f"UUID('{value}')", **span)
                value = _literals.parse_region_string(arg.value)
            except ValueError as err:
                raise _problem(arg.start, arg.end, f"Invalid {name} argument", str(err)) from None
            text = f"REGION({_literals.quote_string(arg.value)})"
            return Literal(kind="region", value=value, text=text, **span)
        # GLOB
        if len(args) != 2:
            raise _problem(
                span["start"], span["end"], "Invalid function call",
                f"GLOB takes two arguments, {FUNCTIONS['GLOB']}; got {len(args)}", "~",
            )  # fmt: skip
        pattern = args[1]
        if not (
            isinstance(pattern, BindParameter) or (isinstance(pattern, Literal) and pattern.kind == "string")
        ):
            raise _problem(
                pattern.start, pattern.end, "Invalid function call",
                "the GLOB pattern must be a string literal or a bind parameter",
            )  # fmt: skip
        return FunctionCall(name=name, args=args, **span)

    def _region_call(self, name: str, args: tuple[Node, ...], span: dict[str, int]) -> Node:
        try:
            _literals.check_region_arity(name, len(args))
        except ValueError as err:
            raise _problem(span["start"], span["end"], "Invalid function call", str(err), "~") from None
        for arg in args:  # before the recursive constant folding below
            _check_tree(arg)
        values: list[int | float] = []
        for i, arg in enumerate(args, start=1):
            value = _constant(arg)
            if value is None:
                if not _is_numeric_expression(arg):
                    raise _problem(
                        arg.start, arg.end, "Invalid function call",
                        f"argument {i} of {name} must be a number or a bind parameter",
                    )  # fmt: skip
            else:
                values.append(value)
        if len(values) < len(args):
            return FunctionCall(name=name, args=args, **span)
        try:
            region = _literals.make_region(name, values)
        except ValueError as err:
            raise _problem(
                span["start"], span["end"], f"Invalid arguments to {name}", str(err), "~"
            ) from None
        text = f"{name}({', '.join(_format_number(v) for v in values)})"
        if name == "POINT":
            return Literal(kind="point", value=region, text=text, **span)
        return Literal(kind="region", value=region, text=text, **span)


_INT_RANGE = f"integers must lie between {_literals.INT64_MIN} and {_literals.INT64_MAX} (signed 64-bit)"


def _check_literal(node: Literal) -> None:
    """Refuse a literal no database can hold the same way: big integers, inf, NUL characters."""
    if node.kind == "int" and not _literals.INT64_MIN <= node.value <= _literals.INT64_MAX:
        raise _problem(
            node.start, node.end, "Integer literal out of range",
            f"{node.value} does not fit; {_INT_RANGE}", "^",
        )  # fmt: skip
    if node.kind == "float" and not math.isfinite(node.value):
        raise _problem(
            node.start, node.end, "Float literal out of range",
            f"{node.text or node.value} overflows to {node.value!r}; "
            "floats must be finite (magnitude below about 1.8e308)", "^",
        )  # fmt: skip
    if node.kind == "string" and "\x00" in node.value:
        raise _problem(
            node.start, node.end, "Invalid string literal",
            f"{node.value!r} contains a NUL character (\\x00), which the databases cannot store", "^",
        )  # fmt: skip


def _check_tree(root: Node) -> None:
    """Check every literal and the nesting depth, with an explicit stack (never recursing)."""
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Literal):
            _check_literal(node)
            continue
        if isinstance(node, RangeLiteral):
            for bound in (node.first, node.last, node.stride):
                if not _literals.INT64_MIN <= bound <= _literals.INT64_MAX:
                    raise _problem(
                        node.start, node.end, "Range out of range", f"{bound} does not fit; {_INT_RANGE}", "~"
                    )
            continue
        children = node.children()
        if not children:
            continue
        # An operand list (IN items, function arguments) is not a level of its own.
        nested = depth + 1 if not isinstance(node, InList | FunctionCall | TupleLiteral) else depth
        for child in children:
            if child.children() and nested > MAX_DEPTH:
                raise _problem(
                    child.start, child.end, "Expression nested too deeply",
                    f"operators may nest at most {MAX_DEPTH} levels deep; write long chains as "
                    "a OR b OR c ..., or use IN (...) lists and bind parameters", "~",
                )  # fmt: skip
            stack.append((child, nested))


@functools.cache
def _parser() -> lark.Lark:
    return lark.Lark(
        GRAMMAR,
        parser="lalr",
        lexer="basic",
        transformer=_TreeBuilder(),
        maybe_placeholders=True,
    )


# Friendly names for the terminals a syntax error may expect.
_VALUE_STARTS = frozenset({"IDENT", "INT", "FLOAT", "STRING"})
_OPERATORS = frozenset({"EQ_OP", "REL_OP", "ADD_OP", "MUL_OP", "AND", "OR", "OVERLAPS", "IN", "IS"})
_PUNCTUATION = {"RPAR": "')'", "COMMA": "','", "COLON": "':'"}


def _describe_expected(expected: set[str]) -> str:
    if expected == {"IN"}:
        return "; expected IN"
    if expected == {"NULL"}:
        return "; expected NULL"
    if expected == {"NULL", "NOT"}:
        return "; expected NULL or NOT NULL"
    choices: list[str] = []
    if expected & _VALUE_STARTS:
        choices.append("a value")
    for name, label in _PUNCTUATION.items():
        if name in expected:
            choices.append(label)
    if any(name.startswith("__ANON") for name in expected):
        choices.append("'..'")
    if expected & _OPERATORS and "a value" not in choices:
        choices.append("an operator")
    if "$END" in expected:
        choices.append("the end of the expression")
    if not choices:
        return ""
    if len(choices) == 1:
        return f"; expected {choices[0]}"
    return f"; expected {', '.join(choices[:-1])} or {choices[-1]}"


def _with_operators(names: set[str]) -> set[str]:
    """Add the operators to what a syntax error expects after a complete operand in brackets.

    There the parser has already folded the operand into its AND/OR chain
    (chains are repetitions, not left recursion), so it lists only ``)`` and
    ``,``; an operator could follow as well.
    """
    if names & {"RPAR", "COMMA"} and not names & _VALUE_STARTS:
        return names | {"OR"}
    return names


def _syntax_error(text: str, err: lark.exceptions.UnexpectedInput) -> InvalidQueryError:
    end_of_text = len(text)
    if isinstance(err, lark.exceptions.UnexpectedCharacters):
        pos = int(err.pos_in_stream or 0)
        char = text[pos]
        if char in "'\"":
            detail = "unterminated string literal"
            if text[pos - 1 : pos] in ("T", "t"):
                pos -= 1
                detail = "unterminated time literal"
            message = f"Syntax error at {describe_position(text, pos)}: {detail}"
            return error_at(text, pos, end_of_text, message, marker="~")
        message = f"Syntax error at {describe_position(text, pos)}: unexpected character {char!r}"
        return error_at(text, pos, pos + 1, message, marker="^")
    if isinstance(err, lark.exceptions.UnexpectedToken) and err.token.type != "$END":
        tok = err.token
        start = int(tok.start_pos or 0)
        end = int(tok.end_pos or start + len(tok))
        expected = _describe_expected(_with_operators(set(err.accepts or err.expected)))
        message = f"Syntax error at {describe_position(text, start)}: unexpected {str(tok)!r}{expected}"
        return error_at(text, start, end, message, marker="^")
    expected = ""
    if isinstance(err, lark.exceptions.UnexpectedToken):
        expected = _describe_expected(_with_operators(set(err.accepts or err.expected)))
    where = describe_position(text, end_of_text)
    message = f"Syntax error at {where}: unexpected end of expression{expected}"
    return error_at(text, end_of_text, end_of_text, message, marker="^")


def parse_where(text: str) -> Node | None:
    """Parse a `where` expression.

    Parameters
    ----------
    text
        The expression, e.g. ``"visit IN (100..200:5) AND band = 'i'"``.

    Returns
    -------
    Node or None
        The root of the tree, or `None` when ``text`` is empty or only
        whitespace (no constraint). Pure computation: no database access.

    Raises
    ------
    InvalidQueryError
        On a syntax error, an unknown function, a wrong number or kind of
        function arguments, an invalid time, region, UUID or range literal, an
        integer outside signed 64 bits, a float that overflows to infinity, a
        string with a NUL character, or operators nested more than
        `MAX_DEPTH` levels deep.
        The message's first line names the problem and its position, then come
        the expression and a marker line under the offending text.
    """
    if not text or text.isspace():
        return None
    return _parse_cached(text)


@functools.lru_cache(maxsize=256)
def _parse_cached(text: str) -> Node:
    """Parse non-empty text (trees are immutable, so repeated queries share one)."""
    try:
        try:
            tree = _parser().parse(text)
        except lark.exceptions.UnexpectedInput as err:
            raise _syntax_error(text, err) from None
        assert isinstance(tree, Node)
        _check_tree(tree)
    except _Problem as problem:
        message = problem.message.replace("{where}", describe_position(text, problem.start), 1)
        raise error_at(text, problem.start, problem.end, message, marker=problem.marker) from None
    return tree
