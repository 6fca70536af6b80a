"""FITS headers: exact card formatting, raw header reading, and raw card writing.

Cards are formatted here (not by fitsio, which rounds floats to 15 digits) so
that float values round-trip exactly: they are written with Python's shortest
round-tripping ``repr``. Headers are read as raw 2880-byte blocks and handed to
`astropy.io.fits.Header.fromstring`, which parses card values lazily; only the
keys actually looked at are converted.

`append_header_records` is the one place that calls a private fitsio function
(``FITS._FITS.write_record``, which writes an 80-character card as given):
fitsio's public header API reformats values. ``tests/image/test_fits_headers.py``
fails if a fitsio release changes that function, and ``pyproject.toml`` bounds
the fitsio version.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np
from astropy.io.fits import Card, Header
from astropy.io.fits.card import Undefined
from astropy.io.fits.verify import VerifyWarning

from chamberlain.errors import FormatterError, ImageError

__all__ = [
    "BLOCK",
    "parse_value",
    "HduHeader",
    "append_header_records",
    "format_cards",
    "header_items",
    "read_hdu_headers",
    "read_image_hdu_headers",
]

BLOCK = 2880
_CARD = 80
_STANDARD_KEY = re.compile(r"^[A-Z0-9_-]{1,8}$")
_END = b"END" + b" " * 77
_ABSENT = object()  # marks a key `HduHeader.get` found no card for


def _format_float(key: str, value: float) -> str:
    if not math.isfinite(value):
        raise ImageError(f"Header key {key!r} has the non-finite value {value!r}, which FITS cannot store.")
    text = repr(value).upper()
    if "." not in text and "E" not in text:  # pragma: no cover - repr always has one of them.
        text += ".0"
    return text


def format_cards(key: str, value: Any, comment: str = "") -> list[str]:
    """Format one key/value as 80-character FITS card images (several for long strings).

    Keys that are not standard FITS keywords (up to 8 of ``A-Z 0-9 _ -``) are
    written with the HIERARCH convention, keeping their case.

    Parameters
    ----------
    key : `str`
        The header keyword.
    value : `~typing.Any`
        A str, int, float, bool or None (numpy scalars are converted).
    comment : `str`, optional
        The card comment.

    Returns
    -------
    cards : `list` [`str`]
        The card images, each exactly 80 characters; long strings use
        CONTINUE cards.

    Raises
    ------
    ImageError
        If the value is of an unsupported type or is a non-finite float, or
        the key is too long to hold a value.
    """
    if isinstance(value, np.generic):
        value = value.item()
    standard = bool(_STANDARD_KEY.match(key))
    if isinstance(value, float):
        text = _format_float(key, value)
        card = f"{key:<8}= {text:>20}" if standard else f"HIERARCH {key} = {text}"
        if comment:
            card += f" / {comment}"
        if len(card) > _CARD:
            if len(card) - len(comment) - 3 > _CARD:
                raise ImageError(f"Header key {key!r} is too long to hold a value in an 80-character card.")
            card = card[:_CARD]
        return [card.ljust(_CARD)]
    if value is not None and not isinstance(value, bool | int | str):
        raise ImageError(
            f"Header key {key!r} has a value of type {type(value).__name__}; "
            "only str, int, float, bool and None can be stored."
        )
    name = key if standard else f"HIERARCH {key}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VerifyWarning)
            image = str(Card(name, value, comment))
    except (ValueError, TypeError) as err:
        raise ImageError(f"Header key {key!r} with value {value!r} cannot be written: {err}") from None
    return [image[i : i + _CARD] for i in range(0, len(image), _CARD)]


def header_items(header: Header, skip: Iterable[str] = ()) -> Iterator[tuple[str, Any]]:
    """Yield ``(key, value)`` for the value cards of ``header``, skipping comments and ``skip`` keys.

    Parameters
    ----------
    header : `astropy.io.fits.Header`
        The header to read.
    skip : `~collections.abc.Iterable` [`str`], optional
        Keywords to leave out.

    Yields
    ------
    key : `str`
        The keyword of a value card (not COMMENT or HISTORY).
    value : `~typing.Any`
        Its value; undefined values come back as `None`.
    """
    skipped = set(skip)
    for card in header.cards:
        key = card.keyword
        if not key or key in ("COMMENT", "HISTORY") or key in skipped:
            continue
        value = card.value
        if isinstance(value, Undefined):
            value = None
        yield key, value


def parse_value(raw: str) -> Any:
    """Parse the value field of a card (the text after ``= ``), ignoring any comment.

    Handles the value types the layout keys use: quoted strings (no CONTINUE),
    logicals, integers and floats.

    Parameters
    ----------
    raw : `str`
        The value field of the card.

    Returns
    -------
    value : `str`, `bool`, `int`, `float` or None
        The parsed value (trailing blanks of strings removed); `None` for an
        empty field.

    Raises
    ------
    FormatterError
        If a string is unterminated or the field is not a recognised value.
    """
    text = raw.strip()
    if text.startswith("'"):
        parts: list[str] = []
        start = 1
        while True:
            quote = text.find("'", start)
            if quote < 0:
                raise FormatterError(f"Unterminated string in FITS card value {raw!r}.")
            if text[quote + 1 : quote + 2] == "'":
                parts.append(text[start : quote + 1])
                start = quote + 2
                continue
            parts.append(text[start:quote])
            return "".join(parts).rstrip()
    text = text.split("/", 1)[0].strip()
    if not text:
        return None
    if text == "T":
        return True
    if text == "F":
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text.replace("D", "E"))
    except ValueError:
        raise FormatterError(f"Cannot parse FITS card value {raw!r}.") from None


def _scan(text: str) -> dict[str, str]:
    cards: dict[str, str] = {}
    for start in range(0, len(text), _CARD):
        if text[start + 8 : start + 10] == "= ":
            key = text[start : start + 8].rstrip()
            if key not in cards:
                cards[key] = text[start + 10 : start + _CARD]
        elif text[start : start + 9] == "HIERARCH ":
            body = text[start + 9 : start + _CARD]
            equals = body.find("=")
            if equals > 0:
                key = body[:equals].strip().upper()
                if key not in cards:
                    cards[key] = body[equals + 1 :]
    return cards


class HduHeader:
    """One HDU's header text and where its data lies in the file.

    `get` looks up a few simple keys with a fast scanner; `header` builds the
    full astropy `Header` the first time it is needed. Made by `read_hdu_headers`.

    Parameters
    ----------
    text : `str`
        The header's 80-character cards, concatenated (up to, not including, END).
    header_offset : `int`
        Byte offset of the header in the file.
    data_offset : `int`
        Byte offset of the HDU's data in the file.
    data_size : `int`
        Size of the data in bytes, without the padding to 2880-byte blocks.
    """

    __slots__ = ("_cards", "_header", "_values", "data_offset", "data_size", "header_offset", "text")

    def __init__(self, text: str, header_offset: int, data_offset: int, data_size: int) -> None:
        self.text = text
        self.header_offset = header_offset
        self.data_offset = data_offset
        self.data_size = data_size
        self._cards: dict[str, str] | None = None
        self._header: Header | None = None
        self._values: dict[str, Any] = {}

    @property
    def cards(self) -> dict[str, str]:
        """Keyword -> raw value field, for every value card (first occurrence wins)."""
        if self._cards is None:
            self._cards = _scan(self.text)
        return self._cards

    def get(self, key: str, default: Any = None) -> Any:
        """Return the parsed value of ``key`` (a simple, non-CONTINUE value), or ``default``.

        Parameters
        ----------
        key : `str`
            The header keyword.
        default : `~typing.Any`, optional
            Returned when the header has no card for ``key``.

        Returns
        -------
        value : `~typing.Any`
            The value as `parse_value` gives it, or ``default``.

        Raises
        ------
        FormatterError
            If the card's value cannot be parsed.
        """
        values = self._values
        if key in values:
            value = values[key]
        else:
            raw = self.cards.get(key)
            value = values[key] = _ABSENT if raw is None else parse_value(raw)
        return default if value is _ABSENT else value

    def __contains__(self, key: str) -> bool:
        return key in self.cards

    @property
    def header(self) -> Header:
        """The full header, parsed by astropy (lazily, card values on access)."""
        if self._header is None:
            self._header = Header.fromstring(self.text)
        return self._header

    @property
    def next_offset(self) -> int:
        """Where the next HDU's header starts."""
        padded = -(-self.data_size // BLOCK) * BLOCK
        return self.data_offset + padded


def _data_size(text: str) -> int:
    # The mandatory keys come first (BITPIX, NAXIS, NAXISn, then PCOUNT and GCOUNT
    # for extensions), so scan only the opening cards.
    cards: dict[str, Any] = {}
    for start in range(_CARD, len(text), _CARD):
        key = text[start : start + 8].rstrip()
        if text[start + 8 : start + 10] != "= " or not (
            key.startswith("NAXIS") or key in ("BITPIX", "PCOUNT", "GCOUNT")
        ):
            break
        cards[key] = parse_value(text[start + 10 : start + _CARD])
    naxis = int(cards["NAXIS"])
    size = 0
    if naxis > 0:
        size = 1
        for axis in range(1, naxis + 1):
            size *= int(cards[f"NAXIS{axis}"])
    return abs(int(cards["BITPIX"])) // 8 * int(cards.get("GCOUNT", 1)) * (int(cards.get("PCOUNT", 0)) + size)


def _read_one(stream: BinaryIO, offset: int, name: str) -> HduHeader:
    stream.seek(offset)
    blocks: list[bytes] = []
    while True:
        block = stream.read(BLOCK)
        if len(block) < BLOCK:
            raise FormatterError(f"{name} is truncated: a FITS header at byte {offset} has no END card.")
        blocks.append(block)
        end = -1
        for start in range(0, BLOCK, _CARD):
            if block[start : start + _CARD] == _END:
                end = start
                break
        if end >= 0:
            break
    raw = b"".join(blocks)
    try:
        text = raw[: (len(blocks) - 1) * BLOCK + end].decode("ascii")
    except UnicodeDecodeError:
        raise FormatterError(f"{name} has a non-ASCII FITS header at byte {offset}.") from None
    try:
        size = _data_size(text)
    except (KeyError, ValueError, TypeError, FormatterError) as err:
        raise FormatterError(f"{name} has a malformed FITS header at byte {offset}: {err}") from None
    return HduHeader(text, offset, offset + len(blocks) * BLOCK, size)


def read_hdu_headers(stream: BinaryIO, count: int, name: str) -> list[HduHeader]:
    """Read the headers of the first ``count`` HDUs of a FITS stream, skipping their data.

    Only header blocks are read; data is skipped with ``seek``.

    Parameters
    ----------
    stream : `typing.BinaryIO`
        A seekable binary stream positioned anywhere (it is rewound).
    count : `int`
        The number of HDUs whose headers to read.
    name : `str`
        The file name, used in error messages.

    Returns
    -------
    headers : `list` [`HduHeader`]
        The first ``count`` headers, in file order.

    Raises
    ------
    FormatterError
        If the stream is not FITS, is truncated or has fewer than ``count`` HDUs.
    """
    stream.seek(0)
    if stream.read(9) != b"SIMPLE  =":
        raise FormatterError(f"{name} is not a FITS file (it does not start with a SIMPLE card).")
    end_of_file = stream.seek(0, 2)
    result: list[HduHeader] = []
    offset = 0
    for _ in range(count):
        if offset >= end_of_file:
            raise FormatterError(f"{name} has only {len(result)} HDUs; expected at least {count}.")
        hdu = _read_one(stream, offset, name)
        result.append(hdu)
        offset = hdu.next_offset
    return result


def read_image_hdu_headers(stream: BinaryIO, name: str) -> tuple[list[HduHeader], int]:
    """Read the headers up to the HDU holding a file's image: HDU 1 if the primary HDU has no data.

    Parameters
    ----------
    stream : `typing.BinaryIO`
        A seekable binary stream positioned anywhere (it is rewound).
    name : `str`
        The file name, used in error messages.

    Returns
    -------
    headers : `list` [`HduHeader`]
        The primary header, then HDU 1's if the primary HDU has ``NAXIS = 0``.
    number : `int`
        The 0-based index in ``headers`` (the HDU number) of the image's header: 0 or 1.

    Raises
    ------
    FormatterError
        As for `read_hdu_headers`.
    """
    headers = read_hdu_headers(stream, 1, name)
    if headers[0].get("NAXIS", 0) != 0:
        return headers, 0
    headers.append(read_hdu_headers(stream, 2, name)[1])
    return headers, 1


def append_header_records(fits: Any, hdu_number: int, records: Iterable[str]) -> None:
    """Append 80-character header cards, exactly as given, to an HDU of an open fitsio file.

    Parameters
    ----------
    fits
        A ``fitsio.FITS`` object opened for writing.
    hdu_number
        The 1-based HDU number (1 is the primary HDU), as CFITSIO counts.
    records
        Cards formatted by `format_cards` (80 characters each, ``CONTINUE`` cards included).

    Notes
    -----
    This calls fitsio's private ``FITS._FITS.write_record``; it is the only such
    call in Chamberlain.
    """
    write_record = fits._FITS.write_record
    for record in records:
        write_record(hdu_number, record)
