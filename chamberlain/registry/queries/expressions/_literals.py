"""Conversions of literal text to values: strings, times, regions, UUIDs.

Every function raises `ValueError` with a user-facing sentence; the parser
adds the position and the caret.
"""

from __future__ import annotations

import math
import re
import uuid
import warnings
from collections.abc import Sequence

import astropy.time
import lsst.sphgeom as sphgeom

from chamberlain.geometry import time_to_ns

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "REGION_FUNCTIONS",
    "make_region",
    "parse_region_string",
    "parse_time_literal",
    "parse_uuid",
    "quote_string",
    "unescape_string",
]

INT64_MIN = -(2**63)
"""The smallest integer a query may hold (the databases' BIGINT)."""

INT64_MAX = 2**63 - 1
"""The largest integer a query may hold (the databases' BIGINT)."""

# ---------------------------------------------------------------------------------- strings

_ESCAPABLE = "'\"\\"


def unescape_string(token: str) -> str:
    """Return the value of a quoted string token (quotes included in ``token``).

    A doubled quote (``''`` in a single-quoted string, ``""`` in a double-quoted
    one) stands for one quote; a backslash before ``'``, ``"`` or another
    backslash escapes it. Any other backslash is kept as written.
    """
    quote = token[0]
    body = token[1:-1]
    if "\\" not in body and quote * 2 not in body:
        return body
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == "\\" and i + 1 < n and body[i + 1] in _ESCAPABLE:
            out.append(body[i + 1])
            i += 2
        elif c == quote and i + 1 < n and body[i + 1] == quote:
            out.append(quote)
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def quote_string(value: str) -> str:
    """Return ``value`` as a single-quoted literal that `unescape_string` reads back."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


# ------------------------------------------------------------------------------------ times

_TIME_FORMATS = frozenset(
    {
        "mjd",
        "jd",
        "iso",
        "isot",
        "fits",
        "yday",
        "unix",
        "unix_tai",
        "cxcsec",
        "gps",
        "decimalyear",
        "jyear",
        "byear",
        "jyear_str",
        "byear_str",
    }
)
_TIME_SCALES = frozenset(s for s in astropy.time.Time.SCALES if s != "local")
_UTC_DEFAULT_FORMATS = frozenset({"iso", "isot", "fits", "yday", "unix"})
_TIME_PART = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?"
_ISO_RE = re.compile(rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}(?: +{_TIME_PART})?$")
_ISOT_RE = re.compile(rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}T{_TIME_PART}$")
_FITS_RE = re.compile(rf"[+-]\d{{5}}-\d{{2}}-\d{{2}}(?:T{_TIME_PART})?$")
_YDAY_RE = re.compile(r"\d{4}:\d{3}(?::\d{2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?$")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_ZONE_RE = re.compile(r"(?<=\d)(Z|[+-]\d{2}:?\d{2})$")


def _guess_time_format(value: str) -> str:
    if _NUMBER_RE.match(value):
        return "mjd"
    if _ISO_RE.match(value):
        return "iso"
    if _ISOT_RE.match(value):
        return "isot"
    if _FITS_RE.match(value):
        return "fits"
    if _YDAY_RE.match(value):
        return "yday"
    raise ValueError(
        f"cannot tell the format of time {value!r}; write e.g. T'2020-03-30 12:20:33', "
        "T'2020-03-30T12:20:33', T'mjd/58938.5', T'jd/2458938.5' or T'unix/1585570833'"
    )


def parse_time_literal(body: str) -> int:
    """Convert the inside of a ``T'...'`` literal to integer TAI nanoseconds.

    The body is ``[format/]value[/scale]``. Without a format, a plain number is
    an MJD, ``YYYY-MM-DD[ HH:MM[:SS[.fff]]]`` is ``iso``, the same with a ``T``
    separator ``isot``, a signed five-digit year ``fits``, and ``YYYY:DDD[...]``
    ``yday``. Without a scale, ``iso``, ``isot``, ``fits``, ``yday`` and ``unix``
    times are UTC, ``cxcsec`` is TT and everything else (MJD, JD...) is TAI. A
    trailing ``Z`` or ``+00:00`` is accepted; other time zones are not.

    Parameters
    ----------
    body : `str`
        The text between the quotes.

    Returns
    -------
    tai_ns : `int`
        TAI nanoseconds since 1970.

    Raises
    ------
    ValueError
        If the format or scale is unknown or the value cannot be read.
    """
    parts = [p.strip() for p in body.split("/")]
    fmt: str | None = None
    scale: str | None = None
    if len(parts) == 1:
        (value,) = parts
    elif len(parts) == 2:
        if parts[0].lower() in _TIME_FORMATS:
            fmt, value = parts[0].lower(), parts[1]
        elif parts[1].lower() in _TIME_SCALES:
            value, scale = parts[0], parts[1].lower()
        else:
            raise ValueError(
                f"in time {body!r}, {parts[0]!r} is not a time format and {parts[1]!r} is not a time "
                f"scale; formats are {', '.join(sorted(_TIME_FORMATS))}; "
                f"scales are {', '.join(sorted(_TIME_SCALES))}"
            )
    elif len(parts) == 3:
        fmt, value, scale = parts[0].lower(), parts[1], parts[2].lower()
        if fmt not in _TIME_FORMATS:
            raise ValueError(
                f"unknown time format {parts[0]!r}; valid formats are {', '.join(sorted(_TIME_FORMATS))}"
            )
        if scale not in _TIME_SCALES:
            raise ValueError(
                f"unknown time scale {parts[2]!r}; valid scales are {', '.join(sorted(_TIME_SCALES))}"
            )
    else:
        raise ValueError(f"time {body!r} has too many '/'; expected [format/]value[/scale]")
    if not value:
        raise ValueError("empty time literal")
    if fmt is None or fmt in ("iso", "isot", "fits"):
        zone = _ZONE_RE.search(value)
        if zone is not None:
            if zone.group(1) not in ("Z", "+00:00", "+0000", "-00:00", "-0000"):
                raise ValueError(f"time zone {zone.group(1)!r} in {value!r} is not supported; use UTC")
            value = value[: zone.start()].rstrip()
    if fmt is None:
        fmt = _guess_time_format(value)
    if scale is None:
        scale = "utc" if fmt in _UTC_DEFAULT_FORMATS else "tt" if fmt == "cxcsec" else "tai"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            time = astropy.time.Time(value, format=fmt, scale=scale)
            ns = time_to_ns(time)
    except (ValueError, TypeError, OverflowError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"invalid time {value!r} for format {fmt!r} and scale {scale!r}: {reason}") from None
    return ns


# ---------------------------------------------------------------------------------- regions

REGION_FUNCTIONS: dict[str, tuple[int, str]] = {
    "POINT": (2, "POINT(ra, dec)"),
    "CIRCLE": (3, "CIRCLE(ra, dec, radius)"),
    "BOX": (4, "BOX(ra, dec, width, height)"),
    "POLYGON": (-6, "POLYGON(ra1, dec1, ra2, dec2, ra3, dec3, ...)"),
}
"""Region functions: argument count (negative: at least that many, even) and signature."""


def check_region_arity(name: str, count: int) -> None:
    """Raise `ValueError` unless ``count`` arguments suit region function ``name``."""
    expected, signature = REGION_FUNCTIONS[name]
    if expected >= 0 and count != expected:
        raise ValueError(f"{name} takes {expected} arguments, {signature}; got {count}")
    if expected < 0 and (count < -expected or count % 2):
        raise ValueError(
            f"{name} takes an even number of arguments, at least three vertices, {signature}; got {count}"
        )


def _lonlat(ra: float, dec: float) -> sphgeom.LonLat:
    if not -90.0 <= dec <= 90.0:
        raise ValueError(f"declination {dec!r} is outside [-90, 90] degrees")
    return sphgeom.LonLat.fromDegrees(ra, dec)


def make_region(name: str, args: Sequence[float]) -> sphgeom.Region | sphgeom.LonLat:
    """Build the region a region function describes (all angles in degrees, ICRS).

    Parameters
    ----------
    name
        ``POINT``, ``CIRCLE``, ``BOX`` or ``POLYGON`` (upper-case).
    args
        The numeric arguments.

    Returns
    -------
    lsst.sphgeom.Region or lsst.sphgeom.LonLat
        ``POINT(ra, dec)`` gives a `~lsst.sphgeom.LonLat`. ``CIRCLE(ra, dec, r)``
        a `~lsst.sphgeom.Circle` whose opening angle (centre to edge) is ``r``.
        ``BOX(ra, dec, w, h)`` a `~lsst.sphgeom.Box` spanning ``w`` degrees of
        longitude and ``h`` of latitude centred on (ra, dec). ``POLYGON`` the
        `~lsst.sphgeom.ConvexPolygon` hull of its vertices (order is irrelevant).

    Raises
    ------
    ValueError
        If the argument count or a value is invalid.
    """
    check_region_arity(name, len(args))
    values = [float(a) for a in args]
    for v in values:
        if not math.isfinite(v):
            raise ValueError(f"{name} arguments must be finite numbers, got {v!r}")
    if name == "POINT":
        return _lonlat(values[0], values[1])
    if name == "CIRCLE":
        ra, dec, radius = values
        if not 0.0 <= radius <= 180.0:
            raise ValueError(f"CIRCLE radius {radius!r} is outside [0, 180] degrees")
        return sphgeom.Circle(sphgeom.UnitVector3d(_lonlat(ra, dec)), sphgeom.Angle.fromDegrees(radius))
    if name == "BOX":
        ra, dec, width, height = values
        if not 0.0 <= width <= 360.0:
            raise ValueError(f"BOX width {width!r} is outside [0, 360] degrees")
        if not 0.0 <= height <= 180.0:
            raise ValueError(f"BOX height {height!r} is outside [0, 180] degrees")
        return sphgeom.Box(
            _lonlat(ra, dec), sphgeom.Angle.fromDegrees(width / 2), sphgeom.Angle.fromDegrees(height / 2)
        )
    if name == "POLYGON":
        points = [sphgeom.UnitVector3d(_lonlat(values[i], values[i + 1])) for i in range(0, len(values), 2)]
        return sphgeom.ConvexPolygon.convexHull(points)
    raise ValueError(f"{name} is not a region function")


def parse_region_string(pos: str) -> sphgeom.Region:
    """Read an IVOA SIAv2 ``POS`` string into a sphgeom region.

    The shapes are ``CIRCLE ra dec r``, ``RANGE lon1 lon2 lat1 lat2`` and
    ``POLYGON ra1 dec1 ...`` (degrees; RANGE accepts ``-Inf``/``+Inf``).

    Parameters
    ----------
    pos : `str`
        The ``POS`` string.

    Returns
    -------
    region : `lsst.sphgeom.Region`
        A ``Circle``, ``Box`` or ``ConvexPolygon``.

    Raises
    ------
    ValueError
        If the shape is unknown or the numbers are invalid.
    """
    words = pos.split()
    if not words:
        raise ValueError("empty region string; expected 'CIRCLE ra dec r', 'RANGE ...' or 'POLYGON ...'")
    shape = words[0].upper()
    try:
        numbers = [float(w) for w in words[1:]]
    except ValueError:
        raise ValueError(f"region string {pos!r} has a non-numeric value") from None
    if shape == "CIRCLE":
        if len(numbers) != 3:
            raise ValueError(f"region string {pos!r}: CIRCLE needs ra, dec and radius")
        region = make_region("CIRCLE", numbers)
    elif shape == "POLYGON":
        region = make_region("POLYGON", numbers)
    elif shape == "RANGE":
        if len(numbers) != 4:
            raise ValueError(f"region string {pos!r}: RANGE needs lon1 lon2 lat1 lat2")
        lon1, lon2, lat1, lat2 = numbers
        if math.isinf(lon1) or math.isinf(lon2):
            lon = sphgeom.NormalizedAngleInterval.full()
        else:
            lon = sphgeom.NormalizedAngleInterval.fromDegrees(lon1, lon2)
        lat = sphgeom.AngleInterval.fromDegrees(max(lat1, -90.0), min(lat2, 90.0))
        region = sphgeom.Box(lon, lat)
    else:
        raise ValueError(f"unknown region shape {words[0]!r}; expected CIRCLE, RANGE or POLYGON")
    assert isinstance(region, sphgeom.Region)
    return region


def parse_uuid(value: str) -> uuid.UUID:
    """Read a UUID in any form `uuid.UUID` accepts; raise `ValueError` naming it otherwise."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid UUID") from None
