"""`Exposure`: a masked image plus everything needed to interpret it.

Besides the pixels an exposure carries a WCS (an astropy `~astropy.wcs.WCS`),
a `PhotoCalib`, a `Psf`, a `VisitInfo`, a `FilterLabel` and a metadata
dictionary of FITS-header-like cards; each may be `None`.

WCS convention (Rubin's): the WCS maps *parent* pixel coordinates, 0-based,
to the sky. Pass parent ``(x, y)`` to ``wcs.pixel_to_world(x, y)``. A
sub-image made with ``exposure[bbox]`` therefore keeps the very same WCS; use
`Exposure.array_wcs` for a WCS taking 0-based indices into the sub-image's
own arrays.

Components read from a file are parsed only when first used (see
`chamberlain.image.fits`), so reading a cutout does not pay for parsing a WCS
nobody looks at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chamberlain.errors import ImageError
from chamberlain.image.box import Box
from chamberlain.image.filter_label import FilterLabel
from chamberlain.image.masked_image import MaskedImage
from chamberlain.image.photo_calib import PhotoCalib
from chamberlain.image.psf import Psf
from chamberlain.image.visit_info import VisitInfo

if TYPE_CHECKING:
    from astropy.wcs import WCS

    from chamberlain.image.image import Image
    from chamberlain.image.mask import Mask

__all__ = ["COMPONENT_NAMES", "Exposure"]

#: The non-pixel components an exposure carries, by attribute name.
COMPONENT_NAMES = ("wcs", "photo_calib", "psf", "visit_info", "filter", "metadata")


class ComponentSource(Protocol):
    """Something that can produce an exposure component on demand (a parsed file header)."""

    def load(self, name: str) -> Any:
        """Return the component called ``name`` (one of `COMPONENT_NAMES`)."""


_UNSET: Any = object()


class Exposure:
    """A `MaskedImage` with WCS, photometric calibration, PSF, visit info, filter and metadata.

    Parameters
    ----------
    masked_image
        The pixels.
    wcs
        Sky mapping for parent 0-based pixel coordinates.
    photo_calib, psf, visit_info, filter
        The calibration objects, or `None`.
    metadata
        Ordered header-like key -> value dictionary (str, int, float, bool or None values).
        Defaults to a new empty dict.

    Raises
    ------
    ImageError
        If a component has the wrong type.
    """

    __slots__ = ("_masked_image", "_source", "_values")

    def __init__(
        self,
        masked_image: MaskedImage,
        *,
        wcs: WCS | None = None,
        photo_calib: PhotoCalib | None = None,
        psf: Psf | None = None,
        visit_info: VisitInfo | None = None,
        filter: FilterLabel | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(masked_image, MaskedImage):
            raise ImageError(f"Exposure needs a MaskedImage, got {type(masked_image).__name__}.")
        self._masked_image = masked_image
        self._source: ComponentSource | None = None
        self._values: dict[str, Any] = {}
        self.wcs = wcs
        self.photo_calib = photo_calib
        self.psf = psf
        self.visit_info = visit_info
        self.filter = filter
        self.metadata = {} if metadata is None else metadata

    @classmethod
    def _from_source(cls, masked_image: MaskedImage, source: ComponentSource | None) -> Exposure:
        """Return an exposure whose components are produced by ``source`` on first access."""
        result = cls.__new__(cls)
        result._masked_image = masked_image
        result._source = source
        result._values = {}
        return result

    def _get(self, name: str) -> Any:
        value = self._values.get(name, _UNSET)
        if value is _UNSET:
            value = self._source.load(name) if self._source is not None else None
            self._values[name] = value
        return value

    def _set(self, name: str, value: Any, kind: type | None) -> None:
        if value is not None and kind is not None and not isinstance(value, kind):
            raise ImageError(
                f"Exposure {name} must be a {kind.__name__} or None, got {type(value).__name__}."
            )
        self._values[name] = value

    # --- pixels ------------------------------------------------------------------------

    @property
    def masked_image(self) -> MaskedImage:
        """The pixels."""
        return self._masked_image

    @property
    def image(self) -> Image:
        """The science image."""
        return self._masked_image.image

    @property
    def mask(self) -> Mask:
        """The mask."""
        return self._masked_image.mask

    @property
    def variance(self) -> Image:
        """The variance image."""
        return self._masked_image.variance

    @property
    def bbox(self) -> Box:
        """The box covered, in parent coordinates."""
        return self._masked_image.bbox

    @property
    def xy0(self) -> tuple[int, int]:
        """Parent-frame coordinate of the first pixel."""
        return self._masked_image.xy0

    @property
    def width(self) -> int:
        """Number of columns."""
        return self._masked_image.width

    @property
    def height(self) -> int:
        """Number of rows."""
        return self._masked_image.height

    # --- components ---------------------------------------------------------------------

    @property
    def wcs(self) -> WCS | None:
        """Sky mapping of parent 0-based pixel coordinates."""
        return self._get("wcs")

    @wcs.setter
    def wcs(self, value: WCS | None) -> None:
        from astropy.wcs import WCS

        self._set("wcs", value, WCS)

    @property
    def photo_calib(self) -> PhotoCalib | None:
        """Photometric calibration."""
        return self._get("photo_calib")

    @photo_calib.setter
    def photo_calib(self, value: PhotoCalib | None) -> None:
        self._set("photo_calib", value, PhotoCalib)

    @property
    def psf(self) -> Psf | None:
        """Point-spread function."""
        return self._get("psf")

    @psf.setter
    def psf(self, value: Psf | None) -> None:
        self._set("psf", value, Psf)

    @property
    def visit_info(self) -> VisitInfo | None:
        """Observation metadata."""
        return self._get("visit_info")

    @visit_info.setter
    def visit_info(self, value: VisitInfo | None) -> None:
        self._set("visit_info", value, VisitInfo)

    @property
    def filter(self) -> FilterLabel | None:
        """Band and physical filter."""
        return self._get("filter")

    @filter.setter
    def filter(self, value: FilterLabel | None) -> None:
        self._set("filter", value, FilterLabel)

    @property
    def metadata(self) -> dict[str, Any]:
        """Header-like key -> value cards (mutable, shared with sub-images)."""
        value = self._get("metadata")
        if value is None:
            value = {}
            self._values["metadata"] = value
        return value

    @metadata.setter
    def metadata(self, value: dict[str, Any]) -> None:
        self._set("metadata", value, dict)

    def array_wcs(self) -> WCS | None:
        """Return a copy of `wcs` taking 0-based indices into this (sub-)image's arrays.

        ``array_wcs().pixel_to_world(i, j)`` is ``wcs.pixel_to_world(i + x0, j + y0)``.

        Returns
        -------
        wcs : `astropy.wcs.WCS` or None
            The shifted copy (SIP distortion included); None if there is no WCS.
        """
        wcs = self.wcs
        if wcs is None:
            return None
        result = wcs.deepcopy()
        result.wcs.crpix = result.wcs.crpix - self.xy0
        if result.sip is not None:
            from astropy.wcs import Sip

            sip = result.sip
            result.sip = Sip(sip.a, sip.b, sip.ap, sip.bp, result.wcs.crpix)
        return result

    # --- sub-images ---------------------------------------------------------------------

    def subset(self, bbox: Box) -> Exposure:
        """Return a view of ``bbox`` (parent coordinates) sharing pixel memory and components.

        The WCS object is the same (it is in parent coordinates), as are the
        other components and the metadata dictionary.

        Parameters
        ----------
        bbox : `Box`
            The pixels wanted, in parent coordinates (also ``exposure[bbox]``).

        Returns
        -------
        view : `Exposure`
            An exposure over ``bbox``.

        Raises
        ------
        ImageError
            If ``bbox`` is empty or not inside `bbox`.
        """
        result = Exposure._from_source(self._masked_image.subset(bbox), self._source)
        result._values = dict(self._values)
        return result

    def __getitem__(self, bbox: Box) -> Exposure:
        return self.subset(bbox)

    def copy(self) -> Exposure:
        """Return a copy with new pixel memory, a copied WCS and a copied metadata dictionary.

        The PSF, photometric calibration, visit info and filter objects are
        shared with this exposure, not copied.

        Returns
        -------
        exposure : `Exposure`
            The independent copy.
        """
        wcs = self.wcs
        return Exposure(
            self._masked_image.copy(),
            wcs=None if wcs is None else wcs.deepcopy(),
            photo_calib=self.photo_calib,
            psf=self.psf,
            visit_info=self.visit_info,
            filter=self.filter,
            metadata=dict(self.metadata),
        )

    def __repr__(self) -> str:
        return f"Exposure({self.bbox}, dtype={self._masked_image.dtype})"
