"""Find instrument classes by name: entry points first, then the built-in table.

Packages add instruments by declaring an entry point in the group
``chamberlain.instruments`` whose name is the instrument name and whose value
is ``module:Class``, e.g. ``SimCam = "chamberlain.instrument.simcam:SimCam"``.
Classes are imported only when asked for.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil

from chamberlain.errors import InstrumentError, format_choices

from .base import Instrument

__all__ = ["ENTRY_POINT_GROUP", "get_instrument", "instrument_from_class_name", "known_instruments"]

ENTRY_POINT_GROUP = "chamberlain.instruments"

_BUILTIN: dict[str, str] = {"SimCam": "chamberlain.instrument.simcam:SimCam"}


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def known_instruments() -> list[str]:
    """Return the names of all instruments available through entry points or built in, sorted.

    Returns
    -------
    names : `list` [`str`]
        The names `get_instrument` accepts (besides ``module.Class`` paths).
    """
    return sorted(set(_entry_points()) | set(_BUILTIN))


def _import(target: str, what: str) -> object:
    module_name, sep, attr = target.partition(":")
    if not sep:
        module_name, _, attr = target.rpartition(".")
    if not module_name or not attr:
        raise InstrumentError(f"{what}: {target!r} is not a 'module.Class' or 'module:Class' path.")
    try:
        obj: object = pkgutil.resolve_name(target)
    except (ImportError, AttributeError, ValueError) as err:
        raise InstrumentError(f"{what}: cannot import {target!r} ({err}).") from None
    return obj


def _instantiate(cls: object, what: str) -> Instrument:
    if not (isinstance(cls, type) and issubclass(cls, Instrument)):
        raise InstrumentError(f"{what}: {cls!r} is not a subclass of chamberlain.instrument.Instrument.")
    try:
        return cls()
    except TypeError as err:
        raise InstrumentError(
            f"{what}: {cls.__name__} cannot be constructed without arguments ({err})."
        ) from None


def get_instrument(name: str) -> Instrument:
    """Return a new instance of the instrument called ``name``.

    Parameters
    ----------
    name
        An instrument name (``"SimCam"``), looked up in the entry-point group
        ``chamberlain.instruments`` and then in the built-in table; or a full
        ``module.Class`` path, such as the ``class_name`` an ``instrument``
        record stores.

    Returns
    -------
    instrument : `Instrument`
        A new instance.

    Raises
    ------
    InstrumentError
        If no instrument has that name (the message lists the known names),
        or its class cannot be imported or constructed.
    """
    if not isinstance(name, str) or not name:
        raise InstrumentError(f"Instrument name must be a non-empty string, got {name!r}.")
    entry = _entry_points().get(name)
    if entry is not None:
        try:
            cls: object = entry.load()
        except (ImportError, AttributeError) as err:
            raise InstrumentError(
                f"Instrument {name!r}: entry point {entry.value!r} cannot be loaded ({err})."
            ) from None
        return _instantiate(cls, f"Instrument {name!r}")
    builtin = _BUILTIN.get(name)
    if builtin is not None:
        return _instantiate(_import(builtin, f"Instrument {name!r}"), f"Instrument {name!r}")
    if "." in name:
        return instrument_from_class_name(name)
    raise InstrumentError(
        f"Unknown instrument {name!r}; known instruments: {format_choices(known_instruments())}."
    )


def instrument_from_class_name(class_name: str) -> Instrument:
    """Instantiate an instrument from its ``module.Class`` path (an ``instrument`` record's ``class_name``).

    Parameters
    ----------
    class_name : `str`
        The importable path of an `Instrument` subclass.

    Returns
    -------
    Instrument
        A new instance of that class.

    Raises
    ------
    InstrumentError
        If the path cannot be imported, is not an `Instrument` subclass, or
        the class needs constructor arguments.
    """
    what = f"Instrument class {class_name!r}"
    return _instantiate(_import(class_name, what), what)
