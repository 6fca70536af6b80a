"""The shared base of `Image` and `Mask`: a 2-D numpy array placed in a parent pixel frame."""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from chamberlain.errors import ImageError
from chamberlain.image.box import Box

__all__ = ["PixelArray"]


def _check_xy0(xy0: Any) -> tuple[int, int]:
    try:
        x0, y0 = xy0
        if isinstance(x0, bool) or isinstance(y0, bool) or int(x0) != x0 or int(y0) != y0:
            raise TypeError
        return int(x0), int(y0)
    except (TypeError, ValueError):
        raise ImageError(f"xy0 must be a pair of integers, got {xy0!r}.") from None


class PixelArray:
    """A 2-D numpy array whose first pixel sits at ``xy0`` in a parent frame.

    Subclasses validate the dtype. Indexing with a `Box` (in parent
    coordinates) returns a view that shares memory with this object.
    """

    __slots__ = ("_array", "_xy0")

    _array: np.ndarray
    _xy0: tuple[int, int]

    def __init__(self, array: np.ndarray, xy0: tuple[int, int] = (0, 0)) -> None:
        if not isinstance(array, np.ndarray):
            raise ImageError(f"{type(self).__name__} needs a numpy array, got {type(array).__name__}.")
        if array.ndim != 2:
            raise ImageError(f"{type(self).__name__} array must be 2-D, got shape {array.shape}.")
        self._array = array
        self._xy0 = _check_xy0(xy0)

    @property
    def array(self) -> np.ndarray:
        """The pixels, indexed ``[y - y0, x - x0]`` (rows first); a live view, not a copy."""
        return self._array

    @property
    def xy0(self) -> tuple[int, int]:
        """Parent-frame coordinate of the first pixel."""
        return self._xy0

    @property
    def bbox(self) -> Box:
        """The box this array covers, in parent coordinates."""
        return Box.from_shape(self._array.shape, self._xy0)

    @property
    def width(self) -> int:
        """Number of columns."""
        return int(self._array.shape[1])

    @property
    def height(self) -> int:
        """Number of rows."""
        return int(self._array.shape[0])

    @property
    def dtype(self) -> np.dtype:
        """The pixel type."""
        return self._array.dtype

    def _sub_array(self, bbox: Box) -> np.ndarray:
        if not isinstance(bbox, Box):
            raise ImageError(
                f"{type(self).__name__} can only be indexed by a Box, got {type(bbox).__name__} {bbox!r}."
            )
        own = self.bbox
        if bbox.is_empty or not own.contains(bbox):
            raise ImageError(f"{bbox} is not inside the {type(self).__name__.lower()}'s bounding box {own}.")
        return self._array[bbox.slices(self._xy0)]

    def _with_array(self, array: np.ndarray, xy0: tuple[int, int]) -> Self:
        raise NotImplementedError  # pragma: no cover - implemented by subclasses.

    def subset(self, bbox: Box) -> Self:
        """Return a view of the pixels in ``bbox`` (parent coordinates), sharing memory with this object.

        Parameters
        ----------
        bbox : `Box`
            The pixels wanted, in parent coordinates; also available as
            ``pixels[bbox]``.

        Returns
        -------
        view : same type as ``self``
            An object of this type over ``bbox``; writing to it writes here.

        Raises
        ------
        ImageError
            If ``bbox`` is not a `Box`, is empty or is not inside `bbox`.
        """
        return self._with_array(self._sub_array(bbox), bbox.xy0)

    def __getitem__(self, bbox: Box) -> Self:
        return self.subset(bbox)

    def copy(self) -> Self:
        """Return a deep copy (new pixel memory, same xy0).

        Returns
        -------
        copy : same type as ``self``
            An independent copy of the pixels.
        """
        return self._with_array(self._array.copy(), self._xy0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.bbox}, dtype={self._array.dtype})"
