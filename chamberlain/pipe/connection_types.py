"""Connection types: declarations of a `PipelineTask`'s inputs and outputs.

Each is a frozen dataclass declared as a class attribute of a
`PipelineTaskConnections` subclass. ``name`` is the dataset type name and may
contain ``{template}`` placeholders filled from the connections' templates.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from chamberlain.errors import TaskError

__all__ = [
    "BaseConnection",
    "DimensionedConnection",
    "InitInput",
    "InitOutput",
    "Input",
    "Output",
    "PrerequisiteInput",
]


@dataclass(frozen=True, kw_only=True)
class BaseConnection:
    """Fields shared by every connection.

    Attributes
    ----------
    name
        Dataset type name, possibly a template such as ``"{coaddName}Coadd"``.
    storage_class
        Name of the storage class (how the dataset is held in memory and on disk).
    doc
        What the dataset is, for the task's documentation.
    multiple
        Whether the task takes or produces a list of datasets for this connection.
    deprecated
        If set, a message saying this connection is deprecated.
    """

    name: str
    storage_class: str
    doc: str = ""
    multiple: bool = False
    deprecated: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TaskError(f"Connection name must be a non-empty string, not {self.name!r}.")
        if not isinstance(self.storage_class, str) or not self.storage_class:
            raise TaskError(
                f"Connection {self.name!r} needs a storage class name, not {self.storage_class!r}."
            )

    @property
    def template_names(self) -> set[str]:
        """The ``{placeholder}`` names used in `name`."""
        return {f for _, f, _, _ in string.Formatter().parse(self.name) if f}


@dataclass(frozen=True, kw_only=True)
class DimensionedConnection(BaseConnection):
    """A connection whose datasets are identified by data IDs.

    Attributes
    ----------
    dimensions
        The dataset's dimensions (stored as a tuple; a bare string is rejected).
    is_calibration
        Whether the dataset is looked up in calibration collections by validity range.
    """

    dimensions: tuple[str, ...] = ()
    is_calibration: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "dimensions", _dimension_tuple(self.dimensions, self.name))


@dataclass(frozen=True, kw_only=True)
class Input(DimensionedConnection):
    """A regular input, produced upstream or already in the repository.

    Attributes
    ----------
    defer_load
        Hand the task a deferred handle (``.get()`` later) instead of the object.
    minimum
        Fewer refs than this means the quantum has no work (`NoWorkFound`);
        values above 1 require ``multiple``.
    defer_graph_constraint
        Do not use this input's existence to constrain the quanta.
    """

    defer_load: bool = False
    minimum: int = 1
    defer_graph_constraint: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_minimum(self.minimum, self.multiple, self.name)


@dataclass(frozen=True, kw_only=True)
class PrerequisiteInput(DimensionedConnection):
    """An input that must exist before the graph is built (calibrations, reference data).

    Attributes
    ----------
    defer_load
        As for `Input`.
    minimum
        Fewer refs than this is an error at graph building; 0 makes it optional.
    lookup_function
        Optional ``f(dataset_type, registry, data_id, collections) -> refs`` replacing
        the default lookup.
    """

    defer_load: bool = False
    minimum: int = 1
    lookup_function: Callable[..., Iterable[Any]] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_minimum(self.minimum, self.multiple, self.name)


@dataclass(frozen=True, kw_only=True)
class Output(DimensionedConnection):
    """A dataset the task writes, one per output data ID."""


@dataclass(frozen=True, kw_only=True)
class InitInput(BaseConnection):
    """A dataset read once when the task is constructed (schemas and the like)."""


@dataclass(frozen=True, kw_only=True)
class InitOutput(BaseConnection):
    """A dataset written once per run when the task is constructed."""


def _dimension_tuple(dimensions: Iterable[str], name: str) -> tuple[str, ...]:
    if isinstance(dimensions, str):
        raise TaskError(
            f"Dimensions of connection {name!r} must be an iterable of names, not the string "
            f"{dimensions!r} (write ({dimensions!r},))."
        )
    result = tuple(dimensions)
    for dim in result:
        if not isinstance(dim, str):
            raise TaskError(f"Dimension {dim!r} of connection {name!r} is not a string.")
    return result


def _check_minimum(minimum: int, multiple: bool, name: str) -> None:
    if minimum < 0:
        raise TaskError(f"Connection {name!r} has minimum={minimum}; it must be >= 0.")
    if minimum > 1 and not multiple:
        raise TaskError(f"Connection {name!r} has minimum={minimum} but multiple=False; set multiple=True.")
