"""`MaskedImage`: an image, its mask and its variance on one pixel grid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from chamberlain.errors import ImageError
from chamberlain.image.box import Box
from chamberlain.image.image import Image, check_image_dtype
from chamberlain.image.mask import Mask

__all__ = ["MaskedImage"]


class MaskedImage:
    """An `Image`, a `Mask` and a variance `Image` sharing one bounding box.

    Parameters
    ----------
    image
        The science pixels.
    mask
        The flags; defaults to an all-clear mask with the standard planes.
    variance
        Per-pixel variance, float32 or float64; defaults to zeros of the
        image's dtype.

    Raises
    ------
    ImageError
        If the parts are of the wrong type or do not share shape and xy0.
    """

    __slots__ = ("_image", "_mask", "_variance")

    def __init__(self, image: Image, mask: Mask | None = None, variance: Image | None = None) -> None:
        if not isinstance(image, Image):
            raise ImageError(f"MaskedImage image must be an Image, got {type(image).__name__}.")
        if mask is None:
            mask = Mask.zeros(image.bbox)
        elif not isinstance(mask, Mask):
            raise ImageError(f"MaskedImage mask must be a Mask, got {type(mask).__name__}.")
        if variance is None:
            variance = Image(np.zeros(image.array.shape, dtype=image.dtype), image.xy0)
        elif not isinstance(variance, Image):
            raise ImageError(f"MaskedImage variance must be an Image, got {type(variance).__name__}.")
        for what, part in (("mask", mask), ("variance", variance)):
            if part.array.shape != image.array.shape or part.xy0 != image.xy0:
                raise ImageError(
                    f"MaskedImage {what} covers {part.bbox} (shape {part.array.shape}) but the image "
                    f"covers {image.bbox} (shape {image.array.shape}); they must match."
                )
        self._image = image
        self._mask = mask
        self._variance = variance

    @classmethod
    def zeros(
        cls, bbox: Box, dtype: Any = np.float32, planes: Mapping[str, int] | None = None
    ) -> MaskedImage:
        """Make a zero-filled masked image covering ``bbox``.

        Parameters
        ----------
        bbox : `Box`
            The box to cover, in parent coordinates.
        dtype : `~typing.Any`, optional
            The image and variance pixel type, float32 (default) or float64.
        planes : `~collections.abc.Mapping` [`str`, `int`], optional
            Mask plane name -> bit; defaults to `STANDARD_MASK_PLANES`.

        Returns
        -------
        masked_image : `MaskedImage`
            Image, mask and variance of zeros.

        Raises
        ------
        ImageError
            If ``bbox`` is empty, ``dtype`` is not float32/float64 or the planes
            are invalid.
        """
        dt = check_image_dtype(dtype, "MaskedImage")
        return cls(Image.zeros(bbox, dt), Mask.zeros(bbox, planes), Image.zeros(bbox, dt))

    @classmethod
    def from_arrays(
        cls,
        image: np.ndarray,
        mask: np.ndarray | None = None,
        variance: np.ndarray | None = None,
        xy0: tuple[int, int] = (0, 0),
        planes: Mapping[str, int] | None = None,
    ) -> MaskedImage:
        """Wrap numpy arrays (kept, not copied) as a masked image with first pixel ``xy0``.

        Parameters
        ----------
        image : `numpy.ndarray`
            The science pixels, 2-D float32/float64.
        mask : `numpy.ndarray`, optional
            The flags, ``uint32`` (or ``int32``) of the same shape; zeros if None.
        variance : `numpy.ndarray`, optional
            The variance, float of the same shape; zeros if None.
        xy0 : `tuple` [`int`, `int`], optional
            Parent-frame coordinate of the first pixel of every array.
        planes : `~collections.abc.Mapping` [`str`, `int`], optional
            Mask plane name -> bit; defaults to `STANDARD_MASK_PLANES`.

        Returns
        -------
        masked_image : `MaskedImage`
            A masked image sharing memory with the arrays.

        Raises
        ------
        ImageError
            If an array has the wrong dtype, is not 2-D, or the shapes differ.
        """
        return cls(
            Image(image, xy0),
            None if mask is None else Mask(mask, xy0, planes),
            None if variance is None else Image(variance, xy0),
        )

    @property
    def image(self) -> Image:
        """The science pixels."""
        return self._image

    @property
    def mask(self) -> Mask:
        """The flags."""
        return self._mask

    @property
    def variance(self) -> Image:
        """The per-pixel variance."""
        return self._variance

    @property
    def bbox(self) -> Box:
        """The box covered, in parent coordinates."""
        return self._image.bbox

    @property
    def xy0(self) -> tuple[int, int]:
        """Parent-frame coordinate of the first pixel."""
        return self._image.xy0

    @property
    def width(self) -> int:
        """Number of columns."""
        return self._image.width

    @property
    def height(self) -> int:
        """Number of rows."""
        return self._image.height

    @property
    def dtype(self) -> np.dtype:
        """The image pixel type."""
        return self._image.dtype

    def subset(self, bbox: Box) -> MaskedImage:
        """Return a view of ``bbox`` (parent coordinates) sharing memory with this masked image.

        Parameters
        ----------
        bbox : `Box`
            The pixels wanted, in parent coordinates (also ``masked_image[bbox]``).

        Returns
        -------
        view : `MaskedImage`
            Image, mask and variance views over ``bbox``.

        Raises
        ------
        ImageError
            If ``bbox`` is empty or not inside `bbox`.
        """
        return MaskedImage(self._image.subset(bbox), self._mask.subset(bbox), self._variance.subset(bbox))

    def __getitem__(self, bbox: Box) -> MaskedImage:
        return self.subset(bbox)

    def copy(self) -> MaskedImage:
        """Return a deep copy.

        Returns
        -------
        masked_image : `MaskedImage`
            New pixel memory for image, mask and variance; the mask gets its own
            plane dictionary.
        """
        return MaskedImage(self._image.copy(), self._mask.copy(), self._variance.copy())

    def __repr__(self) -> str:
        return f"MaskedImage({self.bbox}, dtype={self.dtype})"
