"""Chamberlain: a dimension-aware registry and file store for astronomical data.

The names users import most are available from this package directly::

    from chamberlain import Butler, DatasetType, Timespan

Each is a lazy re-export (PEP 562): ``import chamberlain`` imports none of the
subpackages, and the first access to a name imports its home module (for
``Butler``, ``chamberlain.butler``, which brings in SQLAlchemy). The name is the
same object as in its home module, so ``chamberlain.Butler is
chamberlain.butler.Butler``; the home-module imports keep working.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .butler import Butler
    from .datasets import DatasetRef, DatasetType
    from .dimensions import DataCoordinate, DimensionUniverse
    from .errors import (
        ChamberlainError,
        ConfigError,
        DatasetNotFoundError,
        InvalidQueryError,
        MissingCollectionError,
        MissingDatasetTypeError,
    )
    from .geometry import Timespan
    from .registry import CollectionType, Registry

# name -> home module, in the order of __all__.
_HOMES: dict[str, str] = {
    "Butler": "chamberlain.butler",
    "Registry": "chamberlain.registry",
    "CollectionType": "chamberlain.registry",
    "DatasetRef": "chamberlain.datasets",
    "DatasetType": "chamberlain.datasets",
    "DataCoordinate": "chamberlain.dimensions",
    "DimensionUniverse": "chamberlain.dimensions",
    "Timespan": "chamberlain.geometry",
    "ChamberlainError": "chamberlain.errors",
    "ConfigError": "chamberlain.errors",
    "DatasetNotFoundError": "chamberlain.errors",
    "InvalidQueryError": "chamberlain.errors",
    "MissingCollectionError": "chamberlain.errors",
    "MissingDatasetTypeError": "chamberlain.errors",
}

__all__ = [
    "Butler",
    "Registry",
    "CollectionType",
    "DatasetRef",
    "DatasetType",
    "DataCoordinate",
    "DimensionUniverse",
    "Timespan",
    "ChamberlainError",
    "ConfigError",
    "DatasetNotFoundError",
    "InvalidQueryError",
    "MissingCollectionError",
    "MissingDatasetTypeError",
]


def __getattr__(name: str) -> Any:
    """Import a re-exported name from its home module on first access (PEP 562).

    Parameters
    ----------
    name : `str`
        The attribute looked up on the ``chamberlain`` package.

    Returns
    -------
    value : `object`
        The object of that name in its home module; it is cached in the package
        namespace, so the import runs once.

    Raises
    ------
    AttributeError
        If *name* is not one of `__all__` (nor a subpackage, which the import
        system sets as an attribute when it is imported).
    """
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(
            f"module 'chamberlain' has no attribute {name!r}; the top-level names are {', '.join(__all__)}"
        )
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the module's attributes and the lazy re-exports (PEP 562).

    Returns
    -------
    names : `list` [`str`]
        The sorted attribute names, including those not imported yet.
    """
    return sorted(set(globals()) | set(__all__))
