"""FITS formatters: exposures, masked images, images (through `chamberlain.image.fits`) and tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from chamberlain.datastore.formatters import Formatter
from chamberlain.errors import FormatterError
from chamberlain.image import Exposure, Image, MaskedImage
from chamberlain.image import fits as image_fits

_PIXELS = ("image", "mask", "variance")


def _check(obj: Any, kind: type, name: str) -> None:
    if not isinstance(obj, kind):
        raise FormatterError(
            f"The {name} formatter writes {kind.__name__} objects, not {type(obj).__name__}."
        )


class _FitsPixelsFormatter(Formatter):
    """Read and write FITS pixel datasets: the base of the exposure and masked-image formatters.

    A ``bbox`` cutout of one pixel plane reads only that box of the masked
    image; other components read only the headers.
    """

    extension = ".fits"
    #: The class `write` accepts.
    kind: ClassVar[type]
    #: ``writer(path, obj)`` and ``reader(path, bbox=...)`` of `chamberlain.image.fits`.
    writer: ClassVar[Callable[[str, Any], None]]
    reader: ClassVar[Callable[..., Any]]

    def write(self, obj: Any, path: str) -> None:
        _check(obj, self.kind, self.name)
        type(self).writer(path, obj)

    def read(
        self, path: str, *, component: str | None = None, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        bbox = (parameters or {}).get("bbox")
        if component is None:
            return type(self).reader(path, bbox=bbox)
        if bbox is not None and component in _PIXELS:
            return getattr(image_fits.read_masked_image(path, bbox=bbox), component)
        return image_fits.read_component(path, component)


class FitsExposureFormatter(_FitsPixelsFormatter):
    """`Exposure` as multi-extension FITS; components read only the headers (and one HDU for pixels)."""

    name = "fits_exposure"
    kind = Exposure
    writer = image_fits.write_exposure
    reader = image_fits.read_exposure


class FitsMaskedImageFormatter(_FitsPixelsFormatter):
    """`MaskedImage` as FITS HDUs IMAGE, MASK, VARIANCE."""

    name = "fits_masked_image"
    kind = MaskedImage
    writer = image_fits.write_masked_image
    reader = image_fits.read_masked_image


class FitsImageFormatter(Formatter):
    """`Image` as FITS HDU 1 (EXTNAME=IMAGE)."""

    name = "fits_image"
    extension = ".fits"

    def write(self, obj: Any, path: str) -> None:
        _check(obj, Image, self.name)
        image_fits.write_image(path, obj)

    def read(
        self, path: str, *, component: str | None = None, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        if component is None:
            return image_fits.read_image(path, bbox=(parameters or {}).get("bbox"))
        return image_fits.read_component(path, component)


class FitsTableFormatter(Formatter):
    """`astropy.table.Table` as a FITS binary table in HDU 1 (EXTNAME=TABLE).

    The ``columns`` parameter reads only the named columns (through fitsio);
    components ``columns`` (names) and ``rowcount`` read only the header.
    """

    name = "fits_table"
    extension = ".fits"

    def write(self, obj: Any, path: str) -> None:
        from astropy.io import fits
        from astropy.table import Table

        _check(obj, Table, self.name)
        hdu = fits.table_to_hdu(obj)
        hdu.name = "TABLE"
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)

    def read(
        self, path: str, *, component: str | None = None, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        import fitsio
        from astropy.table import Table

        if component is not None:
            header = fitsio.read_header(path, ext=1)
            if component == "rowcount":
                return int(header["NAXIS2"])
            return [str(header[f"TTYPE{i}"]).strip() for i in range(1, int(header["TFIELDS"]) + 1)]
        columns = (parameters or {}).get("columns")
        if columns is None:
            return Table.read(path, format="fits", hdu=1, memmap=False, character_as_bytes=False)
        if isinstance(columns, str):
            columns = [columns]
        names = self.read(path, component="columns")
        missing = [c for c in columns if c not in names]
        if missing:
            raise FormatterError(f"{path} has no column(s) {missing}; its columns are {names}.")
        full = Table.read(path, format="fits", hdu=1, memmap=True, character_as_bytes=False)
        out = Table([full[c].copy() for c in columns], meta=dict(full.meta))
        del full
        return out
