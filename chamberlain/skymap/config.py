"""Validated skymap configurations.

The keys follow the Rubin ``BaseSkyMapConfig`` family under PEP 8 names; every
unit is the one of the Rubin config (degrees for angles, arcseconds per pixel for
the pixel scale, pixels for patch sizes), because the skymap hash packs the values
exactly as configured.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import pydantic

from chamberlain.errors import SkyMapError

__all__ = [
    "PROJECTIONS",
    "DiscreteSkyMapConfig",
    "RingsSkyMapConfig",
    "SkyMapConfig",
    "coerce_config",
]

#: Zenithal FITS projection codes a tract WCS may use.
PROJECTIONS: tuple[str, ...] = ("TAN", "STG", "SIN", "ARC", "ZEA")

_C = TypeVar("_C", bound="SkyMapConfig")


def _fail(key: str, value: object, valid: str) -> SkyMapError:
    return SkyMapError(f"Invalid skymap config value {key}={value!r}; {valid}.")


class SkyMapConfig(pydantic.BaseModel):
    """Configuration shared by every skymap (Rubin ``BaseSkyMapConfig``).

    Attributes
    ----------
    tract_overlap
        Minimum overlap between adjacent tracts, degrees (>= 0).
    pixel_scale
        Tract pixel scale, arcseconds per pixel (> 0).
    projection
        Three-letter zenithal FITS projection code, one of `PROJECTIONS`.
    rotation
        Rotation of the tract pixel grid, degrees (finite).
    tract_builder
        ``"legacy"`` (patches of ``patch_inner_dimensions`` with ``patch_border``,
        outer boxes clipped to the tract) or ``"cells"`` (patches made of cells,
        outer boxes not clipped).
    patch_inner_dimensions
        Legacy builder: ``[x, y]`` inner patch size in pixels (> 0).
    patch_border
        Legacy builder: border added around the inner box, pixels (>= 0).
    cell_inner_dimensions, cell_border, num_cells_per_patch_inner, num_cells_in_patch_border
        Cells builder parameters (Rubin ``CellTractBuilderConfig``).
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid", strict=False)

    tract_overlap: float = 1.0
    pixel_scale: float = 0.333
    projection: str = "STG"
    rotation: float = 0.0
    tract_builder: Literal["legacy", "cells"] = "legacy"
    patch_inner_dimensions: tuple[int, int] = (4000, 4000)
    patch_border: int = 100
    cell_inner_dimensions: tuple[int, int] = (150, 150)
    cell_border: int = 50
    num_cells_per_patch_inner: int = 20
    num_cells_in_patch_border: int = 1

    def check(self) -> None:
        """Check value ranges.

        Raises
        ------
        SkyMapError
            If a value is out of range; the message names the key at fault.
        """
        if not (math.isfinite(self.tract_overlap) and self.tract_overlap >= 0):
            raise _fail("tract_overlap", self.tract_overlap, "must be a finite number of degrees >= 0")
        if not (math.isfinite(self.pixel_scale) and self.pixel_scale > 0):
            raise _fail("pixel_scale", self.pixel_scale, "must be a finite number of arcseconds > 0")
        if self.projection not in PROJECTIONS:
            raise _fail("projection", self.projection, f"valid codes are {', '.join(PROJECTIONS)}")
        if not math.isfinite(self.rotation):
            raise _fail("rotation", self.rotation, "must be a finite number of degrees")
        if min(self.patch_inner_dimensions) <= 0:
            raise _fail("patch_inner_dimensions", list(self.patch_inner_dimensions), "both must be > 0")
        if self.patch_border < 0:
            raise _fail("patch_border", self.patch_border, "must be >= 0")
        if min(self.cell_inner_dimensions) <= 0 or len(set(self.cell_inner_dimensions)) != 1:
            raise _fail(
                "cell_inner_dimensions", list(self.cell_inner_dimensions), "must be two equal values > 0"
            )
        if self.cell_border < 0:
            raise _fail("cell_border", self.cell_border, "must be >= 0")
        if self.num_cells_per_patch_inner <= 0:
            raise _fail("num_cells_per_patch_inner", self.num_cells_per_patch_inner, "must be > 0")
        if self.num_cells_in_patch_border < 0:
            raise _fail("num_cells_in_patch_border", self.num_cells_in_patch_border, "must be >= 0")

    @property
    def patch_inner(self) -> tuple[int, int]:
        """Effective inner patch size ``(x, y)`` in pixels for the chosen builder."""
        if self.tract_builder == "cells":
            n = self.num_cells_per_patch_inner
            return (self.cell_inner_dimensions[0] * n, self.cell_inner_dimensions[1] * n)
        return self.patch_inner_dimensions

    @property
    def effective_patch_border(self) -> int:
        """Effective patch border in pixels for the chosen builder."""
        if self.tract_builder == "cells":
            return self.num_cells_in_patch_border * self.cell_inner_dimensions[0] + self.cell_border
        return self.patch_border


class RingsSkyMapConfig(SkyMapConfig):
    """Configuration of a `RingsSkyMap`.

    Attributes
    ----------
    num_rings
        Number of declination rings between the polar caps (> 0).
    ra_start
        Centre RA of the first tract of every ring, degrees in [0, 360).
    """

    num_rings: int
    ra_start: float = 0.0

    def check(self) -> None:
        """Check value ranges, the common ones and ``num_rings`` and ``ra_start``.

        Raises
        ------
        SkyMapError
            If a value is out of range; the message names the key at fault.
        """
        super().check()
        if self.num_rings <= 0:
            raise _fail("num_rings", self.num_rings, "must be an integer > 0")
        if not (0.0 <= self.ra_start < 360.0):
            raise _fail("ra_start", self.ra_start, "must be in degrees within [0, 360)")


class DiscreteSkyMapConfig(SkyMapConfig):
    """Configuration of a `DiscreteSkyMap`: one square tract per listed centre.

    Attributes
    ----------
    ra_list, dec_list, radius_list
        Tract centres and half-sizes in degrees; equal, non-zero lengths.
    """

    ra_list: tuple[float, ...]
    dec_list: tuple[float, ...]
    radius_list: tuple[float, ...]

    def check(self) -> None:
        """Check value ranges, the common ones and the tract lists (equal, non-zero lengths).

        Raises
        ------
        SkyMapError
            If a value is out of range or the lists differ in length; the message
            names the key at fault.
        """
        super().check()
        n = len(self.radius_list)
        if n == 0:
            raise _fail("radius_list", [], "at least one tract is required")
        if len(self.ra_list) != n:
            raise _fail("ra_list", list(self.ra_list), f"must have {n} entries like radius_list")
        if len(self.dec_list) != n:
            raise _fail("dec_list", list(self.dec_list), f"must have {n} entries like radius_list")
        for ra in self.ra_list:
            if not math.isfinite(ra):
                raise _fail("ra_list", ra, "entries must be finite degrees")
        for dec in self.dec_list:
            if not (-90.0 <= dec <= 90.0):
                raise _fail("dec_list", dec, "entries must be degrees within [-90, 90]")
        for radius in self.radius_list:
            if not (math.isfinite(radius) and 0.0 < radius < 90.0):
                raise _fail("radius_list", radius, "entries must be degrees within (0, 90)")


def coerce_config(config_class: type[_C], config: _C | Mapping[str, Any] | None, **kwargs: Any) -> _C:
    """Build and check a config from a model, a mapping or keyword arguments.

    Parameters
    ----------
    config_class
        The config model to build.
    config
        An instance of ``config_class``, a mapping of keys, or `None`.
    **kwargs
        Keys overriding those in ``config``.

    Returns
    -------
    config : ``config_class``
        The checked config (``config`` itself if it already is one and no
        keyword overrides it).

    Raises
    ------
    SkyMapError
        If a key is unknown, has the wrong type or is out of range; the message names it.
    """
    if isinstance(config, config_class) and not kwargs:
        config.check()
        return config
    if isinstance(config, pydantic.BaseModel):
        values: dict[str, Any] = config.model_dump()
    elif config is None:
        values = {}
    elif isinstance(config, Mapping):
        values = dict(config)
    else:
        raise SkyMapError(f"Skymap config must be a mapping or {config_class.__name__}, not {config!r}.")
    values.update(kwargs)
    try:
        result = config_class.model_validate(values)
    except pydantic.ValidationError as err:
        first = err.errors()[0]
        loc = first["loc"]
        key = str(loc[0]) if loc else "(config)"
        bad = values.get(key, first.get("input"))
        where = f" at {'.'.join(str(p) for p in loc[1:])}" if len(loc) > 1 else ""
        known = ", ".join(config_class.model_fields)
        raise SkyMapError(
            f"Invalid skymap config value {key}={bad!r}: {first['msg']}{where} (valid keys: {known})."
        ) from None
    result.check()
    return result
