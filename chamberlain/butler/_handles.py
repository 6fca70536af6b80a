"""What `Butler.exists` and `Butler.get_deferred` return: `DatasetExistence`, `DeferredDatasetHandle`.

Both are re-exported by `chamberlain.butler`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chamberlain.datasets import DatasetRef
from chamberlain.dimensions import DataCoordinate

if TYPE_CHECKING:
    from chamberlain.butler import Butler

__all__ = ["DatasetExistence", "DeferredDatasetHandle"]


class DatasetExistence(enum.Flag):
    """How much of a dataset exists (flags); truthy only for `KNOWN` and `VERIFIED`.

    `Butler.exists` sets `RECORDED` when the registry has the dataset,
    `DATASTORE` when the datastore has a record of its file, and `VERIFIED`
    when the file was also found on disk.
    """

    UNRECOGNIZED = 0
    RECORDED = enum.auto()
    """The registry has it."""
    DATASTORE = enum.auto()
    """The datastore has a record of it."""
    _ARTIFACT = enum.auto()
    KNOWN = RECORDED | DATASTORE
    """Registry and datastore records (the file was not checked)."""
    VERIFIED = RECORDED | DATASTORE | _ARTIFACT
    """Registry and datastore records, and the file exists."""

    def __bool__(self) -> bool:
        return self.value in (DatasetExistence.KNOWN.value, DatasetExistence.VERIFIED.value)


@dataclasses.dataclass(frozen=True)
class DeferredDatasetHandle:
    """A dataset found but not read: `get` reads it (or part of it) when asked.

    Made by `Butler.get_deferred` (which ran the SQL to find the dataset);
    holding a handle opens no file and keeps no connection busy.

    Attributes
    ----------
    butler
        The butler that found it.
    ref
        The dataset.
    component
        Component to read by default (from a ``parent.component`` name).
    parameters
        Read parameters merged into every `get`.
    storage_class
        Storage class to convert to by default.
    """

    butler: Butler
    ref: DatasetRef
    component: str | None = None
    parameters: Mapping[str, Any] | None = None
    storage_class: str | None = None

    def get(
        self,
        *,
        parameters: Mapping[str, Any] | None = None,
        component: str | None = None,
        storage_class: str | None = None,
    ) -> Any:
        """Read the dataset now: one SQL query for its file record, then the file (or only the part asked for).

        Parameters
        ----------
        parameters
            Read parameters, merged over the handle's (``bbox`` reads a cutout).
        component
            Component to read instead of the handle's.
        storage_class
            Storage class to convert to instead of the handle's.

        Returns
        -------
        object
            The dataset, component or cutout.

        Raises
        ------
        DatasetNotFoundError
            If the datastore no longer has a record of the file (the dataset was removed).
        MissingFileError
            If the recorded file is gone.
        UnknownComponentError, FormatterError
            For an unknown component or read parameter.
        """
        merged = dict(self.parameters or {})
        merged.update(parameters or {})
        return self.butler.datastore.get(
            self.ref,
            component=component or self.component,
            parameters=merged or None,
            storage_class=storage_class or self.storage_class,
        )

    @property
    def data_id(self) -> DataCoordinate:
        """The data ID of the dataset."""
        return self.ref.data_id
