"""`FilterLabel`: which band and physical filter an image was taken through."""

from __future__ import annotations

import dataclasses

from chamberlain.errors import ImageError

__all__ = ["FilterLabel"]


@dataclasses.dataclass(frozen=True, slots=True)
class FilterLabel:
    """The abstract band (``"r"``) and the physical filter (``"HSC-R2"``) of an image.

    At least one of the two must be given.

    Raises
    ------
    ImageError
        If both are missing or either is not a non-empty string.
    """

    band: str | None = None
    physical_filter: str | None = None

    def __post_init__(self) -> None:
        for what, value in (("band", self.band), ("physical_filter", self.physical_filter)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ImageError(f"FilterLabel {what} must be a non-empty string or None, got {value!r}.")
        if self.band is None and self.physical_filter is None:
            raise ImageError("FilterLabel needs a band, a physical_filter, or both; got neither.")

    @property
    def physical_label(self) -> str | None:
        """The Rubin name for `physical_filter`."""
        return self.physical_filter
