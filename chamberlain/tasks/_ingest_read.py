"""Reading and translating one raw file's header: the part of raw ingest that runs in worker processes.

Everything here is pure with respect to the repository: it reads one file and
returns plain picklable dicts, so `multiprocessing` workers can run it.

Headers are read by scanning the file's 2880-byte header blocks directly
(`chamberlain.image.fits_headers.read_hdu_headers`), which is several times
faster than ``fitsio.read_header`` for raw-sized headers and also tells where
the data ends, so truncated files are caught without reading any pixels.
Card values are parsed only when a translator looks them up (`RawHeader`).
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from chamberlain.errors import (
    ChamberlainError,
    FormatterError,
    InstrumentError,
    RawHeaderError,
    format_choices,
)
from chamberlain.image.fits_headers import parse_value, read_hdu_headers
from chamberlain.instrument import Instrument, get_instrument

__all__ = [
    "RawHeader",
    "RawHeaderError",
    "check_instrument",
    "ingestible_instruments",
    "plugin_for",
    "read_primary_header",
    "translate_raw_file",
]

_CARD = 80


class RawHeader(Mapping[str, Any]):
    """A primary header as a read-only mapping whose card values are parsed only when looked up.

    Translators read a few dozen of a raw header's keywords; parsing only
    those keeps header reading cheap. A header whose cards this parser
    cannot handle (long ``CONTINUE`` strings, unusual values) is parsed
    whole by astropy instead. Commentary cards are not included; for a
    keyword given twice the last value wins.
    """

    __slots__ = ("_cards", "_parsed", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._parsed: dict[str, Any] | None = None
        cards: dict[str, str] = {}
        if "CONTINUE" in text:
            self._parsed = _parse_astropy(text)
        else:
            for start in range(0, len(text), _CARD):
                card = text[start : start + _CARD]
                if card[8:10] == "= ":
                    cards[card[:8].rstrip()] = card[10:]
                elif card.startswith("HIERARCH "):
                    key, equals, value = card[9:].partition("=")
                    if equals and key.strip():
                        cards[key.strip()] = value
        self._cards = cards

    def _all(self) -> dict[str, Any]:
        if self._parsed is None:
            self._parsed = _parse_astropy(self._text)
        return self._parsed

    def __getitem__(self, key: str) -> Any:
        if self._parsed is not None:
            return self._parsed[key]
        raw = self._cards[key]
        try:
            return parse_value(raw)
        except FormatterError:
            return self._all()[key]

    def __contains__(self, key: object) -> bool:
        return key in (self._cards if self._parsed is None else self._parsed)

    def __iter__(self) -> Iterator[str]:
        return iter(self._cards if self._parsed is None else self._parsed)

    def __len__(self) -> int:
        return len(self._cards if self._parsed is None else self._parsed)


def _parse_astropy(text: str) -> dict[str, Any]:
    from astropy.io.fits import Header
    from astropy.io.fits.card import Undefined

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = Header.fromstring(text)
        out: dict[str, Any] = {}
        for key, value in header.items():
            if key in ("COMMENT", "HISTORY", ""):
                continue
            out[key] = None if isinstance(value, Undefined) else value
    return out


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str:
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    return f"it is {kind}, not a regular file (skipped without opening it)"


def _open_regular(path: str) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file (after following links).

    The file is checked with ``os.stat`` before it is opened, so a FIFO or a
    device is never opened (opening a FIFO blocks until a writer comes; a
    device may act on being opened). It is opened non-blocking and checked
    again with ``fstat``, in case it was replaced in between.

    Parameters
    ----------
    path
        The file.

    Raises
    ------
    RawHeaderError
        If it is a dangling symbolic link or not a regular file.
    OSError
        If it cannot be opened.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise RawHeaderError(
                f"it is a symbolic link to {os.readlink(path)!r}, which does not exist"
            ) from None
        raise
    if not stat.S_ISREG(mode):
        raise RawHeaderError(_not_regular(mode))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise RawHeaderError(_not_regular(mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def read_primary_header(path: str) -> RawHeader:
    """The primary header of a raw FITS file (a lazily parsed mapping), after checking the file is whole.

    Parameters
    ----------
    path
        The file; it must be a regular file (or a link to one). FIFOs,
        devices, sockets and directories are refused without being opened.

    Raises
    ------
    RawHeaderError
        If the file is not a regular file, is a dangling symbolic link,
        cannot be opened, is not FITS, or is truncated (shorter than its
        header says its data is); the message gives the reason.
    """
    try:
        with _open_regular(path) as stream:
            try:
                (hdu,) = read_hdu_headers(stream, 1, path)
            except FormatterError as err:
                text = str(err)
                if "not a FITS file" in text:
                    raise RawHeaderError("not a FITS file (it does not start with a SIMPLE card)") from None
                if "truncated" in text:
                    raise RawHeaderError("truncated: the primary header has no END card") from None
                raise RawHeaderError(f"unreadable FITS header: {text}") from None
            size = os.fstat(stream.fileno()).st_size
    except OSError as err:
        raise RawHeaderError(f"cannot read the file: {err.strerror or err}") from None
    needed = hdu.data_offset + hdu.data_size
    if size < needed:
        raise RawHeaderError(
            f"truncated: the file has {size} bytes but its primary HDU needs {needed} "
            f"({hdu.data_size} bytes of data after a {hdu.data_offset}-byte header)"
        )
    return RawHeader(hdu.text)


# Instrument plug-ins by name, looked up once per process (None: no plug-in).
_PLUGINS: dict[str, Instrument | None] = {}


def plugin_for(name: str) -> Instrument | None:
    """The instrument plug-in called ``name``, or None if there is none (cached per process)."""
    if name not in _PLUGINS:
        try:
            _PLUGINS[name] = get_instrument(name)
        except InstrumentError:
            _PLUGINS[name] = None
    return _PLUGINS[name]


def ingestible_instruments() -> list[str]:
    """Names of the instruments whose raws can be ingested: plug-ins and astro-metadata-translator's.

    Returns
    -------
    list of str
        Sorted names: instrument plug-ins (`chamberlain.instrument.known_instruments`)
        and the instruments of the registered astro-metadata-translator classes.
    """
    from chamberlain.instrument import known_instruments
    from chamberlain.instrument.translation import translator_instruments

    return sorted(set(known_instruments()) | set(translator_instruments()))


def check_instrument(name: str) -> None:
    """Raise unless raws of instrument ``name`` can be ingested (checked once, before any file is read).

    Parameters
    ----------
    name
        The instrument asked for (``--instrument``).

    Raises
    ------
    InstrumentError
        If neither a plug-in nor a header translator knows it; the message
        lists the known instruments.
    """
    known = ingestible_instruments()
    if name not in known and plugin_for(name) is None:
        raise InstrumentError(f"Unknown instrument {name!r}; known instruments: {format_choices(known)}.")


# day_obs records by (instrument, day): many raws share a day, and its timespan is costly to make.
_DAYS: dict[tuple[str, int], dict[str, Any]] = {}


def _day_obs_record(instrument: Instrument, day_obs: int) -> dict[str, Any]:
    key = (instrument.name, day_obs)
    record = _DAYS.get(key)
    if record is None:
        if len(_DAYS) > 10_000:
            _DAYS.clear()
        record = _DAYS[key] = instrument.day_obs_record(day_obs)
    return record


def _translate_plugin(instrument: Instrument, header: Mapping[str, Any]) -> dict[str, Any]:
    info = instrument.translate_raw_header(header)
    exposure = info.exposure
    return {
        "instrument": instrument.name,
        "plugin": True,
        "detector": info.detector,
        "exposure": exposure,
        "group": instrument.group_record(info.group),
        "day_obs": _day_obs_record(instrument, info.day_obs),
        "detector_record": None,
        "physical_filter": None,
    }


def _translate_generic(header: Mapping[str, Any], path: str, expected: str | None) -> dict[str, Any]:
    from chamberlain.instrument.translation import translate_header

    raw = translate_header(header, filename=path)
    if expected is not None and raw.instrument != expected:
        raise RawHeaderError(
            f"the header is from instrument {raw.instrument!r}, not the {expected!r} asked for"
        )
    return {
        "instrument": raw.instrument,
        "plugin": False,
        "detector": raw.detector["id"],
        "exposure": raw.exposure,
        "group": raw.group,
        "day_obs": raw.day_obs,
        "detector_record": raw.detector,
        "physical_filter": raw.physical_filter,
    }


def translate_raw_file(path: str, instrument: str | None = None) -> dict[str, Any]:
    """Read and translate one raw file.

    Parameters
    ----------
    path
        The file.
    instrument
        Instrument name the file must belong to; by default the header's
        ``INSTRUME`` chooses. An instrument plug-in (`get_instrument`) of that
        name translates the header if there is one, astro-metadata-translator
        (`chamberlain.instrument.translation.translate_header`) otherwise.

    Returns
    -------
    dict
        ``{"path", "error"}`` if the file cannot be ingested (``error`` is the
        reason), else ``{"path", "instrument", "plugin", "detector",
        "exposure", "group", "day_obs", "detector_record",
        "physical_filter"}`` with plain record dicts.
    """
    try:
        header = read_primary_header(path)
        name = instrument
        if name is None:
            value = header.get("INSTRUME")
            name = value.strip() if isinstance(value, str) else None
        plugin = plugin_for(name) if name else None
        if plugin is None and instrument is not None:
            own = header.get("INSTRUME")
            own_plugin = plugin_for(own.strip()) if isinstance(own, str) and own.strip() else None
            if own_plugin is not None:
                raise RawHeaderError(
                    f"the header is from instrument {own_plugin.name!r}, not the {instrument!r} asked for"
                )
        if plugin is not None:
            result = _translate_plugin(plugin, header)
        else:
            result = _translate_generic(header, path, instrument)
    except RawHeaderError as err:
        return {"path": path, "error": str(err)}
    except ChamberlainError as err:
        return {"path": path, "error": f"header cannot be translated: {err}"}
    except Exception as err:  # a translator bug must not stop a whole ingest
        return {"path": path, "error": f"header cannot be translated: {type(err).__name__}: {err}"}
    result["path"] = path
    return result
