"""Tests for `where` expression error messages: positions, carets, suggestions."""

from __future__ import annotations

import pytest

from chamberlain.errors import ChamberlainError, InvalidQueryError
from chamberlain.registry.queries.expressions import (
    Identifier,
    check_identifiers,
    error_at,
    format_error,
    parse_where,
    suggest,
)


def error_lines(text: str) -> list[str]:
    with pytest.raises(InvalidQueryError) as info:
        parse_where(text)
    return str(info.value).split("\n")


# ------------------------------------------------------------------------ syntax errors


@pytest.mark.parametrize(
    ("text", "first_line", "caret_line"),
    [
        (
            "visit = 12 AND AND detector = 3",
            "Syntax error at position 15: unexpected 'AND'; expected a value",
            " " * 15 + "^^^",
        ),
        (
            "a = b = c",
            "Syntax error at position 6: unexpected '='; expected an operator or the end of the expression",
            " " * 6 + "^",
        ),
        (
            "a = (1",
            "Syntax error at position 6: unexpected end of expression; expected ')', ',' or an operator",
            " " * 6 + "^",
        ),
        ("x =", "Syntax error at position 3: unexpected end of expression; expected a value", "   ^"),
        ("a $ b", "Syntax error at position 2: unexpected character '$'", "  ^"),
        ("x IN ()", "Syntax error at position 6: unexpected ')'; expected a value", " " * 6 + "^"),
        (
            "visit band = 'i'",
            "Syntax error at position 6: unexpected 'band'; "
            "expected an operator or the end of the expression",
            " " * 6 + "^^^^",
        ),
        ("a = 'unterminated", "Syntax error at position 4: unterminated string literal", " " * 4 + "~" * 13),
        ("x > T'2020-01-01", "Syntax error at position 4: unterminated time literal", " " * 4 + "~" * 12),
        ("OR a", "Syntax error at position 0: unexpected 'OR'; expected a value", "^^"),
        ("a < b < c", "Syntax error at position 6: unexpected '<'", " " * 6 + "^"),
        ("x IN 1, 2", "Syntax error at position 5: unexpected '1'", " " * 5 + "^"),
        ("a.b.c.d = 1", "Syntax error at position 5: unexpected character '.'", " " * 5 + "^"),
        ("visit = 1..5", "Syntax error at position 9: unexpected '..'", " " * 9 + "^^"),
        ("x IS 5", "Syntax error at position 5: unexpected '5'; expected NULL or NOT NULL", " " * 5 + "^"),
        ("x IS NOT 5", "Syntax error at position 9: unexpected '5'; expected NULL", " " * 9 + "^"),
        ("x NOT 5", "Syntax error at position 6: unexpected '5'; expected IN", " " * 6 + "^"),
        ("(a, b, c)", "Syntax error at position 5: unexpected ','; expected ')' or an operator", "     ^"),
    ],
)
def test_syntax_error_messages(text: str, first_line: str, caret_line: str) -> None:
    lines = error_lines(text)
    assert len(lines) == 3
    assert lines[0].startswith(first_line)
    assert lines[1] == "  " + text
    assert lines[2] == "  " + caret_line


def test_error_is_a_value_error_and_chamberlain_error() -> None:
    with pytest.raises(ValueError):
        parse_where("a = ")
    with pytest.raises(ChamberlainError):
        parse_where("a = ")


def test_reserved_words_cannot_be_identifiers() -> None:
    for word in ("and", "OR", "in", "is", "overlaps"):
        with pytest.raises(InvalidQueryError, match=f"unexpected {word!r}"):
            parse_where(f"{word} = 1")
    # NOT is a prefix operator, so the '=' after it is the mistake.
    with pytest.raises(InvalidQueryError, match="position 4: unexpected '='"):
        parse_where("Not = 1")
    with pytest.raises(InvalidQueryError, match="position 4: unexpected 'AND'"):
        parse_where("x = AND")


def test_multiline_error_shows_only_the_offending_line() -> None:
    text = "visit = 1 AND\n  band = = 'r'"
    lines = error_lines(text)
    assert lines[0].startswith("Syntax error at position 23 (line 2, column 9): unexpected '='")
    assert lines[1] == "    band = = 'r'"
    assert lines[2] == "  " + " " * 9 + "^"


def test_tabs_are_kept_in_the_caret_line() -> None:
    lines = error_lines("a\t=\t= 1")
    assert lines[1] == "  a\t=\t= 1"
    assert lines[2] == "   \t \t^"


def test_unknown_function() -> None:
    lines = error_lines("visit = 1 AND FOO(visit, 2)")
    assert lines[0] == (
        "Unknown function 'FOO' at position 14; known functions are BOX, CIRCLE, GLOB, POINT, POLYGON, "
        "REGION, UUID"
    )
    assert lines[2] == "  " + " " * 14 + "^^^"


def test_dotted_function_name_is_unknown() -> None:
    lines = error_lines("visit.region(1)")
    assert lines[0].startswith("Unknown function 'visit.region' at position 0")


@pytest.mark.parametrize(
    ("text", "first_line", "caret_line"),
    [
        ("x IN (1..5:0)", "Invalid range at position 11: stride must be >= 1, got 0", " " * 11 + "^"),
        ("x IN (1..5:-2)", "Invalid range at position 11: stride must be >= 1, got -2", " " * 11 + "^^"),
        ("x IN (5..1)", "Invalid range at position 6: stop 1 is less than start 5", " " * 6 + "~~~~"),
        (
            "x IN (1..y)",
            "Invalid range at position 9: the range stop must be an integer literal",
            " " * 9 + "^",
        ),
        (
            "x IN (1.5..3)",
            "Invalid range at position 6: the range start must be an integer literal",
            " " * 6 + "^^^",
        ),
        (
            "GLOB(a)",
            "Invalid function call at position 0: "
            "GLOB takes two arguments, GLOB(expression, 'pattern'); got 1",
            "~" * 7,
        ),
        (
            "GLOB(a, b)",
            "Invalid function call at position 8: "
            "the GLOB pattern must be a string literal or a bind parameter",
            " " * 8 + "^",
        ),
    ],
)
def test_semantic_error_messages(text: str, first_line: str, caret_line: str) -> None:
    lines = error_lines(text)
    assert lines == [first_line, "  " + text, "  " + caret_line]


# --------------------------------------------------------------------------- format_error


def test_format_error_markers() -> None:
    assert format_error("abc def", 4, 7, "msg") == "msg\n  abc def\n      ^^^"
    assert format_error("f(a, b) = 1", 0, 7, "msg") == "msg\n  f(a, b) = 1\n  ~~~~~~~"
    assert format_error("abc", 3, 3, "msg") == "msg\n  abc\n     ^"
    assert format_error("abc def", 0, 7, "msg", marker="^") == "msg\n  abc def\n  ^^^^^^^"
    # Out-of-range offsets are clamped rather than crashing.
    assert format_error("abc", 10, 20, "msg") == "msg\n  abc\n     ^"


def test_error_at_builds_invalid_query_error() -> None:
    err = error_at("a = 1", 4, 5, "Bad value 1 at position 4")
    assert isinstance(err, InvalidQueryError)
    assert str(err) == "Bad value 1 at position 4\n  a = 1\n      ^"


# --------------------------------------------------------------------- check_identifiers

VALID = {
    "visit": {"id", "day_obs", "region", "timespan", "exposure_time"},
    "detector": {"id", "full_name"},
    "instrument": {"name"},
    "calexp": {"run", "ingest_date", "dataset_id", "collection"},
}


def identifier_error(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(InvalidQueryError) as info:
        check_identifiers(parse_where(text), kwargs.pop("valid", VALID), text, **kwargs)  # type: ignore[arg-type]
    return str(info.value).split("\n")


@pytest.mark.parametrize(
    "text",
    [
        "visit = 1",
        "day_obs > 20240101",
        "visit.day_obs > 20240101 AND detector.full_name = 'R22_S11'",
        "visit.timespan.begin > T'2020-01-01' AND visit.timespan.end < T'2021-01-01'",
        "calexp.run = 'r' AND ingest_date > T'2020-01-01'",
        "GLOB(detector.full_name, 'R22*') AND visit IN (:ids) AND visit = :v",
        "visit = v",
    ],
)
def test_valid_identifiers_pass(text: str) -> None:
    check_identifiers(parse_where(text), VALID, text, binds={"v"})


def test_none_tree_passes() -> None:
    check_identifiers(None, VALID, "")


def test_unknown_identifier_suggestion() -> None:
    lines = identifier_error("detector = 1 AND vist = 2")
    assert lines[0] == "Unrecognized identifier 'vist' at position 17; did you mean 'visit'?"
    assert lines[2] == "  " + " " * 17 + "^^^^"


def test_suggestion_is_case_insensitive() -> None:
    lines = identifier_error("Visit = 2")
    assert lines[0] == "Unrecognized identifier 'Visit' at position 0; did you mean 'visit'?"


def test_unknown_field_suggestion() -> None:
    lines = identifier_error("visit.dya_obs = 20240101")
    assert lines[0] == "Unrecognized field 'dya_obs' of 'visit' at position 0; did you mean 'visit.day_obs'?"
    assert lines[2] == "  " + "^" * 13


def test_unknown_field_without_close_match_lists_fields() -> None:
    lines = identifier_error("visit.zzz = 1")
    assert lines[0] == (
        "Unrecognized field 'zzz' of 'visit' at position 0; fields of 'visit' are "
        "'day_obs', 'exposure_time', 'id', 'region', 'timespan'"
    )


def test_unknown_element_with_qualified_name() -> None:
    lines = identifier_error("vsit.day_obs = 1")
    assert lines[0].startswith(
        "Unrecognized identifier 'vsit.day_obs' at position 0; did you mean 'visit.day_obs'"
    )


def test_bad_timespan_bound() -> None:
    lines = identifier_error("visit.timespan.middle > 3")
    assert "a third part must be 'begin' or 'end'" in lines[0]
    assert lines[2] == "  " + "^" * len("visit.timespan.middle")


def test_no_suggestion_when_nothing_is_close() -> None:
    lines = identifier_error("qqqqqqqq = 1")
    assert lines[0] == "Unrecognized identifier 'qqqqqqqq' at position 0"


def test_callable_validity_with_candidates() -> None:
    names = {"visit", "band", "physical_filter"}

    def valid(identifier: Identifier) -> bool:
        return identifier.text in names

    check_identifiers(parse_where("band = 'r'"), valid, "band = 'r'")
    lines = identifier_error("physical_filtr = 'r'", valid=valid, candidates=names)
    assert (
        lines[0] == "Unrecognized identifier 'physical_filtr' at position 0; did you mean 'physical_filter'?"
    )


def test_suggest_orders_best_first() -> None:
    assert suggest("detectr", ["detector", "exposure", "dataset"]) == ["detector"]
    assert suggest("zzz", ["detector"]) == []
