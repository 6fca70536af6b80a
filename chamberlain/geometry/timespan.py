"""Half-open time intervals in TAI, stored as integer nanoseconds.

A `Timespan` is ``[begin, end)``: it contains ``begin`` and not ``end``. Bounds
are integer nanoseconds since 1970-01-01T00:00:00 TAI (not UTC: no leap
seconds, so differences are exact), or `None` for unbounded. A timespan whose
begin is not before its end is *empty*: it overlaps nothing and is contained by
everything. The database stores the two bounds as BIGINT columns
``<name>_begin`` and ``<name>_end`` with NULL for unbounded.

Unlike the Rubin butler, which clamps times to 1970-2100, any time a signed
64-bit nanosecond count can hold (years 1678-2262) is accepted as it is.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import astropy.time

from chamberlain.errors import GeometryError, TimespanTypeError

_NS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH = astropy.time.Time("1970-01-01T00:00:00", format="isot", scale="tai")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def time_to_ns(time: astropy.time.Time) -> int:
    """Convert a scalar astropy time (any scale) to integer TAI nanoseconds since 1970.

    Parameters
    ----------
    time : `astropy.time.Time`
        A scalar time in any scale; it is converted to TAI.

    Returns
    -------
    ns : `int`
        Nanoseconds since 1970-01-01T00:00:00 TAI, rounded to the nearest
        nanosecond.

    Raises
    ------
    GeometryError
        If the time is not a scalar or is outside the signed 64-bit range.
    """
    if not time.isscalar:
        raise GeometryError(f"Expected a single time, got an array of shape {time.shape}.")
    tai = time.tai
    ns = round((tai.jd1 - _EPOCH.jd1) * _NS_PER_DAY) + round((tai.jd2 - _EPOCH.jd2) * _NS_PER_DAY)
    if not _INT64_MIN <= ns <= _INT64_MAX:
        raise GeometryError(f"Time {time.isot} is outside the range a timespan can store (1678-2262).")
    return ns


def ns_to_time(ns: int) -> astropy.time.Time:
    """Convert integer TAI nanoseconds since 1970 to an astropy `Time` in the TAI scale.

    Parameters
    ----------
    ns : `int`
        Nanoseconds since 1970-01-01T00:00:00 TAI.

    Returns
    -------
    time : `astropy.time.Time`
        The time in the TAI scale (``jd`` format, nanosecond precision).
    """
    days, rem = divmod(int(ns), _NS_PER_DAY)
    return astropy.time.Time(
        _EPOCH.jd1 + days, _EPOCH.jd2 + rem / _NS_PER_DAY, format="jd", scale="tai", precision=9
    )


def _to_ns(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, astropy.time.Time):
        return time_to_ns(value)
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import numpy as np

            if isinstance(value, np.integer):
                return int(value)
        except ImportError:  # pragma: no cover - numpy is a dependency
            pass
        raise TimespanTypeError(
            f"Timespan {what} must be an astropy Time, integer TAI nanoseconds or None; got {value!r}."
        )
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class Timespan:
    """A half-open ``[begin, end)`` interval of TAI nanoseconds; `None` is unbounded.

    Construct with integers (nanoseconds, TAI, since 1970) or astropy `Time`
    objects; `Timespan.from_times` says so explicitly. All empty timespans
    compare equal (a begin at or after the end is stored as ``(0, 0)``).

    Parameters
    ----------
    begin : `astropy.time.Time`, `int` or None
        The first instant in the interval; None for no lower bound.
    end : `astropy.time.Time`, `int` or None
        The first instant after the interval; None for no upper bound.

    Raises
    ------
    TimespanTypeError
        If a bound is neither an astropy time, an integer nor None.
    GeometryError
        If a time bound is not a scalar or is outside the signed 64-bit
        nanosecond range.
    """

    begin: int | None
    end: int | None

    def __init__(self, begin: Any, end: Any) -> None:
        b = _to_ns(begin, "begin")
        e = _to_ns(end, "end")
        if b is not None and e is not None and b >= e:
            b, e = 0, 0  # the canonical empty timespan
        object.__setattr__(self, "begin", b)
        object.__setattr__(self, "end", e)

    # --- construction ---------------------------------------------------------------

    @classmethod
    def from_times(cls, begin: astropy.time.Time | None, end: astropy.time.Time | None) -> Timespan:
        """Build a timespan from astropy times (any scale; converted to TAI).

        Parameters
        ----------
        begin : `astropy.time.Time` or None
            The first instant in the interval; None for no lower bound.
        end : `astropy.time.Time` or None
            The first instant after the interval; None for no upper bound.

        Returns
        -------
        timespan : `Timespan`
            The interval (empty if ``begin`` is not before ``end``).

        Raises
        ------
        GeometryError
            If a time is not a scalar or is outside the storable range.
        """
        return cls(begin, end)

    @classmethod
    def empty(cls) -> Timespan:
        """Return the empty timespan.

        Returns
        -------
        timespan : `Timespan`
            ``Timespan(0, 0)``, equal to every other empty timespan.
        """
        return cls(0, 0)

    @classmethod
    def unbounded(cls) -> Timespan:
        """Return the timespan that contains all times.

        Returns
        -------
        timespan : `Timespan`
            ``Timespan(None, None)``.
        """
        return cls(None, None)

    @classmethod
    def from_day_obs(cls, day_obs: int, offset_seconds: int = 0) -> Timespan:
        """Return the 24 hours of an observing day starting at TAI midnight plus an offset.

        Parameters
        ----------
        day_obs : `int`
            The observing day as an integer ``YYYYMMDD``.
        offset_seconds : `int`, optional
            Seconds added to TAI midnight to give the start of the day (an
            observatory's day rollover); may be negative.

        Returns
        -------
        timespan : `Timespan`
            The 86400-second interval starting at the offset midnight.

        Raises
        ------
        GeometryError
            If ``day_obs`` is not a valid ``YYYYMMDD`` date.
        """
        text = str(day_obs)
        if len(text) != 8 or not text.isdigit():
            raise GeometryError(f"day_obs must be an integer YYYYMMDD, got {day_obs!r}.")
        try:
            start = astropy.time.Time(f"{text[:4]}-{text[4:6]}-{text[6:]}T00:00:00", scale="tai")
        except ValueError as err:
            raise GeometryError(f"day_obs {day_obs!r} is not a valid date: {err}") from None
        begin = time_to_ns(start) + offset_seconds * 1_000_000_000
        return cls(begin, begin + _NS_PER_DAY)

    # --- predicates -----------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        """True if this timespan contains no time at all."""
        return self.begin is not None and self.end is not None and self.begin >= self.end

    def overlaps(self, other: Timespan) -> bool:
        """Test whether the two timespans share at least one instant.

        Parameters
        ----------
        other : `Timespan`
            The timespan to compare with.

        Returns
        -------
        overlaps : `bool`
            True if they share an instant; always False if either is empty.
        """
        if self.is_empty or other.is_empty:
            return False
        if self.end is not None and other.begin is not None and other.begin >= self.end:
            return False
        return not (other.end is not None and self.begin is not None and self.begin >= other.end)

    def contains(self, other: Timespan | astropy.time.Time | int) -> bool:
        """Test whether a timespan or a time lies inside this one.

        Parameters
        ----------
        other : `Timespan`, `astropy.time.Time` or `int`
            A timespan, a scalar time, or integer TAI nanoseconds since 1970.

        Returns
        -------
        contains : `bool`
            True if every instant of ``other`` is in this timespan (an empty
            ``other`` is contained by every timespan); for a time, True if
            ``begin <= other < end``.

        Raises
        ------
        TimespanTypeError
            If ``other`` is neither a timespan, a time nor an integer.
        """
        if isinstance(other, Timespan):
            if other.is_empty:
                return True
            if self.is_empty:
                return False
            if self.begin is not None and (other.begin is None or other.begin < self.begin):
                return False
            return not (self.end is not None and (other.end is None or other.end > self.end))
        t = _to_ns(other, "time")
        assert t is not None
        if self.is_empty:
            return False
        return (self.begin is None or self.begin <= t) and (self.end is None or t < self.end)

    # --- algebra --------------------------------------------------------------------

    def intersection(self, *others: Timespan) -> Timespan:
        """Return the instants common to this timespan and all the others.

        Parameters
        ----------
        *others : `Timespan`
            Timespans to intersect with this one.

        Returns
        -------
        timespan : `Timespan`
            The intersection; empty if any operand is empty or they do not
            overlap, this timespan itself if ``others`` is empty.
        """
        begin, end = self.begin, self.end
        for o in others:
            if o.is_empty or self.is_empty:
                return Timespan.empty()
            if o.begin is not None:
                begin = o.begin if begin is None else max(begin, o.begin)
            if o.end is not None:
                end = o.end if end is None else min(end, o.end)
        return Timespan(begin, end)

    def difference(self, other: Timespan) -> list[Timespan]:
        """Return what remains of this timespan once ``other`` is removed.

        Parameters
        ----------
        other : `Timespan`
            The timespan to remove.

        Returns
        -------
        pieces : `list` [`Timespan`]
            Zero, one or two non-empty timespans, in time order.
        """
        if not self.overlaps(other):
            return [] if self.is_empty else [self]
        pieces = []
        if other.begin is not None and (self.begin is None or self.begin < other.begin):
            pieces.append(Timespan(self.begin, other.begin))
        if other.end is not None and (self.end is None or other.end < self.end):
            pieces.append(Timespan(other.end, self.end))
        return pieces

    # --- presentation ---------------------------------------------------------------

    def to_times(self) -> tuple[astropy.time.Time | None, astropy.time.Time | None]:
        """Return the bounds as astropy TAI times.

        Returns
        -------
        begin, end : `astropy.time.Time` or None
            The bounds in the TAI scale; None where unbounded.
        """
        return (
            None if self.begin is None else ns_to_time(self.begin),
            None if self.end is None else ns_to_time(self.end),
        )

    def __str__(self) -> str:
        if self.is_empty:
            return "[empty)"
        b, e = self.to_times()
        return f"[{'-∞' if b is None else b.isot}, {'∞' if e is None else e.isot}) TAI"

    def __repr__(self) -> str:
        return f"Timespan(begin={self.begin!r}, end={self.end!r})"
