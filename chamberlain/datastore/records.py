"""What the datastore stores about each file, and the storage it needs for that.

The datastore never imports the registry. It talks to whatever stores its
records through the small `RecordStorage` protocol below;
`chamberlain.registry.datastore_records.DatastoreRecords` satisfies it over the
registry's ``datastore_record`` and ``datastore_trash`` tables, and the
`~chamberlain.butler.Butler` wires the two together.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from chamberlain.datasets import DatasetRef

__all__ = ["FileDataset", "RecordRow", "RecordStorage", "StoredFile", "TrashRow"]

#: A record as the storage hands it over: (dataset_id, component, path, formatter,
#: storage_class, checksum, file_size), the columns of ``datastore_record``.
RecordRow = tuple[uuid.UUID, str, str, str, str, str | None, int | None]
#: A trash entry: (trash id, path, dataset_id).
TrashRow = tuple[int, str, uuid.UUID | None]


@dataclasses.dataclass(frozen=True, slots=True)
class StoredFile:
    """One file holding (part of) a dataset.

    Attributes
    ----------
    dataset_id
        The dataset the file belongs to.
    component
        ``""`` when the file holds the whole dataset.
    path
        Relative to the datastore root for files the datastore manages, or
        absolute for files ingested with ``transfer="direct"``.
    formatter
        Name of the formatter that reads the file (see `get_formatter`).
    storage_class
        Name of the storage class the file was written as.
    checksum
        ``blake2b`` hex digest, or None when checksums are off.
    file_size
        Size in bytes, or None/-1 when not recorded.
    """

    dataset_id: uuid.UUID
    component: str
    path: str
    formatter: str
    storage_class: str
    checksum: str | None
    file_size: int | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StoredFile:
        """Build a record from a `RecordRow`.

        Parameters
        ----------
        row : `~collections.abc.Sequence`
            ``(dataset_id, component, path, formatter, storage_class, checksum, file_size)``.

        Returns
        -------
        stored : `StoredFile`
            The record.
        """
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6])

    def to_row(self) -> RecordRow:
        """Return the `RecordRow` form.

        Returns
        -------
        row : `RecordRow`
            ``(dataset_id, component, path, formatter, storage_class, checksum, file_size)``.
        """
        return (
            self.dataset_id,
            self.component,
            self.path,
            self.formatter,
            self.storage_class,
            self.checksum,
            self.file_size,
        )


@dataclasses.dataclass(frozen=True)
class FileDataset:
    """A file to ingest and the dataset(s) it holds.

    Attributes
    ----------
    path
        The file (absolute, or relative to the current directory).
    refs
        Resolved dataset references; one file may hold several datasets.
    formatter
        Formatter name; the storage class's default when None.
    """

    path: str | os.PathLike[str]
    refs: DatasetRef | Sequence[DatasetRef]
    formatter: str | None = None

    @property
    def ref_list(self) -> list[DatasetRef]:
        """The refs as a list."""
        return [self.refs] if isinstance(self.refs, DatasetRef) else list(self.refs)


class RecordStorage(Protocol):
    """Persistent storage of datastore records and of the trash, with transaction hooks.

    Every method that writes must run inside `transaction`; ``on_commit`` and
    ``on_rollback`` callbacks run once the outermost transaction has ended.
    """

    def transaction(self) -> AbstractContextManager[Any]:
        """Open a (nestable) transaction.

        Returns
        -------
        context : `~contextlib.AbstractContextManager`
            Commits on a clean exit of the outermost block, rolls back on an exception.
        """

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after the current outermost transaction commits.

        Parameters
        ----------
        callback : `~collections.abc.Callable`
            Called with no arguments.
        """

    def on_rollback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after the current outermost transaction rolls back.

        Parameters
        ----------
        callback : `~collections.abc.Callable`
            Called with no arguments.
        """

    def insert(self, rows: Sequence[RecordRow], *, replace: bool = False) -> None:
        """Insert records (replacing rows with the same keys if ``replace``).

        Parameters
        ----------
        rows : `~collections.abc.Sequence` [`RecordRow`]
            The records.
        replace : `bool`, optional
            Overwrite records with the same (dataset ID, component).
        """

    def fetch(self, dataset_id: uuid.UUID) -> list[RecordRow]:
        """Return the records of one dataset (fast; the hot path of get).

        Parameters
        ----------
        dataset_id : `uuid.UUID`
            The dataset ID.

        Returns
        -------
        rows : `list` [`RecordRow`]
            Its records; empty if it has none.
        """

    def fetch_many(self, dataset_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[RecordRow]]:
        """Return the records of many datasets (bulk SELECTs).

        Parameters
        ----------
        dataset_ids : iterable of `uuid.UUID`
            The dataset IDs.

        Returns
        -------
        rows : `dict` [`uuid.UUID`, `list` [`RecordRow`]]
            The records of each dataset that has some.
        """

    def all_records(self) -> Iterator[RecordRow]:
        """Iterate over every record.

        Returns
        -------
        rows : `~collections.abc.Iterator` [`RecordRow`]
            The records.
        """

    def move_to_trash(self, dataset_ids: Iterable[uuid.UUID]) -> int:
        """Copy the datasets' records to the trash table and delete them.

        Parameters
        ----------
        dataset_ids : iterable of `uuid.UUID`
            The datasets whose records go to the trash.

        Returns
        -------
        count : `int`
            The number of records moved.
        """

    def trash(self) -> list[TrashRow]:
        """Return every trash entry.

        Returns
        -------
        entries : `list` [`TrashRow`]
            ``(trash_id, path, dataset_id)`` rows.
        """

    def paths_in_use(self, paths: Iterable[str]) -> set[str]:
        """Return those of ``paths`` still named by some record.

        Parameters
        ----------
        paths : iterable of `str`
            Recorded paths.

        Returns
        -------
        in_use : `set` [`str`]
            The paths some record names.
        """

    def delete_trash(self, trash_ids: Iterable[int]) -> None:
        """Delete trash entries.

        Parameters
        ----------
        trash_ids : iterable of `int`
            The entries' IDs.
        """

    def delete_records(self, keys: Iterable[tuple[uuid.UUID, str]]) -> None:
        """Delete records by (dataset_id, component) without trashing their files.

        Parameters
        ----------
        keys : iterable of `tuple` [`uuid.UUID`, `str`]
            ``(dataset_id, component)`` pairs.
        """
