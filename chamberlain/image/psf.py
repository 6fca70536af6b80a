"""Point-spread-function models.

`Psf` is the interface the tasks use: a kernel image (centred on pixel
``(0, 0)``, summing to one), an image of a star at a position, and second
moments. `GaussianPsf` is the one concrete model for now.

PSF classes are plug-ins looked up by `Psf.type_name`: each subclass says how
it is stored as FITS header cards (`Psf.to_header_cards`) and rebuilt from
them (`Psf.from_header`), which is how the Exposure FITS layout stores PSFs.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from chamberlain.errors import FormatterError, ImageError, format_choices
from chamberlain.image.image import Image

__all__ = ["GaussianPsf", "Psf", "PsfShape", "get_psf_type"]

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

_PSF_TYPES: dict[str, type[Psf]] = {}


@dataclasses.dataclass(frozen=True, slots=True)
class PsfShape:
    """Second moments of a PSF in pixels squared."""

    ixx: float
    iyy: float
    ixy: float

    @property
    def determinant_radius(self) -> float:
        """``(ixx * iyy - ixy**2) ** 0.25``: the sigma of a round Gaussian of the same area."""
        return float((self.ixx * self.iyy - self.ixy * self.ixy) ** 0.25)

    @property
    def trace_radius(self) -> float:
        """``sqrt((ixx + iyy) / 2)``."""
        return math.sqrt(0.5 * (self.ixx + self.iyy))


class Psf(ABC):
    """A point-spread function that can be evaluated anywhere on an image."""

    #: Name stored in the ``PSFTYPE`` header key; unique per subclass.
    type_name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type_name")
        if name is not None:
            _PSF_TYPES[name] = cls

    @abstractmethod
    def compute_kernel_image(self, position: tuple[float, float] | None = None) -> Image:
        """Return the PSF at ``position`` as a float64 image centred on (0, 0).

        The pixels sum to one and ``xy0`` is ``(-width // 2, -height // 2)``.

        Parameters
        ----------
        position : `tuple` [`float`, `float`], optional
            Parent pixel coordinates ``(x, y)`` to evaluate at; default
            `average_position`.

        Returns
        -------
        kernel : `Image`
            The normalised kernel image.
        """

    @abstractmethod
    def compute_image(self, position: tuple[float, float]) -> Image:
        """Return an image of a unit-flux star centred exactly at ``position`` (parent pixel coordinates).

        Parameters
        ----------
        position : `tuple` [`float`, `float`]
            Parent pixel coordinates ``(x, y)`` of the star.

        Returns
        -------
        image : `Image`
            A float64 image summing to one, placed around the pixel nearest to
            ``position`` (sub-pixel offsets are in the pixel values).
        """

    @abstractmethod
    def compute_shape(self, position: tuple[float, float] | None = None) -> PsfShape:
        """Return the second moments of the PSF at ``position``.

        Parameters
        ----------
        position : `tuple` [`float`, `float`], optional
            Parent pixel coordinates ``(x, y)``; default `average_position`.

        Returns
        -------
        shape : `PsfShape`
            The moments, in pixels squared.
        """

    @property
    def average_position(self) -> tuple[float, float]:
        """A representative position for a spatially varying PSF (the origin by default)."""
        return (0.0, 0.0)

    @abstractmethod
    def to_header_cards(self) -> list[tuple[str, Any, str]]:
        """Describe the PSF as FITS header cards, not including ``PSFTYPE``.

        Returns
        -------
        cards : `list` [`tuple` [`str`, `~typing.Any`, `str`]]
            ``(keyword, value, comment)`` triples; the keywords are `header_keys`.
        """

    @classmethod
    @abstractmethod
    def header_keys(cls) -> tuple[str, ...]:
        """Return the header keywords `to_header_cards` writes.

        Returns
        -------
        keys : `tuple` [`str`, ...]
            The keywords, reserved in an exposure's primary header.
        """

    @classmethod
    @abstractmethod
    def from_header(cls, header: Mapping[str, Any]) -> Psf:
        """Rebuild the PSF from the header cards `to_header_cards` wrote.

        Parameters
        ----------
        header : `~collections.abc.Mapping` [`str`, `~typing.Any`]
            Header keyword -> value.

        Returns
        -------
        psf : `Psf`
            The PSF the cards describe.

        Raises
        ------
        FormatterError
            If a keyword the PSF needs is missing.
        """


def get_psf_type(name: str) -> type[Psf]:
    """Look up a PSF class by its `Psf.type_name`.

    Parameters
    ----------
    name : `str`
        The name stored in the ``PSFTYPE`` header key.

    Returns
    -------
    psf_class : `type` [`Psf`]
        The registered subclass.

    Raises
    ------
    FormatterError
        If no class has that name; the message lists the known names.
    """
    try:
        return _PSF_TYPES[name]
    except KeyError:
        raise FormatterError(
            f"Unknown PSF type {name!r}; known types are {format_choices(_PSF_TYPES)}."
        ) from None


def _gaussian(width: int, height: int, sigma: float, dx: float, dy: float) -> np.ndarray:
    x = np.arange(width, dtype=np.float64) - (width // 2) - dx
    y = np.arange(height, dtype=np.float64) - (height // 2) - dy
    gx = np.exp(-0.5 * (x / sigma) ** 2)
    gy = np.exp(-0.5 * (y / sigma) ** 2)
    array = np.outer(gy, gx)
    array /= array.sum()
    return array


@dataclasses.dataclass(frozen=True, slots=True)
class GaussianPsf(Psf):
    """A round Gaussian PSF, the same everywhere.

    Parameters
    ----------
    sigma
        Gaussian sigma in pixels; positive.
    width, height
        Size of kernel images, odd and positive. Default: ``2 * ceil(5 sigma) + 1``.

    Raises
    ------
    ImageError
        If sigma is not positive and finite or a size is not a positive odd integer.
    """

    type_name: ClassVar[str] = "GaussianPsf"

    sigma: float
    width: int = 0
    height: int = 0

    def __post_init__(self) -> None:
        sigma = self.sigma
        if (
            isinstance(sigma, bool)
            or not isinstance(sigma, int | float)
            or not math.isfinite(sigma)
            or sigma <= 0
        ):
            raise ImageError(f"GaussianPsf sigma must be a positive finite number, got {sigma!r}.")
        object.__setattr__(self, "sigma", float(sigma))
        default = 2 * math.ceil(5.0 * sigma) + 1
        for what in ("width", "height"):
            value = getattr(self, what)
            if value == 0:
                value = default
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value % 2 == 0:
                raise ImageError(f"GaussianPsf {what} must be a positive odd integer, got {value!r}.")
            object.__setattr__(self, what, value)

    @property
    def fwhm(self) -> float:
        """Full width at half maximum in pixels."""
        return self.sigma * _FWHM_PER_SIGMA

    def compute_kernel_image(self, position: tuple[float, float] | None = None) -> Image:
        """Return the Gaussian as a float64 kernel image centred on (0, 0).

        Parameters
        ----------
        position : `tuple` [`float`, `float`], optional
            Ignored: the PSF is the same everywhere.

        Returns
        -------
        kernel : `Image`
            A ``width`` x ``height`` image summing to one, ``xy0`` at
            ``(-width // 2, -height // 2)``.
        """
        array = _gaussian(self.width, self.height, self.sigma, 0.0, 0.0)
        return Image(array, (-(self.width // 2), -(self.height // 2)))

    def compute_image(self, position: tuple[float, float]) -> Image:
        """Return an image of a unit-flux Gaussian star centred exactly at ``position``.

        Parameters
        ----------
        position : `tuple` [`float`, `float`]
            Parent pixel coordinates ``(x, y)`` of the star.

        Returns
        -------
        image : `Image`
            A ``width`` x ``height`` float64 image summing to one, centred on
            the pixel nearest to ``position``.
        """
        x, y = float(position[0]), float(position[1])
        cx, cy = math.floor(x + 0.5), math.floor(y + 0.5)
        array = _gaussian(self.width, self.height, self.sigma, x - cx, y - cy)
        return Image(array, (cx - self.width // 2, cy - self.height // 2))

    def compute_shape(self, position: tuple[float, float] | None = None) -> PsfShape:
        """Return the second moments of the Gaussian.

        Parameters
        ----------
        position : `tuple` [`float`, `float`], optional
            Ignored: the PSF is the same everywhere.

        Returns
        -------
        shape : `PsfShape`
            ``ixx = iyy = sigma**2`` and ``ixy = 0``, in pixels squared.
        """
        variance = self.sigma * self.sigma
        return PsfShape(variance, variance, 0.0)

    def to_header_cards(self) -> list[tuple[str, Any, str]]:
        """Describe the PSF as the header cards PSFSIGMA, PSFWIDTH and PSFHGHT.

        Returns
        -------
        cards : `list` [`tuple` [`str`, `~typing.Any`, `str`]]
            ``(keyword, value, comment)`` for sigma, kernel width and height.
        """
        return [
            ("PSFSIGMA", self.sigma, "Gaussian PSF sigma (pixels)"),
            ("PSFWIDTH", self.width, "PSF kernel image width (pixels)"),
            ("PSFHGHT", self.height, "PSF kernel image height (pixels)"),
        ]

    @classmethod
    def header_keys(cls) -> tuple[str, ...]:
        """Return the header keywords of a Gaussian PSF: sigma, kernel width and height.

        Returns
        -------
        keys : `tuple` [`str`, ...]
            ``("PSFSIGMA", "PSFWIDTH", "PSFHGHT")``.
        """
        return ("PSFSIGMA", "PSFWIDTH", "PSFHGHT")

    @classmethod
    def from_header(cls, header: Mapping[str, Any]) -> GaussianPsf:
        """Rebuild a Gaussian PSF from its header keywords.

        Parameters
        ----------
        header : `~collections.abc.Mapping` [`str`, `~typing.Any`]
            Header keyword -> value, with PSFSIGMA, PSFWIDTH and PSFHGHT.

        Returns
        -------
        psf : `GaussianPsf`
            The PSF.

        Raises
        ------
        FormatterError
            If one of the keywords is missing.
        ImageError
            If the values are not a valid sigma and odd kernel size.
        """
        try:
            return cls(float(header["PSFSIGMA"]), int(header["PSFWIDTH"]), int(header["PSFHGHT"]))
        except KeyError as err:
            raise FormatterError(f"GaussianPsf header lacks the {err.args[0]!r} key.") from None
