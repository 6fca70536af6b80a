"""`Image`: a floating-point pixel array placed in a parent pixel frame."""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from chamberlain.errors import ImageError
from chamberlain.image._pixels import PixelArray
from chamberlain.image.box import Box

__all__ = ["IMAGE_DTYPES", "Image"]

#: The pixel types an `Image` may hold.
IMAGE_DTYPES: tuple[np.dtype, ...] = (np.dtype(np.float32), np.dtype(np.float64))


def check_image_dtype(dtype: Any, what: str = "Image") -> np.dtype:
    """Return ``dtype`` as a numpy dtype if it is float32 or float64, else raise `ImageError`.

    Parameters
    ----------
    dtype : `~typing.Any`
        Anything `numpy.dtype` accepts.
    what : `str`, optional
        What the dtype is for, named in the error message.

    Returns
    -------
    dtype : `numpy.dtype`
        ``float32`` or ``float64``.

    Raises
    ------
    ImageError
        If ``dtype`` is not a numpy type, or is not float32 or float64.
    """
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ImageError(f"{what} dtype {dtype!r} is not a numpy type; use float32 or float64.") from None
    if dt not in IMAGE_DTYPES:
        raise ImageError(f"{what} dtype must be float32 or float64, got {dt}.")
    return dt


class Image(PixelArray):
    """A 2-D float32 or float64 image whose first pixel is at ``xy0``.

    Parameters
    ----------
    array
        The pixels, rows first (``array[y - y0, x - x0]``). Kept, not copied.
    xy0
        Parent-frame coordinate of ``array[0, 0]``.

    Raises
    ------
    ImageError
        If ``array`` is not a 2-D float32/float64 numpy array.
    """

    __slots__ = ()

    def __init__(self, array: np.ndarray, xy0: tuple[int, int] = (0, 0)) -> None:
        super().__init__(array, xy0)
        check_image_dtype(array.dtype)

    @classmethod
    def zeros(cls, bbox: Box, dtype: Any = np.float32) -> Image:
        """Make a zero-filled image covering ``bbox``.

        Parameters
        ----------
        bbox : `Box`
            The box to cover, in parent coordinates; its first pixel becomes `xy0`.
        dtype : `~typing.Any`, optional
            The pixel type, float32 (default) or float64.

        Returns
        -------
        image : `Image`
            A new image of zeros.

        Raises
        ------
        ImageError
            If ``bbox`` is empty or ``dtype`` is not float32/float64.
        """
        if bbox.is_empty:
            raise ImageError("Cannot make an image of an empty box.")
        return cls(np.zeros(bbox.shape, dtype=check_image_dtype(dtype)), bbox.xy0)

    def _with_array(self, array: np.ndarray, xy0: tuple[int, int]) -> Self:
        return type(self)(array, xy0)
