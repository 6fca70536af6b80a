"""`PhotoCalib`: the photometric calibration from instrumental counts to nanojansky."""

from __future__ import annotations

import dataclasses
import math
from typing import overload

import numpy as np

from chamberlain.errors import ImageError
from chamberlain.image.image import Image
from chamberlain.image.masked_image import MaskedImage

__all__ = ["AB_ZERO_POINT_NJY", "PhotoCalib"]

#: AB magnitude of 1 nJy: ``mag = -2.5 log10(flux / nJy) + 31.4``.
AB_ZERO_POINT_NJY = 31.4


@dataclasses.dataclass(frozen=True, slots=True)
class PhotoCalib:
    """A spatially constant photometric calibration.

    Parameters
    ----------
    calibration_mean
        Nanojansky per instrumental count; positive and finite.
    calibration_err
        Uncertainty of ``calibration_mean``; non-negative and finite.

    Raises
    ------
    ImageError
        If a value is out of range.
    """

    calibration_mean: float
    calibration_err: float = 0.0

    def __post_init__(self) -> None:
        mean, err = self.calibration_mean, self.calibration_err
        if (
            isinstance(mean, bool)
            or not isinstance(mean, int | float)
            or not math.isfinite(mean)
            or mean <= 0
        ):
            raise ImageError(f"PhotoCalib calibration_mean must be a positive finite number, got {mean!r}.")
        if isinstance(err, bool) or not isinstance(err, int | float) or not math.isfinite(err) or err < 0:
            raise ImageError(f"PhotoCalib calibration_err must be a non-negative finite number, got {err!r}.")
        object.__setattr__(self, "calibration_mean", float(mean))
        object.__setattr__(self, "calibration_err", float(err))

    @classmethod
    def from_zero_point(cls, zero_point: float, zero_point_err: float = 0.0) -> PhotoCalib:
        """Make a calibration from an AB zero point (the magnitude of one count).

        Parameters
        ----------
        zero_point : `float`
            The AB magnitude of one instrumental count.
        zero_point_err : `float`, optional
            Its uncertainty, in magnitudes.

        Returns
        -------
        calib : `PhotoCalib`
            The calibration, nanojansky per count, with the uncertainty
            propagated to `calibration_err`.

        Raises
        ------
        ImageError
            If the resulting calibration is not positive and finite.
        """
        mean = 10.0 ** ((AB_ZERO_POINT_NJY - zero_point) / 2.5)
        return cls(mean, mean * math.log(10.0) / 2.5 * zero_point_err)

    @property
    def zero_point(self) -> float:
        """The AB magnitude of one instrumental count."""
        return AB_ZERO_POINT_NJY - 2.5 * math.log10(self.calibration_mean)

    @overload
    def instflux_to_nanojansky(self, instflux: float) -> float: ...

    @overload
    def instflux_to_nanojansky(self, instflux: np.ndarray) -> np.ndarray: ...

    def instflux_to_nanojansky(self, instflux: float | np.ndarray) -> float | np.ndarray:
        """Convert instrumental flux (counts) to nanojansky.

        Parameters
        ----------
        instflux : `float` or `numpy.ndarray`
            Instrumental flux, in counts.

        Returns
        -------
        flux : `float` or `numpy.ndarray`
            The flux in nanojansky, of the same shape.
        """
        return instflux * self.calibration_mean

    def instflux_err_to_nanojansky(
        self, instflux: float | np.ndarray, instflux_err: float | np.ndarray
    ) -> float | np.ndarray:
        """Return the nanojansky uncertainty of a flux, including the calibration's own uncertainty.

        Parameters
        ----------
        instflux : `float` or `numpy.ndarray`
            Instrumental flux, in counts.
        instflux_err : `float` or `numpy.ndarray`
            Its uncertainty, in counts.

        Returns
        -------
        flux_err : `float` or `numpy.ndarray`
            ``hypot(instflux_err * calibration_mean, instflux * calibration_err)``,
            in nanojansky.
        """
        return np.hypot(instflux_err * self.calibration_mean, instflux * self.calibration_err)

    def instflux_to_magnitude(self, instflux: float | np.ndarray) -> float | np.ndarray:
        """Convert instrumental flux to AB magnitude.

        Parameters
        ----------
        instflux : `float` or `numpy.ndarray`
            Instrumental flux, in counts (non-positive values give NaN or inf).

        Returns
        -------
        magnitude : `float` or `numpy.ndarray`
            The AB magnitude, of the same shape.
        """
        return -2.5 * np.log10(instflux * self.calibration_mean) + AB_ZERO_POINT_NJY

    def calibrate_image(
        self, masked_image: MaskedImage, include_scale_uncertainty: bool = False
    ) -> MaskedImage:
        """Return a new masked image in nanojansky (the input is not changed).

        The variance scales by ``calibration_mean**2``; with
        ``include_scale_uncertainty`` it also gains ``(image * calibration_err)**2``.

        Parameters
        ----------
        masked_image : `MaskedImage`
            The image in counts.
        include_scale_uncertainty : `bool`, optional
            Whether to add the calibration's own uncertainty to the variance.

        Returns
        -------
        calibrated : `MaskedImage`
            New image and variance arrays in nanojansky (and nJy squared), with
            a copy of the mask.
        """
        mean = masked_image.dtype.type(self.calibration_mean)
        image = masked_image.image.array * mean
        variance = masked_image.variance.array * (mean * mean)
        if include_scale_uncertainty:
            variance += (masked_image.image.array * masked_image.dtype.type(self.calibration_err)) ** 2
        return MaskedImage(
            Image(image, masked_image.xy0), masked_image.mask.copy(), Image(variance, masked_image.xy0)
        )
