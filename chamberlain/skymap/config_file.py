"""Skymap definitions in YAML files (the ``register-skymap --config FILE`` format).

A file is a mapping with ``type: rings`` or ``type: discrete`` and the config keys of
`RingsSkyMapConfig` / `DiscreteSkyMapConfig`, for example::

    type: rings
    num_rings: 120
    projection: TAN
    tract_overlap: 1/60      # degrees; "a/b" fractions are accepted for float keys
    pixel_scale: 0.168       # arcseconds per pixel
    rotation: 0.0
    ra_start: 0.0
    patch_inner_dimensions: [4000, 4000]
    patch_border: 100

The Rubin camelCase spellings (``numRings``, ``tractOverlap``, ...) are accepted too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from chamberlain.errors import SkyMapError

from .base import BaseSkyMap
from .discrete import DiscreteSkyMap
from .rings import RingsSkyMap

__all__ = ["SKYMAP_TYPES", "load_skymap_config", "skymap_from_config"]

#: Skymap classes by the ``type`` value of a config file.
SKYMAP_TYPES: dict[str, type[BaseSkyMap]] = {"rings": RingsSkyMap, "discrete": DiscreteSkyMap}

_FRACTION = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?)\s*/\s*(\d+(?:\.\d*)?)\s*$")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def _float_keys(cls: type[BaseSkyMap]) -> set[str]:
    return {
        name for name, field in cls.config_class.model_fields.items() if field.annotation in (float, "float")
    }


def _parse_fraction(key: str, value: str) -> float:
    match = _FRACTION.match(value)
    if match is None:
        raise SkyMapError(
            f"Invalid skymap config value {key}={value!r}; expected a number or a fraction like 1/60."
        )
    numerator, denominator = float(match.group(1)), float(match.group(2))
    if denominator == 0:
        raise SkyMapError(f"Invalid skymap config value {key}={value!r}; the denominator is zero.")
    return numerator / denominator


def skymap_from_config(config: Mapping[str, Any]) -> BaseSkyMap:
    """Build a skymap from a config mapping with a ``type`` key.

    Parameters
    ----------
    config
        ``type`` (``rings`` or ``discrete``) plus config keys in snake_case or Rubin
        camelCase. Float keys also accept fraction strings such as ``"1/60"``.

    Returns
    -------
    skymap : `BaseSkyMap`
        A `RingsSkyMap` or `DiscreteSkyMap`, as ``type`` says.

    Raises
    ------
    SkyMapError
        If ``type`` is missing or unknown, or a key is unknown, mistyped or out of range;
        the message names the key (and the valid choices).
    """
    if not isinstance(config, Mapping):
        raise SkyMapError(
            f"A skymap config must be a mapping of keys; got {type(config).__name__}: {config!r}."
        )
    valid_types = ", ".join(SKYMAP_TYPES)
    if "type" not in config:
        raise SkyMapError(f"Skymap config has no 'type' key; valid types: {valid_types}.")
    kind = config["type"]
    cls = SKYMAP_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise SkyMapError(f"Invalid skymap config value type={kind!r}; valid types: {valid_types}.")
    known = cls.config_class.model_fields
    floats = _float_keys(cls)
    values: dict[str, Any] = {}
    for raw_key, value in config.items():
        if raw_key == "type":
            continue
        key = str(raw_key)
        if key not in known and _snake(key) in known:
            key = _snake(key)
        if key in values:
            raise SkyMapError(
                f"Skymap config key {key!r} is given twice (as {raw_key!r} and in another spelling)."
            )
        if key in floats and isinstance(value, str):
            value = _parse_fraction(key, value)
        values[key] = value
    return cls(values)


def load_skymap_config(path: str | Path) -> BaseSkyMap:
    """Read a YAML skymap config file and build the skymap it describes.

    Parameters
    ----------
    path
        The YAML file (see the module documentation for the format). Reads the file.

    Returns
    -------
    skymap : `BaseSkyMap`
        The skymap the file describes.

    Raises
    ------
    SkyMapError
        If the file cannot be read or parsed, or its content is not a valid skymap
        config; the message names the file and the key at fault.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SkyMapError(f"Cannot read skymap config file {str(path)!r}: {err.strerror or err}.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(err, "problem", None) or str(err)
        raise SkyMapError(f"Skymap config file {str(path)!r} is not valid YAML{where}: {problem}.") from None
    try:
        return skymap_from_config(data)
    except SkyMapError as err:
        raise SkyMapError(f"{path}: {err}") from None
