"""`Mask`: 32-bit pixel flags with named bit planes.

Each plane is one bit of a ``uint32`` pixel. The first nine bits have the
Rubin (afw) default meanings (`STANDARD_MASK_PLANES`); further planes are
allocated on demand with `Mask.add_plane`, so readers must always take bit
numbers from the file's ``MP_<NAME>`` header keys, never assume them.

A sub-mask made by indexing with a `Box` shares both the pixels and the plane
dictionary with its parent, so a plane added to one is known to the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Self

import numpy as np

from chamberlain.errors import ImageError, format_choices
from chamberlain.image._pixels import PixelArray
from chamberlain.image.box import Box

__all__ = ["MASK_DTYPE", "STANDARD_MASK_PLANES", "Mask"]

#: The in-memory pixel type of a mask.
MASK_DTYPE = np.dtype(np.uint32)

#: The default planes and their bits (afw's defaults).
STANDARD_MASK_PLANES: Mapping[str, int] = MappingProxyType(
    {
        "BAD": 0,
        "SAT": 1,
        "INTRP": 2,
        "CR": 3,
        "EDGE": 4,
        "DETECTED": 5,
        "DETECTED_NEGATIVE": 6,
        "SUSPECT": 7,
        "NO_DATA": 8,
    }
)

_MAX_PLANES = 32


def _check_planes(planes: Mapping[str, int]) -> dict[str, int]:
    result: dict[str, int] = {}
    seen: dict[int, str] = {}
    for name, bit in planes.items():
        if not isinstance(name, str) or not name:
            raise ImageError(f"Mask plane names must be non-empty strings, got {name!r}.")
        if isinstance(bit, bool) or not isinstance(bit, int | np.integer) or not 0 <= bit < _MAX_PLANES:
            raise ImageError(f"Mask plane {name!r} has bit {bit!r}; bits must be integers in 0..31.")
        if int(bit) in seen:
            raise ImageError(f"Mask planes {seen[int(bit)]!r} and {name!r} both use bit {bit}.")
        seen[int(bit)] = name
        result[name] = int(bit)
    return result


class Mask(PixelArray):
    """A 2-D ``uint32`` array of bit flags with a name -> bit plane dictionary.

    Parameters
    ----------
    array
        The flags, rows first. A ``uint32`` array is kept as it is; an
        ``int32`` array (the FITS on-disk type) is viewed as ``uint32``
        without copying. Other types raise.
    xy0
        Parent-frame coordinate of ``array[0, 0]``.
    planes
        Plane name -> bit. Defaults to a copy of `STANDARD_MASK_PLANES`.

    Raises
    ------
    ImageError
        If the array is not 2-D ``uint32``/``int32``, or the planes reuse a
        bit or use a bit outside 0..31.
    """

    __slots__ = ("_planes",)

    def __init__(
        self,
        array: np.ndarray,
        xy0: tuple[int, int] = (0, 0),
        planes: Mapping[str, int] | None = None,
    ) -> None:
        if isinstance(array, np.ndarray) and array.dtype == np.int32:
            array = array.view(MASK_DTYPE)
        super().__init__(array, xy0)
        if array.dtype != MASK_DTYPE:
            raise ImageError(f"Mask dtype must be uint32 (or int32, viewed as uint32), got {array.dtype}.")
        self._planes: dict[str, int] = _check_planes(STANDARD_MASK_PLANES if planes is None else planes)

    @classmethod
    def zeros(cls, bbox: Box, planes: Mapping[str, int] | None = None) -> Mask:
        """Make a mask covering ``bbox`` with no bits set.

        Parameters
        ----------
        bbox : `Box`
            The box to cover, in parent coordinates.
        planes : `~collections.abc.Mapping` [`str`, `int`], optional
            Plane name -> bit; defaults to a copy of `STANDARD_MASK_PLANES`.

        Returns
        -------
        mask : `Mask`
            A new ``uint32`` mask of zeros.

        Raises
        ------
        ImageError
            If ``bbox`` is empty or the planes reuse a bit or use one outside 0..31.
        """
        if bbox.is_empty:
            raise ImageError("Cannot make a mask of an empty box.")
        return cls(np.zeros(bbox.shape, dtype=MASK_DTYPE), bbox.xy0, planes)

    def _with_array(self, array: np.ndarray, xy0: tuple[int, int]) -> Self:
        result = type(self)(array, xy0, planes={})
        result._planes = self._planes  # shared with the parent, like afw.
        return result

    def copy(self) -> Self:
        """Return a deep copy: new pixel memory and its own plane dictionary.

        Returns
        -------
        mask : `Mask`
            An independent copy (planes added to it do not affect this mask).
        """
        return type(self)(self._array.copy(), self._xy0, planes=self._planes)

    # --- planes -------------------------------------------------------------------------

    @property
    def planes(self) -> Mapping[str, int]:
        """Read-only view of the plane name -> bit dictionary."""
        return MappingProxyType(self._planes)

    def add_plane(self, name: str) -> int:
        """Return the bit of plane ``name``, allocating the lowest free bit if it is new.

        Parameters
        ----------
        name : `str`
            The plane name (non-empty).

        Returns
        -------
        bit : `int`
            The plane's bit number, 0..31.

        Raises
        ------
        ImageError
            If the name is not a non-empty string, or all 32 bits are in use.
        """
        if name in self._planes:
            return self._planes[name]
        if not isinstance(name, str) or not name:
            raise ImageError(f"Mask plane names must be non-empty strings, got {name!r}.")
        used = set(self._planes.values())
        for bit in range(_MAX_PLANES):
            if bit not in used:
                self._planes[name] = bit
                return bit
        raise ImageError(f"Cannot add mask plane {name!r}: all {_MAX_PLANES} bits are in use.")

    def get_plane_bit(self, name: str) -> int:
        """Return the bit number of plane ``name``.

        Parameters
        ----------
        name : `str`
            A known plane name.

        Returns
        -------
        bit : `int`
            The plane's bit number, 0..31.

        Raises
        ------
        ImageError
            If the plane is unknown; the message lists the known planes.
        """
        try:
            return self._planes[name]
        except KeyError:
            raise ImageError(
                f"Unknown mask plane {name!r}; known planes are {format_choices(self._planes, limit=40)}."
            ) from None

    def get_plane_bitmask(self, names: str | Iterable[str]) -> int:
        """Return the OR of the bits of one plane name or several.

        Parameters
        ----------
        names : `str` or `~collections.abc.Iterable` [`str`]
            One plane name or several.

        Returns
        -------
        bitmask : `int`
            The bitwise OR of ``1 << bit`` over the planes.

        Raises
        ------
        ImageError
            If any name is unknown.
        """
        if isinstance(names, str):
            names = [names]
        value = 0
        for name in names:
            value |= 1 << self.get_plane_bit(name)
        return value

    def get_plane(self, names: str | Iterable[str]) -> np.ndarray:
        """Return a boolean array: true where any of the named planes is set.

        Parameters
        ----------
        names : `str` or `~collections.abc.Iterable` [`str`]
            One plane name or several.

        Returns
        -------
        selected : `numpy.ndarray`
            A boolean array of the mask's shape.

        Raises
        ------
        ImageError
            If any name is unknown.
        """
        return (self._array & np.uint32(self.get_plane_bitmask(names))) != 0

    def set_plane(self, name: str, where: np.ndarray | None = None) -> None:
        """Set plane ``name`` (added if new) on the pixels where ``where`` is true, or everywhere.

        Parameters
        ----------
        name : `str`
            The plane name.
        where : `numpy.ndarray`, optional
            A boolean array of the mask's shape; None sets every pixel.

        Raises
        ------
        ImageError
            If ``where`` has another shape, or the plane is new and no bit is free.
        """
        bit = np.uint32(1 << self.add_plane(name))
        if where is None:
            self._array |= bit
        else:
            where = np.asarray(where, dtype=bool)
            if where.shape != self._array.shape:
                raise ImageError(
                    f"Selection shape {where.shape} differs from mask shape {self._array.shape}."
                )
            self._array[where] |= bit

    def clear_plane(self, names: str | Iterable[str]) -> None:
        """Clear the named planes on every pixel.

        Parameters
        ----------
        names : `str` or `~collections.abc.Iterable` [`str`]
            One plane name or several.

        Raises
        ------
        ImageError
            If any name is unknown.
        """
        self._array &= np.uint32(~self.get_plane_bitmask(names) & 0xFFFFFFFF)

    def interpret(self, value: int) -> list[str]:
        """Return the names of the planes set in one pixel value, in bit order.

        Parameters
        ----------
        value : `int`
            A mask pixel value.

        Returns
        -------
        names : `list` [`str`]
            The known planes whose bit is set in ``value``, lowest bit first
            (bits with no plane are ignored).
        """
        return [name for name, bit in sorted(self._planes.items(), key=lambda kv: kv[1]) if value >> bit & 1]
