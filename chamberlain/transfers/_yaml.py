"""YAML reading and writing for export files, including the tags of Rubin butler exports.

Chamberlain's own exports use plain YAML (no tags): regions are hex strings of
the sphgeom encoding, times are integer TAI nanoseconds. Rubin butler exports
use tags, which `load` understands:

- ``!<lsst.sphgeom.ConvexPolygon>`` (and the other sphgeom region classes): a
  mapping ``{encoded: <hex>}`` (or a bare hex scalar) of the sphgeom encoding;
- ``!butler_time/tai/iso``: an ISO time in the TAI scale;
- ``!lsst.daf.butler.Timespan``: a mapping ``{begin, end}`` of such times (null
  for unbounded), or the scalar ``EMPTY``;
- ``!uuid``: a dataset ID;
- ``!!binary``: base64 bytes (skymap hashes), standard YAML.
"""

from __future__ import annotations

import uuid
from typing import IO, Any

import astropy.time
import lsst.sphgeom as sg
import yaml

from ..geometry import Timespan, time_to_ns

__all__ = ["RubinTime", "dump", "load"]

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class RubinTime(int):
    """Integer TAI nanoseconds read from a ``!butler_time/tai/iso`` scalar (an `int` subclass)."""


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A safe loader that also understands the Rubin butler's export tags."""


def _region(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> sg.Region:
    if isinstance(node, yaml.MappingNode):
        mapping = loader.construct_mapping(node)
        encoded = mapping.get("encoded")
    else:
        encoded = loader.construct_scalar(node)  # type: ignore[arg-type]
    if not isinstance(encoded, str):
        raise yaml.constructor.ConstructorError(
            None, None, f"region tag lsst.sphgeom.{suffix} has no 'encoded' hex string", node.start_mark
        )
    try:
        return sg.Region.decode(bytes.fromhex(encoded))
    except (ValueError, RuntimeError) as err:
        raise yaml.constructor.ConstructorError(
            None, None, f"cannot decode lsst.sphgeom.{suffix} region: {err}", node.start_mark
        ) from None


def _time(loader: yaml.SafeLoader, node: yaml.Node) -> RubinTime | None:
    text = loader.construct_scalar(node)  # type: ignore[arg-type]
    if text in (None, "", "null"):
        return None
    try:
        return RubinTime(time_to_ns(astropy.time.Time(str(text), format="iso", scale="tai")))
    except ValueError as err:
        raise yaml.constructor.ConstructorError(
            None, None, f"bad !butler_time/tai/iso value {text!r}: {err}", node.start_mark
        ) from None


def _timespan(loader: yaml.SafeLoader, node: yaml.Node) -> Timespan:
    if isinstance(node, yaml.ScalarNode):
        if loader.construct_scalar(node) == "EMPTY":
            return Timespan.empty()
        raise yaml.constructor.ConstructorError(
            None, None, "a scalar !lsst.daf.butler.Timespan must be EMPTY", node.start_mark
        )
    mapping = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return Timespan(_ns(mapping.get("begin")), _ns(mapping.get("end")))


def _ns(value: Any) -> int | None:
    if value is None or isinstance(value, int):
        return value
    raise ValueError(f"Timespan bound {value!r} is not a time.")


def _uuid(loader: yaml.SafeLoader, node: yaml.Node) -> uuid.UUID:
    return uuid.UUID(str(loader.construct_scalar(node)))  # type: ignore[arg-type]


_Loader.add_multi_constructor("lsst.sphgeom.", _region)
_Loader.add_multi_constructor("!lsst.sphgeom.", _region)
_Loader.add_constructor("!butler_time/tai/iso", _time)
_Loader.add_constructor("!lsst.daf.butler.Timespan", _timespan)
_Loader.add_constructor("!uuid", _uuid)


def load(stream: IO[str] | str) -> Any:
    """Parse an export file (either format) into plain Python objects.

    Raises
    ------
    yaml.YAMLError
        If the text is not valid YAML or a tagged value cannot be read.
    """
    return yaml.load(stream, Loader=_Loader)


def dump(data: Any, stream: IO[str]) -> None:
    """Write plain data (dicts, lists, str, int, float, bool, None) as block YAML."""
    yaml.dump(data, stream, Dumper=_BaseDumper, sort_keys=False, default_flow_style=None, width=120)
