"""Tests for time, region and UUID literals in `where` expressions."""

from __future__ import annotations

import astropy.time
import lsst.sphgeom as sphgeom
import pytest

from chamberlain.errors import InvalidQueryError
from chamberlain.registry.queries.expressions import (
    FunctionCall,
    Literal,
    make_region,
    parse_region_string,
    parse_time_literal,
    parse_where,
)

_EPOCH = astropy.time.Time("1970-01-01T00:00:00", format="isot", scale="tai")


def astropy_ns(time: astropy.time.Time) -> int:
    """TAI nanoseconds since 1970 computed through astropy's exact decimal output."""
    delta = time.tai - _EPOCH
    delta.format = "sec"
    return round(delta.to_value(subfmt="decimal") * 10**9)


def literal(text: str) -> Literal:
    tree = parse_where(text)
    assert isinstance(tree, Literal), tree
    return tree


# ------------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("text", "value", "fmt", "scale"),
    [
        ("T'2020-03-30 12:20:33'", "2020-03-30 12:20:33", "iso", "utc"),
        ("T'2020-03-30'", "2020-03-30", "iso", "utc"),
        ("T'2020-03-30 12:20'", "2020-03-30 12:20", "iso", "utc"),
        ("T'2020-03-30T12:20:33.123456789'", "2020-03-30T12:20:33.123456789", "isot", "utc"),
        ("T'2020-03-30 12:20:33/tt'", "2020-03-30 12:20:33", "iso", "tt"),
        ("T'iso/2020-03-30 12:20:33/tai'", "2020-03-30 12:20:33", "iso", "tai"),
        ("T'58938.515'", "58938.515", "mjd", "tai"),
        ("T'mjd/58938.515/tai'", "58938.515", "mjd", "tai"),
        ("T'58938.515/utc'", "58938.515", "mjd", "utc"),
        ("T'MJD/58938.515/UTC'", "58938.515", "mjd", "utc"),
        ("T'jd/2458938.5'", "2458938.5", "jd", "tai"),
        ("T'jd/2458938.5/utc'", "2458938.5", "jd", "utc"),
        ("T'unix/1585570833.25'", "1585570833.25", "unix", "utc"),
        ("T'+02020-03-30T12:20:33'", "+02020-03-30T12:20:33", "fits", "utc"),
        ("T'2020:090:12:20:33'", "2020:090:12:20:33", "yday", "utc"),
        ("T'cxcsec/700000000'", "700000000", "cxcsec", "tt"),
        ('T"2020-03-30 12:20:33"', "2020-03-30 12:20:33", "iso", "utc"),
        ("t'2020-03-30 12:20:33'", "2020-03-30 12:20:33", "iso", "utc"),
    ],
)
def test_time_literals_match_astropy(text: str, value: str, fmt: str, scale: str) -> None:
    node = literal(text)
    assert node.kind == "time"
    assert node.value == astropy_ns(astropy.time.Time(value, format=fmt, scale=scale))
    assert node.text == text


def test_time_literal_exact_values() -> None:
    # 2020-01-01 UTC is 37 s of leap seconds behind TAI.
    assert literal("T'2020-01-01 00:00:00'").value == 1_577_836_837 * 10**9
    assert literal("T'mjd/40587.0'").value == 0
    assert literal("T'40587.5/tai'").value == 43_200 * 10**9
    assert literal("T'1970-01-01T00:00:00.000000001/tai'").value == 1


@pytest.mark.parametrize("suffix", ["Z", "+00:00", "+0000"])
def test_utc_zone_suffix_is_accepted(suffix: str) -> None:
    plain = literal("T'2020-03-30T12:20:33'").value
    assert literal(f"T'2020-03-30T12:20:33{suffix}'").value == plain


def test_time_literal_in_expression() -> None:
    tree = parse_where(
        "exposure.timespan.begin > T'mjd/58938.515/tai' AND ingest_date < T'2020-11-06 21:10:00'"
    )
    times = [n.rhs.value for n in tree.operands]  # type: ignore[union-attr]
    assert times[0] == astropy_ns(astropy.time.Time("58938.515", format="mjd", scale="tai"))
    assert times[1] == astropy_ns(astropy.time.Time("2020-11-06 21:10:00", scale="utc"))


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("bogus", "cannot tell the format of time 'bogus'"),
        ("foo/1234", "'foo' is not a time format"),
        ("2020-01-01/xyz", "'xyz' is not a time scale"),
        ("mjd/58938/xyz", "unknown time scale 'xyz'"),
        ("xyz/58938/tai", "unknown time format 'xyz'"),
        ("2020-03-30T12:20:33+05:00", "time zone '+05:00'"),
        ("mjd/abc", "invalid time 'abc'"),
        ("2020-13-45", "invalid time '2020-13-45'"),
        ("a/b/c/d", "too many '/'"),
        ("", "empty time literal"),
        ("2300-01-01", "2300"),
    ],
)
def test_invalid_time_literals(body: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_time_literal(body)
    assert fragment in str(info.value)
    text = f"x > T'{body}'"
    with pytest.raises(InvalidQueryError) as query_info:
        parse_where(text)
    message = str(query_info.value)
    assert message.startswith("Invalid time literal at position 4: ")
    assert fragment in message
    assert message.splitlines()[-1] == "  " + " " * 4 + "^" * (len(body) + 3)


# ----------------------------------------------------------------------------- regions


def point(ra: float, dec: float) -> sphgeom.UnitVector3d:
    return sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(ra, dec))


def region(text: str) -> sphgeom.Region:
    node = literal(text)
    assert node.kind == "region"
    assert isinstance(node.value, sphgeom.Region)
    return node.value


def test_circle_radius_is_centre_to_edge() -> None:
    circle = region("CIRCLE(10, 20, 1)")
    assert isinstance(circle, sphgeom.Circle)
    assert circle.getOpeningAngle().asDegrees() == pytest.approx(1.0)
    assert circle.contains(point(10, 20.9))
    assert not circle.contains(point(10, 21.1))
    assert not circle.contains(point(10, 21.9))  # would be inside a doubled radius


def test_circle_with_negative_dec_and_arithmetic_arguments() -> None:
    circle = region("circle(53.6, -32.7, 6 / 60)")
    assert circle.getOpeningAngle().asDegrees() == pytest.approx(0.1)
    assert circle.contains(point(53.6, -32.65))
    assert not circle.contains(point(53.6, -32.55))


def test_box_width_and_height_are_full_extents() -> None:
    box = region("BOX(10, 20, 4, 2)")
    assert isinstance(box, sphgeom.Box)
    assert box.contains(point(11.9, 20))
    assert not box.contains(point(12.1, 20))
    assert box.contains(point(10, 20.9))
    assert not box.contains(point(10, 21.1))


def test_polygon_contains_and_ignores_vertex_order() -> None:
    polygon = region("POLYGON(0, 0, 10, 0, 10, 10, 0, 10)")
    assert isinstance(polygon, sphgeom.ConvexPolygon)
    assert polygon.contains(point(5, 5))
    assert not polygon.contains(point(11, 5))
    assert not polygon.contains(point(5, -1))
    reversed_polygon = region("POLYGON(0, 10, 10, 10, 10, 0, 0, 0)")
    assert reversed_polygon.contains(point(5, 5))
    assert not reversed_polygon.contains(point(11, 5))


def test_point_literal() -> None:
    node = literal("POINT(10, -20.5)")
    assert node.kind == "point"
    assert isinstance(node.value, sphgeom.LonLat)
    assert node.value.getLon().asDegrees() == pytest.approx(10)
    assert node.value.getLat().asDegrees() == pytest.approx(-20.5)


def test_region_string_literal() -> None:
    assert region("REGION('CIRCLE 10 20 1')") == region("CIRCLE(10, 20, 1)")
    box = region("REGION('RANGE 350 10 -5 5')")
    assert box.contains(point(0, 0))
    assert box.contains(point(355, 4))
    assert not box.contains(point(20, 0))
    everywhere_in_band = region("REGION('range -inf +inf 10 20')")
    assert everywhere_in_band.contains(point(123, 15))
    assert not everywhere_in_band.contains(point(123, 25))
    polygon = region("REGION('POLYGON 0 0 10 0 10 10')")
    assert polygon.contains(point(7, 2))


def test_region_overlaps_expression() -> None:
    text = "visit.region OVERLAPS CIRCLE(53.6, -32.7, 0.1)"
    tree = parse_where(text)
    assert tree.rhs.kind == "region"  # type: ignore[union-attr]
    assert (tree.rhs.start, tree.rhs.end) == (22, len(text))  # type: ignore[union-attr]


def test_make_region_for_bind_values() -> None:
    circle = make_region("CIRCLE", [10.0, 20.0, 1.0])
    assert circle == region("CIRCLE(10, 20, 1)")
    with pytest.raises(ValueError, match="CIRCLE takes 3 arguments"):
        make_region("CIRCLE", [1.0, 2.0])
    with pytest.raises(ValueError, match=r"radius -1\.0"):
        make_region("CIRCLE", [1.0, 2.0, -1.0])
    with pytest.raises(ValueError, match="unknown region shape 'ELLIPSE'"):
        parse_region_string("ELLIPSE 1 2 3 4")


@pytest.mark.parametrize(
    ("text", "fragment", "marker"),
    [
        ("CIRCLE(1, 2)", "CIRCLE takes 3 arguments, CIRCLE(ra, dec, radius); got 2", "~" * 12),
        ("POINT(1, 2, 3)", "POINT takes 2 arguments", "~" * 14),
        ("BOX(1)", "BOX takes 4 arguments", "~" * 6),
        ("POLYGON(1, 2, 3, 4)", "at least three vertices", "~" * 19),
        ("POLYGON(1, 2, 3, 4, 5, 6, 7)", "even number of arguments", "~" * 28),
        ("CIRCLE(1, 95, 1)", "declination 95.0 is outside [-90, 90]", "~" * 16),
        ("CIRCLE(1, 2, -1)", "radius -1.0 is outside [0, 180]", "~" * 16),
        ("BOX(1, 2, 400, 1)", "width 400.0", "~" * 17),
        ("POLYGON(0, 0, 1, 0, 2, 0)", "convex hull", "~" * 25),
        ("CIRCLE(1, 2, 1 / 0)", "divisor is zero", " " * 17 + "^"),
        ("CIRCLE(1, 'a', 3)", "argument 2 of CIRCLE must be a number or a bind parameter", " " * 10 + "^^^"),
        ("CIRCLE(x, 2, 3)", "argument 1 of CIRCLE must be a number", " " * 7 + "^"),
        ("REGION('SQUARE 1 2')", "unknown region shape 'SQUARE'", " " * 7 + "~" * 12),
        ("REGION(3)", "argument of REGION must be a string literal", " " * 7 + "^"),
        ("UUID('not-a-uuid')", "'not-a-uuid' is not a valid UUID", " " * 5 + "^" * 12),
        ("UUID('a', 'b')", "UUID takes one argument", "~" * 14),
    ],
)
def test_invalid_function_literals(text: str, fragment: str, marker: str) -> None:
    with pytest.raises(InvalidQueryError) as info:
        parse_where(text)
    lines = str(info.value).splitlines()
    assert fragment in lines[0]
    assert lines[1] == "  " + text
    assert lines[2] == "  " + marker


def test_bind_region_arguments_are_checked_for_arity_at_parse_time() -> None:
    with pytest.raises(InvalidQueryError, match="CIRCLE takes 3 arguments"):
        parse_where("CIRCLE(:ra, :dec)")
    assert isinstance(parse_where("BOX(:ra, :dec, :w, :h)"), FunctionCall)
