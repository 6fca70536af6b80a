"""Typed access to raw-header keywords, with errors that name the keyword at fault."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from chamberlain.errors import InstrumentError

T = TypeVar("T")

_MISSING: Any = object()


class HeaderReader:
    """Read keywords of one raw header, converting types and reporting failures.

    Parameters
    ----------
    header
        Any mapping-like header (`dict`, `astropy.io.fits.Header`,
        ``fitsio.FITSHDR``): it needs ``key in header`` and ``header[key]``.
    instrument
        Instrument name, for messages.
    """

    def __init__(self, header: Mapping[str, Any] | Any, instrument: str) -> None:
        self._header = header
        self._instrument = instrument

    def _raw(self, key: str, default: Any) -> Any:
        try:
            present = key in self._header
        except TypeError:
            present = False
        if present:
            value = self._header[key]
            if value is not None and type(value).__name__ != "Undefined":
                return value
        if default is _MISSING:
            raise InstrumentError(
                f"{self._instrument} raw header is missing required keyword {key!r}; cannot translate it."
            )
        return default

    def _bad(self, key: str, value: Any, what: str) -> InstrumentError:
        return InstrumentError(
            f"{self._instrument} raw header keyword {key!r} has value {value!r}, which is not {what}."
        )

    def string(self, key: str, default: Any = _MISSING) -> Any:
        """Return the keyword as a stripped string (or ``default`` if absent)."""
        value = self._raw(key, default)
        if value is default and default is not _MISSING:
            return default
        if not isinstance(value, str):
            raise self._bad(key, value, "a string")
        return value.strip()

    def integer(self, key: str, default: Any = _MISSING) -> Any:
        """Return the keyword as an `int` (or ``default`` if absent); accepts integral floats and strings."""
        value = self._raw(key, default)
        if value is default and default is not _MISSING:
            return default
        if isinstance(value, bool):
            raise self._bad(key, value, "an integer")
        try:
            result = int(str(value).strip()) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            raise self._bad(key, value, "an integer") from None
        if not isinstance(value, str) and result != value:
            raise self._bad(key, value, "an integer")
        return result

    def number(self, key: str, default: Any = _MISSING) -> Any:
        """Return the keyword as a finite `float` (or ``default`` if absent)."""
        value = self._raw(key, default)
        if value is default and default is not _MISSING:
            return default
        if isinstance(value, bool):
            raise self._bad(key, value, "a number")
        try:
            result = float(value)
        except (TypeError, ValueError):
            raise self._bad(key, value, "a number") from None
        if result != result or result in (float("inf"), float("-inf")):
            raise self._bad(key, value, "a finite number")
        return result

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        """Return the keyword as a `bool` (FITS logical ``T``/``F``), or ``default`` if absent."""
        value = self._raw(key, default)
        if value is default and default is not _MISSING:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().upper() in ("T", "F", "TRUE", "FALSE"):
            return value.strip().upper().startswith("T")
        raise self._bad(key, value, "a logical (T/F)")
