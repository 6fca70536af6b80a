"""Storage classes: the in-memory type of a dataset, its components and read parameters.

A storage class names a Python type (imported lazily, by dotted path), the
components that can be read on their own (``calexp.wcs``), the read-time
parameters its formatter understands (``bbox``) and the formatter used by
default. Look them up by name with `get_storage_class`; add your own with
`register_storage_class`.

=======================  ==========================  ==============================================
Storage class            Python type                 Components / parameters
=======================  ==========================  ==============================================
``Exposure``             `chamberlain.image.Exposure`  image mask variance wcs psf photo_calib
                                                     visit_info filter metadata bbox xy0 dimensions
                                                     / bbox
``MaskedImage``          `~chamberlain.image.MaskedImage`  image mask variance bbox xy0 dimensions / bbox
``Image``                `~chamberlain.image.Image`  bbox xy0 dimensions / bbox
``AstropyTable``         `astropy.table.Table`       columns rowcount / columns
``NumpyArray``           `numpy.ndarray`             shape dtype / —
``StructuredDataDict``   `dict`                      —
``StructuredDataList``   `list`                      —
=======================  ==========================  ==============================================

``ExposureF`` is an alias of ``Exposure``; ``photoCalib`` and ``visitInfo``
are accepted for the snake_case component names.
"""

from __future__ import annotations

import dataclasses
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any

from chamberlain.errors import FormatterError, UnknownComponentError, format_choices

__all__ = [
    "StorageClass",
    "get_storage_class",
    "register_converter",
    "register_storage_class",
    "storage_class_names",
]

_COMPONENT_ALIASES = {"photoCalib": "photo_calib", "visitInfo": "visit_info"}


@dataclasses.dataclass(frozen=True)
class StorageClass:
    """How a kind of dataset looks in memory.

    Attributes
    ----------
    name
        The storage class name (``Exposure``).
    pytype_name
        Dotted path of the Python type (``chamberlain.image.Exposure``); for
        builtins just the name (``dict``).
    formatter
        Name of the default formatter.
    components
        Component name -> storage class name of the component.
    parameters
        Read-time parameters the storage class accepts.
    """

    name: str
    pytype_name: str
    formatter: str
    components: Mapping[str, str] = dataclasses.field(default_factory=dict)
    parameters: frozenset[str] = frozenset()

    @property
    def pytype(self) -> type:
        """The Python type (imported on first use)."""
        return _import_type(self.pytype_name)

    def component(self, name: str) -> str:
        """Return the canonical spelling of component ``name``.

        Parameters
        ----------
        name : `str`
            A component name or alias.

        Returns
        -------
        component : `str`
            The canonical name.

        Raises
        ------
        UnknownComponentError
            If the storage class has no such component; the message lists the valid ones.
        """
        canonical = _COMPONENT_ALIASES.get(name, name)
        if canonical not in self.components:
            raise UnknownComponentError(
                f"Storage class {self.name!r} has no component {name!r}; valid components: "
                f"{format_choices(self.components, limit=30)}."
            )
        return canonical

    def check_parameters(self, parameters: Mapping[str, Any] | None) -> None:
        """Check that this storage class accepts every read parameter given.

        Parameters
        ----------
        parameters : `~collections.abc.Mapping` or None
            Read parameters by name; None or empty passes.

        Raises
        ------
        FormatterError
            Naming each parameter this storage class does not accept, and the valid ones.
        """
        if parameters:
            unknown = [p for p in parameters if p not in self.parameters]
            if unknown:
                raise FormatterError(
                    f"Storage class {self.name!r} does not accept read parameter(s) {sorted(unknown)}; valid "
                    f"parameters: {format_choices(self.parameters)}."
                )

    def can_accept(self, obj: Any) -> bool:
        """Tell whether ``obj`` is an instance of this storage class's Python type.

        Imports the Python type on first use.

        Parameters
        ----------
        obj : `object`
            The object to store.

        Returns
        -------
        accepted : `bool`
            True if ``isinstance(obj, self.pytype)``.
        """
        return isinstance(obj, self.pytype)


_type_cache: dict[str, type] = {}


def _import_type(path: str) -> type:
    found = _type_cache.get(path)
    if found is not None:
        return found
    if "." not in path:
        import builtins

        found = getattr(builtins, path)
    else:
        try:
            found = pkgutil.resolve_name(path)
        except (ImportError, AttributeError, ValueError) as err:
            raise FormatterError(f"Cannot import Python type {path!r}: {err}.") from None
    assert isinstance(found, type)
    _type_cache[path] = found
    return found


_EXPOSURE_COMPONENTS = {
    "image": "Image",
    "mask": "Mask",
    "variance": "Image",
    "wcs": "Wcs",
    "psf": "Psf",
    "photo_calib": "PhotoCalib",
    "visit_info": "VisitInfo",
    "filter": "FilterLabel",
    "metadata": "StructuredDataDict",
    "bbox": "Box",
    "xy0": "Point",
    "dimensions": "Extent",
}
_MASKED_COMPONENTS = {
    k: _EXPOSURE_COMPONENTS[k] for k in ("image", "mask", "variance", "bbox", "xy0", "dimensions")
}
_IMAGE_COMPONENTS = {k: _EXPOSURE_COMPONENTS[k] for k in ("bbox", "xy0", "dimensions")}

_registry: dict[str, StorageClass] = {}


def register_storage_class(storage_class: StorageClass, *, alias: str | None = None) -> None:
    """Make a storage class known by name (and optionally by an alias).

    Parameters
    ----------
    storage_class : `StorageClass`
        The storage class.
    alias : `str`, optional
        Another name it is known by.

    Raises
    ------
    FormatterError
        If a different storage class is registered under the same name.
    """
    for name in (storage_class.name, alias):
        if name is None:
            continue
        existing = _registry.get(name)
        if existing is not None and existing != storage_class:
            raise FormatterError(f"A different storage class is already registered as {name!r}.")
        _registry[name] = storage_class


def get_storage_class(name: str) -> StorageClass:
    """Return the storage class called ``name``.

    Parameters
    ----------
    name : `str`
        A storage class name or alias.

    Returns
    -------
    storage_class : `StorageClass`
        The registered storage class.

    Raises
    ------
    FormatterError
        If no storage class has that name; the message lists the known ones.
    """
    try:
        return _registry[name]
    except KeyError:
        raise FormatterError(
            f"Unknown storage class {name!r}; known storage classes: {format_choices(_registry, limit=40)}."
        ) from None


def storage_class_names() -> list[str]:
    """Return every registered storage class name (aliases included), sorted.

    Returns
    -------
    names : `list` [`str`]
        The names `get_storage_class` accepts.
    """
    return sorted(_registry)


# --- conversions between storage classes (read-time storage class override) -----------

_converters: dict[tuple[str, str], Callable[[Any], Any]] = {}


def register_converter(source: str, target: str, function: Callable[[Any], Any]) -> None:
    """Register how to turn an object of storage class ``source`` into one of ``target``.

    Replaces any converter registered for the same pair.

    Parameters
    ----------
    source, target : `str`
        Storage class names.
    function : `~collections.abc.Callable`
        Takes an object of ``source`` and returns one of ``target``.
    """
    _converters[(source, target)] = function


def convert(obj: Any, source: StorageClass, target: StorageClass) -> Any:
    """Convert ``obj`` (read as ``source``) to storage class ``target``.

    Raises
    ------
    FormatterError
        If no conversion is registered; the message lists the targets that are.
    """
    if source.name == target.name or target.can_accept(obj):
        return obj
    function = _converters.get((source.name, target.name))
    if function is None:
        valid = [t for (s, t) in _converters if s == source.name]
        raise FormatterError(
            f"Cannot convert storage class {source.name!r} to {target.name!r}; conversions from "
            f"{source.name!r}: {format_choices(valid)}."
        )
    return function(obj)


def _builtin_storage_classes() -> None:
    exposure = StorageClass(
        "Exposure", "chamberlain.image.Exposure", "fits_exposure", _EXPOSURE_COMPONENTS, frozenset({"bbox"})
    )
    register_storage_class(exposure, alias="ExposureF")
    register_storage_class(dataclasses.replace(exposure, name="RawExposure", formatter="fits_raw"))
    register_storage_class(
        StorageClass(
            "MaskedImage",
            "chamberlain.image.MaskedImage",
            "fits_masked_image",
            _MASKED_COMPONENTS,
            frozenset({"bbox"}),
        )
    )
    register_storage_class(
        StorageClass("Image", "chamberlain.image.Image", "fits_image", _IMAGE_COMPONENTS, frozenset({"bbox"}))
    )
    register_storage_class(
        StorageClass(
            "AstropyTable",
            "astropy.table.Table",
            "fits_table",
            {"columns": "StructuredDataList", "rowcount": "int"},
            frozenset({"columns"}),
        )
    )
    register_storage_class(
        StorageClass("NumpyArray", "numpy.ndarray", "npy", {"shape": "tuple", "dtype": "dtype"})
    )
    register_storage_class(StorageClass("StructuredDataDict", "dict", "json"))
    register_storage_class(StorageClass("StructuredDataList", "list", "json"))
    register_converter("Exposure", "MaskedImage", lambda e: e.masked_image)
    register_converter("Exposure", "Image", lambda e: e.image)
    register_converter("MaskedImage", "Image", lambda m: m.image)
    register_converter("NumpyArray", "StructuredDataList", lambda a: a.tolist())
    register_converter("AstropyTable", "NumpyArray", lambda t: t.as_array())


_builtin_storage_classes()
