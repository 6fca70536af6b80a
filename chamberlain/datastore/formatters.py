"""Formatters: how one storage class is written to and read from a file.

Formatters are plug-ins looked up by name (`get_formatter`). The built-in ones
are registered as ``module:Class`` paths and imported only when first used, so
reading a JSON file never imports fitsio or astropy.

=====================  =========  =============================================
Name                   Extension  What
=====================  =========  =============================================
``fits_exposure``      ``.fits``  `~chamberlain.image.Exposure` (HDUs IMAGE, MASK, VARIANCE)
``fits_masked_image``  ``.fits``  `~chamberlain.image.MaskedImage`
``fits_image``         ``.fits``  `~chamberlain.image.Image` (HDU 1, EXTNAME=IMAGE)
``fits_table``         ``.fits``  `astropy.table.Table` as a FITS binary table (HDU 1)
``npy``                ``.npy``   `numpy.ndarray` in NumPy's own format
``json``               ``.json``  dicts and lists
``yaml``               ``.yaml``  dicts and lists
=====================  =========  =============================================

A formatter writes to the path it is given (the datastore passes a temporary
name and renames the file into place afterwards) and reads the whole object,
one component, or a subset selected by read parameters, reading no more of
the file than that needs.
"""

from __future__ import annotations

import json
import os
import pkgutil
from collections.abc import Mapping
from typing import Any, ClassVar

from chamberlain.errors import FormatterError, format_choices

__all__ = [
    "Formatter",
    "JsonFormatter",
    "NumpyFormatter",
    "YamlFormatter",
    "formatter_names",
    "get_formatter",
    "register_formatter",
]


class Formatter:
    """Base class of formatters: write one object to a file, read it (or part of it) back.

    Subclasses set `name` and `extension` and implement `write` and `read`,
    which keep the docstrings below (what is particular to a format is in the
    subclass's docstring). Formatters are stateless; one instance serves every
    call.
    """

    #: The name records store and `get_formatter` looks up.
    name: ClassVar[str] = ""
    #: File extension, with the dot.
    extension: ClassVar[str] = ""

    def write(self, obj: Any, path: str) -> None:
        """Write ``obj`` to ``path`` (replacing any file there).

        Parameters
        ----------
        obj : `object`
            The object, of the storage class's Python type.
        path : `str`
            The file to write.

        Raises
        ------
        FormatterError
            If ``obj`` cannot be written by this formatter.
        """
        raise NotImplementedError

    def read(
        self, path: str, *, component: str | None = None, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        """Read the object, or only ``component``, applying read ``parameters``.

        ``component`` is already canonical and valid for the storage class;
        ``parameters`` already checked against it.

        Parameters
        ----------
        path : `str`
            The file to read.
        component : `str`, optional
            The component to read instead of the whole object.
        parameters : `~collections.abc.Mapping`, optional
            Read parameters (e.g. ``bbox``) selecting part of the object.

        Returns
        -------
        obj : `object`
            The object, component or subset read.

        Raises
        ------
        FormatterError
            If the file cannot be read as this formatter's format.
        """
        raise NotImplementedError


def _write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to a new or truncated file at ``path`` (three system calls for small files)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


#: What ``json.dumps(obj, separators=(",", ":"))`` would build on every call.
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"))


class JsonFormatter(Formatter):
    """Dicts and lists as JSON (UTF-8)."""

    name = "json"
    extension = ".json"

    def write(self, obj: Any, path: str) -> None:  # noqa: D102
        try:
            data = _JSON_ENCODER.encode(obj).encode()
        except (TypeError, ValueError) as err:
            raise FormatterError(f"Cannot write {type(obj).__name__} as JSON to {path}: {err}.") from None
        _write_bytes(path, data)

    def read(  # noqa: D102
        self, path: str, *, component: str | None = None, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        with open(path, "rb", buffering=0) as stream:
            data = stream.readall()
        try:
            return json.loads(data)
        except ValueError as err:
            raise FormatterError(f"{path} is not valid JSON: {err}.") from None


class YamlFormatter(Formatter):
    """Dicts and lists as YAML (safe subset)."""

    name = "yaml"
    extension = ".yaml"

    def write(self, obj: Any, path: str) -> None:  # noqa: D102
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        try:
            text = yaml.dump(obj, Dumper=dumper, sort_keys=False)
        except yaml.YAMLError as err:
            raise FormatterError(f"Cannot write {type(obj).__name__} as YAML to {path}: {err}.") from None
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)

    def read(  # noqa: D102
        self, path: str, *, component: str | None = None, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with open(path, encoding="utf-8") as stream:
            try:
                return yaml.load(stream, Loader=loader)
            except yaml.YAMLError as err:
                raise FormatterError(f"{path} is not valid YAML: {err}.") from None


class NumpyFormatter(Formatter):
    """NumPy arrays in ``.npy`` format; components ``shape`` and ``dtype`` read only the header."""

    name = "npy"
    extension = ".npy"

    def write(self, obj: Any, path: str) -> None:  # noqa: D102
        import numpy as np

        if not isinstance(obj, np.ndarray):
            raise FormatterError(f"The npy formatter writes numpy arrays, not {type(obj).__name__}.")
        if obj.dtype.hasobject:
            raise FormatterError(f"Cannot write an array of Python objects to {path}.")
        with open(path, "wb") as stream:
            np.save(stream, obj, allow_pickle=False)

    def read(  # noqa: D102
        self, path: str, *, component: str | None = None, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        import numpy as np

        with open(path, "rb") as stream:
            if component is not None:
                version = np.lib.format.read_magic(stream)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
                return tuple(shape) if component == "shape" else dtype
            try:
                return np.load(stream, allow_pickle=False)
            except ValueError as err:
                raise FormatterError(f"{path} is not a .npy file: {err}.") from None


_registry: dict[str, type[Formatter] | str] = {
    "json": JsonFormatter,
    "yaml": YamlFormatter,
    "npy": NumpyFormatter,
    "fits_exposure": "chamberlain.datastore._fits_formatters:FitsExposureFormatter",
    "fits_masked_image": "chamberlain.datastore._fits_formatters:FitsMaskedImageFormatter",
    "fits_image": "chamberlain.datastore._fits_formatters:FitsImageFormatter",
    "fits_table": "chamberlain.datastore._fits_formatters:FitsTableFormatter",
    "fits_raw": "chamberlain.datastore._raw_formatter:FitsRawFormatter",
}
_instances: dict[str, Formatter] = {}


def register_formatter(name: str, formatter: type[Formatter] | str) -> None:
    """Register a formatter class (or its ``module:Class`` path, imported lazily) under ``name``.

    Replaces any formatter registered under the same name.

    Parameters
    ----------
    name : `str`
        The name records store and `get_formatter` looks up.
    formatter : `type` or `str`
        A `Formatter` subclass, or its ``module:Class`` path.
    """
    _registry[name] = formatter
    _instances.pop(name, None)


def get_formatter(name: str) -> Formatter:
    """Return the formatter registered as ``name`` (imported and instantiated on first use).

    Parameters
    ----------
    name : `str`
        A formatter name (see `formatter_names`).

    Returns
    -------
    formatter : `Formatter`
        The formatter instance, shared by every caller.

    Raises
    ------
    FormatterError
        If no formatter has that name (the message lists the known ones) or it cannot be imported.
    """
    found = _instances.get(name)
    if found is not None:
        return found
    try:
        entry = _registry[name]
    except KeyError:
        raise FormatterError(
            f"Unknown formatter {name!r}; known formatters: {format_choices(_registry)}."
        ) from None
    if isinstance(entry, str):
        try:
            entry = pkgutil.resolve_name(entry)
        except (ImportError, AttributeError, ValueError) as err:
            raise FormatterError(f"Cannot import formatter {name!r} from {entry!r}: {err}.") from None
    assert isinstance(entry, type)
    instance = entry()
    _instances[name] = instance
    return instance


def formatter_names() -> list[str]:
    """Return every registered formatter name, sorted.

    Returns
    -------
    names : `list` [`str`]
        The names `get_formatter` accepts.
    """
    return sorted(_registry)
