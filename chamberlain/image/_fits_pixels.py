"""Direct reads of uncompressed, unscaled FITS image HDUs: whole, or sections through a memory map.

A cutout through cfitsio reads every row of the section with its own seek and
read; here the file is mapped once and the section is copied (and byte
swapped to native order) by numpy, so only the pages holding the section are
touched. A whole HDU is read straight into the final array, a few MiB at a
time, each piece byte swapped in place while it is still in the CPU cache.

Only the plain case is handled: an image HDU with ``BITPIX`` of 8, 16, 32, 64,
-32 or -64, no ``BZERO``/``BSCALE`` scaling and no ``BLANK`` value; for anything
else `raw_dtype` returns None and callers read with fitsio. The result is what
fitsio returns: a new C-contiguous, native-byte-order array of the stored
type, bit for bit.

Datastore files never change once written (a put renames a new file into
place; the mapped one stays intact). A file truncated by another process while
its section is being copied would stop this process with SIGBUS rather than
raise; files ingested with ``transfer="direct"`` should not be rewritten in
place while they are read.
"""

from __future__ import annotations

import contextlib
import io
import mmap
from collections.abc import Sequence

import numpy as np

from chamberlain.errors import FormatterError
from chamberlain.image.fits_headers import HduHeader

__all__ = ["raw_dtype", "read_sections", "read_whole"]

#: Bytes read (then byte swapped while still in the CPU cache) at a time by `read_whole`.
CHUNK = 1 << 22

# FITS BITPIX -> big-endian numpy type (8-bit data is unsigned in FITS).
_BITPIX = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}


def raw_dtype(header: HduHeader, shape: tuple[int, int]) -> np.dtype | None:
    """Return the on-disk dtype of an HDU's pixels if they are ``shape`` (rows, columns) of plain values, else None."""
    try:
        if header.header_offset > 0 and header.get("XTENSION") != "IMAGE":
            return None
        if header.get("NAXIS") != 2 or (header.get("NAXIS2"), header.get("NAXIS1")) != shape:
            return None
        if header.get("BZERO", 0) != 0 or header.get("BSCALE", 1) != 1 or "BLANK" in header:
            return None
        code = _BITPIX.get(header.get("BITPIX"))
    except (FormatterError, TypeError):
        return None
    if code is None:
        return None
    dtype = np.dtype(code)
    if header.data_size != dtype.itemsize * shape[0] * shape[1]:
        return None
    return dtype


def _plain(stream: io.FileIO, headers: Sequence[HduHeader], shape: tuple[int, int]) -> list[np.dtype] | None:
    dtypes = [raw_dtype(header, shape) for header in headers]
    if any(dtype is None for dtype in dtypes):
        return None
    end = stream.seek(0, 2)
    if any(header.data_offset + header.data_size > end for header in headers):
        return None
    return [dtype for dtype in dtypes if dtype is not None]


def read_whole(
    stream: io.FileIO, headers: Sequence[HduHeader], shape: tuple[int, int]
) -> list[np.ndarray] | None:
    """Return the pixels of each HDU in ``headers`` (all of ``shape``), or None if one is not plain.

    ``stream`` is the open (unbuffered) file the headers were read from. None
    is also returned when the file is shorter than the headers say.
    """
    dtypes = _plain(stream, headers, shape)
    if dtypes is None:
        return None
    out = []
    for header, dtype in zip(headers, dtypes, strict=True):
        array = np.empty(shape, dtype.newbyteorder("="))
        flat = array.reshape(-1)
        raw = flat.data.cast("B")
        step = max(CHUNK // dtype.itemsize, 1)
        stream.seek(header.data_offset)
        for start in range(0, flat.size, step):
            piece = raw[start * dtype.itemsize : (start + step) * dtype.itemsize]
            done = 0
            while done < len(piece):
                count = stream.readinto(piece[done:])
                if not count:  # the file shrank since its size was checked
                    return None
                done += count
            if not dtype.isnative:
                flat[start : start + step].byteswap(inplace=True)
        out.append(array)
    return out


def _copy_section(
    buffer: mmap.mmap, offset: int, dtype: np.dtype, shape: tuple[int, int], slices: tuple[slice, slice]
) -> np.ndarray:
    pixels = np.frombuffer(buffer, dtype, shape[0] * shape[1], offset).reshape(shape)
    return pixels[slices].astype(dtype.newbyteorder("="))


def read_sections(
    stream: io.FileIO,
    headers: Sequence[HduHeader],
    shape: tuple[int, int],
    slices: tuple[slice, slice],
) -> list[np.ndarray] | None:
    """Return the section ``slices`` of each HDU in ``headers`` (all of ``shape``), or None if one is not plain.

    ``stream`` is the open file the headers were read from. None is also
    returned when the file is shorter than the headers say (fitsio then
    reports the problem).
    """
    dtypes = _plain(stream, headers, shape)
    if dtypes is None:
        return None
    try:
        buffer = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # a file system without memory maps
        return None
    try:
        return [
            _copy_section(buffer, header.data_offset, dtype, shape, slices)
            for header, dtype in zip(headers, dtypes, strict=True)
        ]
    finally:
        # A view kept alive by a traceback keeps the map open; the GC closes it later.
        with contextlib.suppress(BufferError):
            buffer.close()
