"""Tests for the `where` expression parser: structure, precedence, literals, positions."""

from __future__ import annotations

import uuid

import pytest

from chamberlain.errors import InvalidQueryError
from chamberlain.registry.queries.expressions import (
    BinaryOp,
    BindParameter,
    FunctionCall,
    Identifier,
    InList,
    IsNull,
    Literal,
    LogicalOp,
    Node,
    NodeVisitor,
    RangeLiteral,
    TupleLiteral,
    UnaryOp,
    parse_where,
    walk,
)


def ident(*parts: str) -> Identifier:
    return Identifier(parts=parts)


def num(value: int | float) -> Literal:
    return Literal(kind="int" if isinstance(value, int) else "float", value=value)


def string(value: str) -> Literal:
    return Literal(kind="string", value=value)


def op(name: str, lhs: Node, rhs: Node) -> BinaryOp | LogicalOp:
    if name in ("AND", "OR"):
        return LogicalOp(op=name, operands=(lhs, rhs))
    return BinaryOp(op=name, lhs=lhs, rhs=rhs)


def parse(text: str) -> Node:
    tree = parse_where(text)
    assert tree is not None
    return tree


# ------------------------------------------------------------------------------ basics


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_expression_is_none(text: str) -> None:
    assert parse_where(text) is None


def test_simple_comparison_and_positions() -> None:
    tree = parse("visit = 12")
    assert tree == op("=", ident("visit"), num(12))
    assert isinstance(tree, BinaryOp)
    assert (tree.start, tree.end) == (0, 10)
    assert (tree.lhs.start, tree.lhs.end) == (0, 5)
    assert (tree.rhs.start, tree.rhs.end) == (8, 10)


def test_positions_slice_the_source_text() -> None:
    text = "instrument = 'HSC' AND visit.day_obs >= 20240101 AND detector IN (1, 2..4)"
    tree = parse(text)
    spellings = {text[n.start : n.end] for n in walk(tree)}
    assert {"instrument", "'HSC'", "visit.day_obs", "20240101", "detector", "1", "2..4"} <= spellings
    assert text[tree.start : tree.end] == text


def test_parenthesised_node_span_covers_brackets() -> None:
    text = "(a + b) * 2"
    tree = parse(text)
    assert isinstance(tree, BinaryOp)
    assert text[tree.lhs.start : tree.lhs.end] == "(a + b)"


def test_identifier_parts() -> None:
    assert parse("visit") == ident("visit")
    tree = parse("visit.timespan.begin")
    assert tree == ident("visit", "timespan", "begin")
    assert isinstance(tree, Identifier)
    assert tree.text == "visit.timespan.begin"
    assert parse("calexp.run") == ident("calexp", "run")
    assert parse("ingest_date") == ident("ingest_date")
    # Case is preserved: dimension names are case-sensitive.
    assert parse("Visit.ID") == ident("Visit", "ID")


def test_identifiers_that_start_with_keywords_are_not_keywords() -> None:
    tree = parse("order = 1 AND isx = 2 AND notes = 3 AND android = 4 AND nullable = 5")
    names = {n.text for n in walk(tree) if isinstance(n, Identifier)}
    assert names == {"order", "isx", "notes", "android", "nullable"}


# -------------------------------------------------------------------------- precedence


def test_and_binds_tighter_than_or() -> None:
    assert parse("a OR b AND c") == op("OR", ident("a"), op("AND", ident("b"), ident("c")))
    assert parse("a AND b OR c") == op("OR", op("AND", ident("a"), ident("b")), ident("c"))


def test_or_and_chains_are_flat() -> None:
    a, b, c, d = (ident(x) for x in "abcd")
    assert parse("a OR b OR c") == LogicalOp(op="OR", operands=(a, b, c))
    assert parse("a AND b AND c AND d") == LogicalOp(op="AND", operands=(a, b, c, d))
    # Brackets around part of a chain change nothing: AND and OR are associative.
    assert parse("(a OR b) OR (c OR d)") == LogicalOp(op="OR", operands=(a, b, c, d))
    assert parse("a AND (b AND c)") == LogicalOp(op="AND", operands=(a, b, c))
    # ...but a chain of the other operator stays a nested operand.
    assert parse("(a OR b) AND c OR d") == LogicalOp(
        op="OR", operands=(LogicalOp(op="AND", operands=(LogicalOp(op="OR", operands=(a, b)), c)), d)
    )


def test_not_binds_looser_than_comparison_tighter_than_and() -> None:
    expected = op("AND", UnaryOp(op="NOT", operand=op("=", ident("a"), num(1))), ident("b"))
    assert parse("NOT a = 1 AND b") == expected
    # NOT pairs cancel as they are read (NOT NOT x is x in three-valued logic too).
    assert parse("NOT NOT a") == ident("a")
    assert parse("NOT NOT NOT a") == UnaryOp(op="NOT", operand=ident("a"))
    assert parse("NOT (NOT (a = 1))") == op("=", ident("a"), num(1))


def test_parentheses_override_precedence() -> None:
    assert parse("(a OR b) AND c") == op("AND", op("OR", ident("a"), ident("b")), ident("c"))
    assert parse("NOT (a AND b)") == UnaryOp(op="NOT", operand=op("AND", ident("a"), ident("b")))


def test_overlaps_between_and_and_comparison() -> None:
    tree = parse("a OVERLAPS b AND c = 1")
    assert tree == op("AND", op("OVERLAPS", ident("a"), ident("b")), op("=", ident("c"), num(1)))
    # OVERLAPS binds looser than '=', so its operands are comparisons.
    assert parse("a OVERLAPS b = c") == op("OVERLAPS", ident("a"), op("=", ident("b"), ident("c")))


def test_equality_looser_than_ordering() -> None:
    assert parse("a < b = c > d") == op("=", op("<", ident("a"), ident("b")), op(">", ident("c"), ident("d")))


def test_arithmetic_precedence() -> None:
    expected = op("+", ident("a"), op("*", ident("b"), ident("c")))
    assert parse("a + b * c") == expected
    assert parse("a - b - c") == op("-", op("-", ident("a"), ident("b")), ident("c"))
    assert parse("a / b % c") == op("%", op("/", ident("a"), ident("b")), ident("c"))
    assert parse("a + b > c * 2") == op(">", op("+", ident("a"), ident("b")), op("*", ident("c"), num(2)))


def test_unary_minus_binds_tightest() -> None:
    assert parse("-a * b") == op("*", UnaryOp(op="-", operand=ident("a")), ident("b"))
    assert parse("a - -b") == op("-", ident("a"), UnaryOp(op="-", operand=ident("b")))
    assert parse("+a") == UnaryOp(op="+", operand=ident("a"))


def test_signed_number_literals_fold() -> None:
    assert parse("x = -5") == op("=", ident("x"), num(-5))
    assert parse("x = +2.5") == op("=", ident("x"), num(2.5))
    assert parse("x = - 5") == op("=", ident("x"), num(-5))
    assert parse("2 - -3") == op("-", num(2), num(-3))


def test_full_nesting() -> None:
    tree = parse("NOT x + 1 * 2 < 3 OR y IN (1) AND z IS NULL")
    arithmetic = op("+", ident("x"), op("*", num(1), num(2)))
    left = UnaryOp(op="NOT", operand=op("<", arithmetic, num(3)))
    right = op("AND", InList(lhs=ident("y"), items=(num(1),)), IsNull(operand=ident("z")))
    assert tree == op("OR", left, right)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("a == 1", "="), ("a <> 1", "!="), ("a != 1", "!="), ("a <= 1", "<="), ("a >= 1", ">=")],
)
def test_comparison_operator_spellings(text: str, canonical: str) -> None:
    assert parse(text) == op(canonical, ident("a"), num(1))


@pytest.mark.parametrize(
    "text",
    [
        "a and b or not c",
        "a AND b OR NOT c",
        "a AnD b oR NoT c",
    ],
)
def test_keywords_are_case_insensitive(text: str) -> None:
    assert parse(text) == op("OR", op("AND", ident("a"), ident("b")), UnaryOp(op="NOT", operand=ident("c")))


def test_other_keywords_case_insensitive() -> None:
    assert parse("r overlaps s") == op("OVERLAPS", ident("r"), ident("s"))
    assert parse("x not in (1)") == InList(lhs=ident("x"), items=(num(1),), negated=True)
    assert parse("x is not null") == IsNull(operand=ident("x"), negated=True)
    assert parse("x = null") == op("=", ident("x"), Literal(kind="null", value=None))
    assert parse("x = true") == op("=", ident("x"), Literal(kind="bool", value=True))
    assert parse("x = False") == op("=", ident("x"), Literal(kind="bool", value=False))


# ---------------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("42", "int", 42),
        ("0", "int", 0),
        ("3.5", "float", 3.5),
        ("3.", "float", 3.0),
        (".5", "float", 0.5),
        ("1e3", "float", 1000.0),
        ("2.5E-2", "float", 0.025),
        ("'abc'", "string", "abc"),
        ('"abc"', "string", "abc"),
        ("''", "string", ""),
        ("NULL", "null", None),
        ("TRUE", "bool", True),
        ("FALSE", "bool", False),
    ],
)
def test_literal_kinds(text: str, kind: str, value: object) -> None:
    tree = parse(text)
    assert isinstance(tree, Literal)
    assert tree.kind == kind
    assert tree.value == value
    assert type(tree.value) is type(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'it''s'", "it's"),
        ("'a\\'b'", "a'b"),
        ('"say ""hi"""', 'say "hi"'),
        ('"a\\"b"', 'a"b'),
        ("'back\\\\slash'", "back\\slash"),
        ("'keep \\d as is'", "keep \\d as is"),
        ("'mixed \" quote'", 'mixed " quote'),
        ('"mixed \' quote"', "mixed ' quote"),
        ("''''", "'"),
        ("'AND OR NOT'", "AND OR NOT"),
    ],
)
def test_string_escapes(text: str, value: str) -> None:
    tree = parse(f"s = {text}")
    assert isinstance(tree, BinaryOp)
    assert tree.rhs == string(value)
    assert (tree.rhs.start, tree.rhs.end) == (4, 4 + len(text))


def test_adjacent_strings_are_not_merged() -> None:
    tree = parse("a = 'x' OR b = 'y'")
    assert tree == op("OR", op("=", ident("a"), string("x")), op("=", ident("b"), string("y")))


def test_uuid_literal() -> None:
    value = "e15ab039-bc8b-4135-87c5-90902a7c0b22"
    tree = parse(f"flat.dataset_id = UUID('{value}')")
    assert tree == op("=", ident("flat", "dataset_id"), Literal(kind="uuid", value=uuid.UUID(value)))
    # Any spelling uuid.UUID accepts.
    compact = parse(f"uuid('{value.replace('-', '')}')")
    assert compact == Literal(kind="uuid", value=uuid.UUID(value))


def test_uuid_with_bind_stays_a_call() -> None:
    assert parse("UUID(:id)") == FunctionCall(name="UUID", args=(BindParameter(name="id"),))


def test_tuple_literal() -> None:
    tree = parse("visit.timespan OVERLAPS (T'2020-01-01', NULL)")
    assert isinstance(tree, BinaryOp)
    assert isinstance(tree.rhs, TupleLiteral)
    assert [item.kind for item in tree.rhs.items if isinstance(item, Literal)] == ["time", "null"]
    assert parse("(:a, :b)") == TupleLiteral(items=(BindParameter(name="a"), BindParameter(name="b")))


# ----------------------------------------------------------------------- ranges and IN


def test_range_literals() -> None:
    tree = parse("visit IN (100..200:5)")
    assert tree == InList(lhs=ident("visit"), items=(RangeLiteral(first=100, last=200, stride=5),))
    assert parse("x IN (1..1)") == InList(lhs=ident("x"), items=(RangeLiteral(first=1, last=1),))
    assert parse("x IN (-5 .. -1 : 2)") == InList(
        lhs=ident("x"), items=(RangeLiteral(first=-5, last=-1, stride=2),)
    )
    item = parse("x IN (3..7)")
    assert isinstance(item, InList)
    assert item.items[0] == RangeLiteral(first=3, last=7, stride=1)


def test_in_with_mixed_items() -> None:
    tree = parse("x IN (1, 'a', 2.5, 10..20:2, :b, y, UUID('e15ab039-bc8b-4135-87c5-90902a7c0b22'))")
    assert isinstance(tree, InList)
    assert not tree.negated
    kinds = [type(item).__name__ for item in tree.items]
    assert kinds == [
        "Literal",
        "Literal",
        "Literal",
        "RangeLiteral",
        "BindParameter",
        "Identifier",
        "Literal",
    ]
    assert tree.items[1] == string("a")


def test_not_in() -> None:
    tree = parse("band NOT IN ('g', 'r')")
    assert tree == InList(lhs=ident("band"), items=(string("g"), string("r")), negated=True)


def test_in_with_list_bind() -> None:
    expected = InList(lhs=ident("visit"), items=(BindParameter(name="ids"),))
    assert parse("visit IN (:ids)") == expected
    assert parse("visit IN :ids") == expected
    assert parse("visit NOT IN :ids") == InList(
        lhs=ident("visit"), items=(BindParameter(name="ids"),), negated=True
    )


def test_in_binds_tighter_than_comparison_and_not() -> None:
    tree = parse("NOT x + 1 IN (2, 3)")
    assert tree == UnaryOp(op="NOT", operand=InList(lhs=op("+", ident("x"), num(1)), items=(num(2), num(3))))


# --------------------------------------------------------------------- binds and NULL


def test_bind_parameters() -> None:
    tree = parse("visit = :visit AND band = :Band_2")
    binds = [n.name for n in walk(tree) if isinstance(n, BindParameter)]
    assert binds == ["visit", "Band_2"]


def test_is_null() -> None:
    assert parse("x IS NULL") == IsNull(operand=ident("x"), negated=False)
    assert parse("x.y IS NOT NULL") == IsNull(operand=ident("x", "y"), negated=True)
    assert parse("a + 1 IS NULL") == IsNull(operand=op("+", ident("a"), num(1)))
    tree = parse("x IS NULL AND y IS NOT NULL")
    assert tree == op("AND", IsNull(operand=ident("x")), IsNull(operand=ident("y"), negated=True))


# -------------------------------------------------------------------------- functions


def test_glob() -> None:
    tree = parse("GLOB(exposure.obs_id, 'AT_O_2024*')")
    assert tree == FunctionCall(name="GLOB", args=(ident("exposure", "obs_id"), string("AT_O_2024*")))
    assert parse("glob(x, :pattern)") == FunctionCall(
        name="GLOB", args=(ident("x"), BindParameter(name="pattern"))
    )


def test_function_names_are_upper_cased() -> None:
    tree = parse("Glob(a, 'b')")
    assert isinstance(tree, FunctionCall)
    assert tree.name == "GLOB"


def test_region_call_with_binds_stays_a_call() -> None:
    tree = parse("CIRCLE(:ra, :dec, 0.1)")
    assert tree == FunctionCall(
        name="CIRCLE", args=(BindParameter(name="ra"), BindParameter(name="dec"), num(0.1))
    )
    assert isinstance(parse("POINT(-:ra, 3)"), FunctionCall)


# -------------------------------------------------------------------------- traversal


def test_walk_is_preorder_in_source_order() -> None:
    tree = parse("a = 1 AND b IN (2, 3)")
    names = [type(n).__name__ for n in walk(tree)]
    assert names == [
        "LogicalOp",
        "BinaryOp",
        "Identifier",
        "Literal",
        "InList",
        "Identifier",
        "Literal",
        "Literal",
    ]


def test_node_visitor_dispatch_and_generic_visit() -> None:
    class Collector(NodeVisitor):
        def __init__(self) -> None:
            self.identifiers: list[str] = []
            self.literals: list[object] = []

        def visit_Identifier(self, node: Identifier) -> None:
            self.identifiers.append(node.text)

        def visit_Literal(self, node: Literal) -> None:
            self.literals.append(node.value)

    collector = Collector()
    collector.visit(parse("NOT (a.b = 1 OR GLOB(c, 'x')) AND d IS NULL"))
    assert collector.identifiers == ["a.b", "c", "d"]
    assert collector.literals == [1, "x"]


def test_node_visitor_return_values() -> None:
    class Depth(NodeVisitor):
        def generic_visit(self, node: Node) -> int:
            return 1 + max((self.visit(c) for c in node.children()), default=0)

    assert Depth().visit(parse("a")) == 1
    assert Depth().visit(parse("a = 1 AND (b = 2 OR c = 3)")) == 4


def test_nodes_are_frozen() -> None:
    tree = parse("a = 1")
    with pytest.raises(AttributeError):
        tree.start = 3  # type: ignore[misc]


def test_parsed_trees_are_shared_and_errors_repeat() -> None:
    """Repeated text reuses one (immutable) tree; a bad expression fails every time."""
    first = parse_where("visit IN (1..9:2) AND band = 'r'")
    assert parse_where("visit IN (1..9:2) AND band = 'r'") is first
    assert parse_where("visit IN (1..9:2) AND band = 'g'") is not first
    for _ in range(2):
        with pytest.raises(InvalidQueryError, match="Syntax error"):
            parse_where("visit = = 3")
