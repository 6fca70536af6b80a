"""`FileDatastore`: datasets as files under a root directory, with records in the registry.

Consistency with registry transactions:

- Writes go to a temporary name in the target directory and are renamed into
  place; an "undo" (remove the file, or move it back) is registered to run if
  the enclosing transaction rolls back, so a rolled-back put or ingest leaves
  no file behind.
- Removal is two-phase: inside the transaction the records move to the trash
  table; the files are deleted only after the transaction commits (then the
  trash rows go). A rolled-back removal therefore leaves the files, and a
  committed one leaves no record without its file.
- A process killed between writing a file and committing leaves a file with
  no record; `~chamberlain.datastore.verify.verify_datastore` reports it and
  removes it with ``fix=True``, and a later put to the same path overwrites it.
  A process killed while writing leaves a temporary (``.<name>.tmp-<pid>``);
  the first write of a later process into that directory removes it once
  the process is gone and the file is more than
  `~chamberlain.datastore._transfer.STALE_AFTER` seconds old (one ``scandir``
  of that directory; nothing else is walked).

Paths stay inside the root:

- every directory a write, an ingest or a deletion goes to must resolve
  (``os.path.realpath``, symbolic links followed) to the real root or below
  it; otherwise a `DatastoreError` names the dataset and the path, and
  nothing is written or deleted;
- deletion removes a link itself, never what it points to;
- ``transfer="move"`` refuses a source that is a symbolic link (move the file
  it points to, or use ``copy``/``symlink``).

Files ingested with ``transfer="direct"`` are recorded by absolute path and
never moved or deleted by the datastore.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from chamberlain.datasets import DatasetRef, DatasetType
from chamberlain.datastore import _transfer
from chamberlain.datastore.formatters import Formatter, get_formatter
from chamberlain.datastore.records import FileDataset, RecordRow, RecordStorage, StoredFile
from chamberlain.datastore.storage_classes import StorageClass, convert, get_storage_class
from chamberlain.datastore.templates import FileTemplates, RecordLookup
from chamberlain.errors import (
    DatasetNotFoundError,
    DatastoreError,
    FileIntegrityError,
    FormatterError,
    IngestError,
    MissingFileError,
    format_choices,
)
from chamberlain.repository import read_preexisting

__all__ = ["FileDatastore", "MissingFileError", "file_checksum"]

#: The longest file or directory name (bytes) the usual file systems allow (ext4, XFS, APFS, NTFS).
_NAME_MAX = 255


def file_checksum(path: str) -> str:
    """Compute the blake2b hex digest of a file's content (read in 1 MiB blocks).

    Parameters
    ----------
    path : `str`
        The file.

    Returns
    -------
    digest : `str`
        128 hexadecimal digits.
    """
    digest = hashlib.blake2b()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _describe(ref: Any) -> str:
    """Describe a dataset for a message: type, data ID and run when known, else its ID."""
    dataset_type = getattr(ref, "dataset_type", None)
    if dataset_type is None:
        return str(ref.id)
    return f"{dataset_type.name} {ref.data_id} in run {ref.run!r} ({ref.id})"


def _absolute(path: str | os.PathLike[str]) -> str:
    """``os.path.abspath(path)``, skipping the normalisation an already clean absolute path does not need."""
    if (
        isinstance(path, str)
        and os.sep == "/"
        and path[:1] == "/"
        and "//" not in path
        and "/." not in path
        and not path.endswith("/")
    ):
        return path
    return os.path.abspath(os.fspath(path))


class FileDatastore:
    """Files under ``root``, one per dataset, named by file templates.

    Parameters
    ----------
    root
        The directory holding the files (the repository root).
    records
        Where records and trash entries are stored (`RecordStorage`).
    templates
        Template overrides by dataset type or storage class name (see `FileTemplates`).
    formatters
        Formatter name overrides by dataset type or storage class name.
    checksum
        Record a blake2b checksum of every file written or ingested.
    record_lookup
        Returns the dimension record of an element for a data ID; used by
        templates that name record fields (``exposure.obs_id``).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        records: RecordStorage,
        *,
        templates: Mapping[str, str] | None = None,
        formatters: Mapping[str, str] | None = None,
        checksum: bool = False,
        record_lookup: RecordLookup | None = None,
    ) -> None:
        self.root = Path(root).absolute()
        self._root = str(self.root)
        self._real_root = os.path.realpath(self._root)
        self.records = records
        self.templates = FileTemplates(templates)
        self._formatter_overrides = dict(formatters or {})
        for name in self._formatter_overrides.values():
            get_formatter(name)  # fail early on unknown names
        self.checksum = checksum
        self._lookup = record_lookup
        self._formatter_cache: dict[DatasetType, tuple[StorageClass, str, Formatter]] = {}
        self._known_dirs: set[str] = set()  # directories made, checked and cleaned of stale temporaries

    # --- lookups ---------------------------------------------------------------------------

    def formatter_for(self, dataset_type: DatasetType) -> tuple[StorageClass, str, Formatter]:
        """Return the storage class, formatter name and formatter used to write ``dataset_type``.

        A per-dataset-type override in the datastore configuration wins, then one
        for the storage class, then the storage class's default formatter. The
        answer is cached per dataset type.

        Parameters
        ----------
        dataset_type : `DatasetType`
            The dataset type.

        Returns
        -------
        storage_class : `StorageClass`
            Its storage class.
        formatter_name : `str`
            The name records store.
        formatter : `Formatter`
            The formatter instance.

        Raises
        ------
        FormatterError
            If the storage class or the formatter is unknown.
        """
        found = self._formatter_cache.get(dataset_type)
        if found is not None:
            return found
        storage_class = get_storage_class(dataset_type.storage_class)
        overrides = self._formatter_overrides
        name = (
            overrides.get(dataset_type.parent_name)
            or overrides.get(storage_class.name)
            or storage_class.formatter
        )
        found = (storage_class, name, get_formatter(name))
        self._formatter_cache[dataset_type] = found
        return found

    def _abspath(self, path: str) -> str:
        return path if os.path.isabs(path) else f"{self._root}/{path}"

    def is_managed(self, path: str) -> bool:
        """Tell whether ``path`` (as recorded) is a file the datastore owns (inside the root).

        Parameters
        ----------
        path : `str`
            A recorded path: relative to the root, or absolute (``direct`` ingest).

        Returns
        -------
        managed : `bool`
            True for a relative path or an absolute one under the root.
        """
        return not os.path.isabs(path) or path.startswith(self._root + os.sep)

    def predict_path(self, ref: DatasetRef) -> str:
        """Return the relative path a put of ``ref`` would write (no file is touched).

        Parameters
        ----------
        ref : `DatasetRef`
            A resolved ref; the template is applied to its data ID and run.

        Returns
        -------
        path : `str`
            The path relative to the root, with the formatter's extension.

        Raises
        ------
        FileTemplateError
            If the dataset type's template is invalid for it or a field has no value.
        """
        _, _, formatter = self.formatter_for(ref.dataset_type)
        template = self.templates.get(ref.dataset_type)
        return template.format(ref, lookup=self._lookup) + formatter.extension

    def _outside_root(self, directory: str) -> str | None:
        """Where ``directory`` really is, if that is outside the real root (None if inside)."""
        real = os.path.realpath(directory)
        root = self._real_root
        if real == root or real.startswith(root + os.sep):
            return None
        return real

    def _check_not_taken(self, relative: str, ref: Any, what: str, claimed: set[str] | None = None) -> None:
        """Refuse to write over a file that another dataset's record names.

        Two datasets can map to one file name (a template without every dimension, or values
        that escape to the same text); writing the second would silently replace the first's
        file, and a rollback would then delete it. A file at the target that no record names
        (left by a process killed before it committed) may be replaced. ``claimed`` holds the
        paths already written by the same call.
        """
        if claimed is not None:
            if relative in claimed:
                raise DatastoreError(
                    f"Cannot {what} dataset {_describe(ref)}: another dataset of the same call maps to the "
                    f"same file {relative}; the file template of {ref.dataset_type.name!r} is not unique "
                    "for these datasets."
                )
            claimed.add(relative)
        if not os.path.lexists(f"{self._root}/{relative}"):
            return
        if self.records.paths_in_use([relative]):
            raise DatastoreError(
                f"Cannot {what} dataset {_describe(ref)}: {relative} already holds the file of another "
                f"dataset; the file template of {ref.dataset_type.name!r} maps both to the same name."
            )
        if posixpath.normpath(relative) in read_preexisting(self._root):
            raise DatastoreError(
                f"Cannot {what} dataset {_describe(ref)}: {relative} is a file that was in the directory "
                "before the repository was made (not the repository's; see chamberlain-preexisting.json)."
            )

    @staticmethod
    def _check_name_lengths(path: str, ref: Any, what: str) -> None:
        """Refuse, before any directory is made, a path with a level too long for the file system.

        A file's temporary name (``.<name>.tmp-<pid>``) is counted, as it is written first.
        """
        levels = path.split("/")
        levels[-1] = _transfer.temporary_name(levels[-1])
        for level in levels:
            size = len(os.fsencode(level))
            if size > _NAME_MAX:
                raise DatastoreError(
                    f"Cannot {what} dataset {_describe(ref)}: its path has a level of {size} bytes "
                    f"({level[:40]}...), more than the {_NAME_MAX} a file name may have; use a shorter run "
                    "name or a file template with fewer fields."
                )

    def _check_sources_not_recorded(self, sources: Sequence[str]) -> None:
        """Refuse to move, link or take over in place a file that a dataset record already names.

        Moving another dataset's file (or ingesting it in place under a second record) would
        leave that dataset without its file, or two records sharing one. Copying is fine.
        """
        inside = {os.path.relpath(s, self._root): s for s in sources if self.is_managed(s)}
        taken = self.records.paths_in_use(inside) if inside else set()
        if taken:
            first = sorted(taken)[0]
            raise IngestError(
                f"Cannot ingest {inside[first]}: it is already the file of a dataset in this repository "
                f"({len(taken)} such file(s)); use --transfer copy to ingest a copy of it."
            )

    def _escape_error(self, what: str, ref: Any, path: str, real: str) -> DatastoreError:
        return DatastoreError(
            f"Cannot {what} dataset {_describe(ref)}: the directory of {path} resolves to {real}, outside "
            f"the datastore root {self._real_root} (a symbolic link or '..' leads out); nothing was done."
        )

    def _ensure_dir(self, path: str, ref: DatasetRef, what: str = "write") -> None:
        """Make the directory of ``path`` after checking it lies inside the root; clean stale temporaries.

        Raises
        ------
        DatastoreError
            If the directory resolves outside the root, or cannot be made.
        """
        directory = os.path.dirname(path)
        self._check_name_lengths(path, ref, what)
        if directory in self._known_dirs:
            return
        # realpath resolves the levels that exist (a linked one pointing out is caught before
        # makedirs could follow it) and appends the rest; checked again once all exist.
        real = self._outside_root(directory)
        if real is None:
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as err:
                raise DatastoreError(
                    f"Cannot {what} dataset {_describe(ref)}: cannot make directory {directory}: "
                    f"{err.strerror or err}."
                ) from None
            real = self._outside_root(directory)
        if real is not None:
            raise self._escape_error(what, ref, path, real)
        _transfer.remove_stale_temporaries(directory)
        self._known_dirs.add(directory)

    def _size_and_checksum(self, path: str) -> tuple[int, str | None]:
        size = os.stat(path).st_size
        return size, (file_checksum(path) if self.checksum else None)

    # --- put / get -------------------------------------------------------------------------

    def put(self, obj: Any, ref: DatasetRef) -> StoredFile:
        """Write ``obj`` as the file of ``ref`` and record it (inside the caller's transaction).

        The file is written under a temporary name and renamed into place; if
        the transaction rolls back, the file is removed.

        Parameters
        ----------
        obj : `object`
            The object, of the dataset type's storage class.
        ref : `DatasetRef`
            The resolved dataset it is stored as.

        Returns
        -------
        stored : `StoredFile`
            The record written (path, formatter, size and checksum).

        Raises
        ------
        FormatterError
            If ``obj`` is not of the storage class's Python type or cannot be written.
        FileTemplateError
            If the dataset type's template is invalid for it.
        DatastoreError
            If the file's directory resolves outside the root (through a symbolic link), or
            the file cannot be written (a name too long, a full disk).
        """
        storage_class, formatter_name, formatter = self.formatter_for(ref.dataset_type)
        if not storage_class.can_accept(obj):
            raise FormatterError(
                f"Cannot put a {type(obj).__name__} as dataset type {ref.dataset_type.name!r}: its storage "
                f"class {storage_class.name!r} holds {storage_class.pytype_name} objects."
            )
        relative = self.templates.get(ref.dataset_type).format(ref, lookup=self._lookup) + formatter.extension
        target = f"{self._root}/{relative}"
        self._ensure_dir(target, ref)
        self._check_not_taken(relative, ref, "write")
        tmp = _transfer.temporary_name(target)
        records = self.records
        with records.transaction():
            records.on_rollback(lambda: _transfer.remove_quietly(target))
            try:
                _transfer.remove_quietly(tmp)  # never write through a link left under the temporary name
                formatter.write(obj, tmp)
                os.replace(tmp, target)
            except OSError as err:  # e.g. a name too long for the file system, a full disk
                with contextlib.suppress(OSError):
                    os.remove(tmp)
                raise DatastoreError(
                    f"Cannot write dataset {_describe(ref)} to {target}: {err.strerror or err}."
                ) from None
            except BaseException:
                _transfer.remove_quietly(tmp)
                raise
            size, checksum = self._size_and_checksum(target)
            stored = StoredFile(ref.id, "", relative, formatter_name, storage_class.name, checksum, size)
            records.insert([stored.to_row()])
        return stored

    def stored_files(self, ref: DatasetRef) -> list[StoredFile]:
        """Return the records of ``ref`` (one SELECT; empty if the datastore does not have it).

        Parameters
        ----------
        ref : `DatasetRef`
            The dataset (only its ID is used, as by `knows`, `exists` and `uri`).

        Returns
        -------
        records : `list` [`StoredFile`]
            One per file (component) of the dataset.
        """
        return [StoredFile.from_row(r) for r in self.records.fetch(ref.id)]

    def knows(self, ref: DatasetRef) -> bool:
        """Tell whether the datastore has a record of ``ref`` (one SELECT; the file is not checked).

        Parameters
        ----------
        ref
            The dataset.

        Returns
        -------
        known : `bool`
            True if at least one record names the dataset.
        """
        return bool(self.records.fetch(ref.id))

    def exists(self, ref: DatasetRef) -> bool:
        """Tell whether ``ref`` has records and every file they name exists.

        Runs one SELECT and one ``stat`` per file.

        Parameters
        ----------
        ref
            The dataset; its records are fetched as by `knows`.

        Returns
        -------
        exists : `bool`
            False if there is no record or a recorded file is missing.
        """
        rows = self.records.fetch(ref.id)
        return bool(rows) and all(os.path.exists(self._abspath(r[2])) for r in rows)

    def uri(self, ref: DatasetRef) -> str:
        """Return the absolute path of the file of ``ref`` (one SELECT; the file is not checked).

        Parameters
        ----------
        ref
            The dataset.

        Returns
        -------
        path : `str`
            The absolute path of its first recorded file.

        Raises
        ------
        DatasetNotFoundError
            If the datastore has no record of ``ref``.
        """
        rows = self.records.fetch(ref.id)
        if not rows:
            raise DatasetNotFoundError(f"Dataset {ref} has no file in the datastore at {self._root}.")
        return self._abspath(rows[0][2])

    def get(
        self,
        ref: DatasetRef,
        *,
        component: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        storage_class: str | None = None,
        stored: Sequence[RecordRow] | None = None,
    ) -> Any:
        """Read ``ref`` (or one ``component`` of it), applying read ``parameters``.

        Runs one SELECT of the records (unless ``stored`` is given), a ``stat``
        of the file and the formatter's read.

        Parameters
        ----------
        ref
            The dataset (its dataset type must be the parent, not a component type).
        component
            Read only this component (``wcs``, ``bbox``, ``image``...).
        parameters
            Read parameters of the storage class (``bbox`` for images).
        storage_class
            Convert the result to this storage class.
        stored
            The records, if the caller already has them.

        Returns
        -------
        obj : `object`
            The object read (converted, if ``storage_class`` is given).

        Raises
        ------
        DatasetNotFoundError
            If the datastore has no record of ``ref``.
        MissingFileError
            If the file is gone.
        FileIntegrityError
            If the file's size differs from the recorded size.
        UnknownComponentError, FormatterError
            For an unknown component or parameter (the message lists valid ones).
        """
        rows = stored if stored is not None else self.records.fetch(ref.id)
        if not rows:
            raise DatasetNotFoundError(
                f"Dataset {ref} is known to the registry but has no file in the datastore at {self._root}."
            )
        row = rows[0]
        source = get_storage_class(row[4])
        if component is not None:
            component = source.component(component)
        source.check_parameters(parameters)
        path = self._abspath(row[2])
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            raise MissingFileError(f"The file of dataset {ref} is missing: {path}.") from None
        if row[6] is not None and row[6] >= 0 and size != row[6]:
            raise FileIntegrityError(
                f"The file of dataset {ref} has {size} bytes but {row[6]} were recorded: {path}."
            )
        obj = get_formatter(row[3]).read(path, component=component, parameters=parameters)
        if storage_class is not None:
            obj = self._convert(obj, source, component, storage_class)
        return obj

    @staticmethod
    def _convert(obj: Any, source: StorageClass, component: str | None, target_name: str) -> Any:
        target = get_storage_class(target_name)
        if component is not None:
            if target.can_accept(obj):
                return obj
            try:
                source = get_storage_class(source.components[component])
            except FormatterError:
                raise FormatterError(
                    f"Cannot convert component {component!r} ({type(obj).__name__}) to storage class "
                    f"{target_name!r}."
                ) from None
        return convert(obj, source, target)

    # --- ingest ----------------------------------------------------------------------------

    def resolve_transfer(self, paths: Sequence[str], transfer: str | None) -> str | None:
        """Turn ``auto`` into a concrete mode: None if every file is inside the root, else copy.

        Parameters
        ----------
        paths : `~collections.abc.Sequence` [`str`]
            The absolute paths of the files to ingest.
        transfer : `str` or None
            The transfer mode asked for.

        Returns
        -------
        mode : `str` or None
            ``transfer`` itself unless it is ``auto``.

        Raises
        ------
        IngestError
            If the mode is unknown (the message lists the valid ones), or files are a mix of
            inside and outside the root under ``auto``.
        """
        if transfer not in _transfer.TRANSFER_MODES:
            raise IngestError(
                f"Unknown transfer mode {transfer!r}; valid modes: "
                f"{format_choices([m for m in _transfer.TRANSFER_MODES if m is not None])} or None."
            )
        if transfer != "auto":
            return transfer
        inside = [self.is_managed(p) for p in paths]
        if all(inside):
            return None
        if not any(inside):
            return "copy"
        raise IngestError(
            "transfer='auto' got files both inside and outside the datastore root "
            f"{self._root}; ingest them in separate calls."
        )

    def ingest(
        self,
        datasets: Sequence[FileDataset],
        transfer: str | None = "auto",
        *,
        record_validation_info: bool = True,
        on_error: Callable[[FileDataset, Exception], None] | None = None,
    ) -> None:
        """Transfer files and record them (the registry rows must be inserted in the same transaction).

        Parameters
        ----------
        datasets
            Files and the refs they hold.
        transfer
            ``auto``, ``direct`` (record the absolute path; nothing moves), ``copy``,
            ``move``, ``hardlink``, ``symlink``, ``relsymlink``, ``link`` (hard link,
            else symbolic), or None (the files are already inside the root).
        record_validation_info
            Record the size (and checksum, if enabled); otherwise ``file_size=-1``.
        on_error
            Accepted but not called: the first failing file raises and nothing is
            recorded.

        Raises
        ------
        IngestError
            If a file is missing or cannot be transferred, or the mode is invalid, or a
            ``move`` source is a symbolic link; the message names the file.
        DatastoreError
            If a target (or, with None, the file itself) is in a directory that resolves
            outside the root.
        """
        sources = [_absolute(d.path) for d in datasets]
        mode = self.resolve_transfer(sources, transfer)
        if mode == "move":
            for source in sources:
                _transfer.check_move_source(source)
        if mode != "copy":
            self._check_sources_not_recorded(sources)
        rows: list[RecordRow] = []
        records = self.records
        last_type: DatasetType | None = None
        outside: dict[str, str | None] = {}  # directory -> where it really is if outside the root
        claimed: set[str] = set()  # target paths this call writes
        with records.transaction():
            for dataset, source in zip(datasets, sources):
                refs = dataset.ref_list
                if not refs:
                    raise IngestError(f"FileDataset for {source} has no refs.")
                if refs[0].dataset_type is not last_type:
                    last_type = refs[0].dataset_type
                    storage_class, default_formatter, _ = self.formatter_for(last_type)
                formatter_name = dataset.formatter or default_formatter
                if dataset.formatter is not None:
                    get_formatter(formatter_name)
                if mode in ("direct", None):
                    if mode is None:
                        if not self.is_managed(source):
                            raise IngestError(
                                f"{source} is not inside the datastore root {self._root}; choose a transfer mode."
                            )
                        directory = os.path.dirname(source)
                        if directory not in outside:
                            outside[directory] = self._outside_root(directory)
                        real = outside[directory]
                        if real is not None:
                            raise self._escape_error("ingest", refs[0], source, real)
                    final = source
                    path = source if mode == "direct" else os.path.relpath(source, self._root)
                else:
                    extension = os.path.splitext(source)[1]
                    path = self.templates.get(refs[0].dataset_type).format(refs[0], lookup=self._lookup)
                    path += extension
                    final = f"{self._root}/{path}"
                    if not os.path.exists(source):
                        raise IngestError(f"Cannot ingest {source}: no such file.")
                    self._ensure_dir(final, refs[0], "ingest")
                    self._check_not_taken(path, refs[0], "ingest", claimed)
                    records.on_rollback(_transfer.transfer(source, final, mode))
                if record_validation_info:
                    try:
                        size = os.stat(final).st_size
                        checksum = file_checksum(final) if self.checksum else None
                    except FileNotFoundError:
                        raise IngestError(f"Cannot ingest {source}: no such file.") from None
                else:
                    size, checksum = -1, None
                for ref in refs:
                    rows.append((ref.id, "", path, formatter_name, storage_class.name, checksum, size))
            records.insert(rows, replace=mode == "direct")

    # --- removal ---------------------------------------------------------------------------

    def trash(self, refs: Sequence[DatasetRef]) -> int:
        """Move the records of ``refs`` to the trash; their files go when the transaction commits.

        Parameters
        ----------
        refs
            The datasets (only their ``id`` is needed).

        Returns
        -------
        count : `int`
            How many records were moved.

        Raises
        ------
        DatastoreError
            If a file the datastore would delete is in a directory that resolves outside
            the root (a symbolic link or ``..`` leads out); nothing is trashed.
        """
        records = self.records
        self._check_deletable(refs)
        with records.transaction():
            count = records.move_to_trash([r.id for r in refs])
            if count:
                records.on_commit(self._empty_trash_quietly)
        return count

    def _check_deletable(self, refs: Sequence[DatasetRef]) -> None:
        """Raise if a managed file of ``refs`` lies in a directory that resolves outside the root."""
        by_id = {ref.id: ref for ref in refs}
        checked: dict[str, str | None] = {}
        for dataset_id, rows in self.records.fetch_many(by_id).items():
            for row in rows:
                path = row[2]
                if not self.is_managed(path):
                    continue
                full = self._abspath(path)
                directory = os.path.dirname(full)
                if directory not in checked:
                    checked[directory] = self._outside_root(directory)
                real = checked[directory]
                if real is not None:
                    raise self._escape_error("delete the file of", by_id[dataset_id], full, real)

    def empty_trash(self) -> list[str]:
        """Delete the files of trash entries no record still names, then the entries.

        Files outside the root (ingested with ``direct``) are never deleted, nor is a
        file whose directory resolves outside the root (its entry is dropped: the file
        is not the datastore's); a link is removed, not what it points to. An entry
        whose file cannot be deleted stays in the trash.

        Returns
        -------
        removed : `list` [`str`]
            The recorded paths of the files deleted.
        """
        rows = self.records.trash()
        if not rows:
            return []
        in_use = self.records.paths_in_use(p for _, p, _ in rows)
        done: list[int] = []
        removed: list[str] = []
        outside: dict[str, str | None] = {}
        for trash_id, path, _ in rows:
            if path not in in_use and self.is_managed(path):
                full = self._abspath(path)
                directory = os.path.dirname(full)
                if directory not in outside:
                    outside[directory] = self._outside_root(directory)
                if outside[directory] is not None:
                    done.append(trash_id)
                    continue
                try:
                    os.remove(full)
                    removed.append(path)
                except FileNotFoundError:
                    pass
                except OSError:
                    continue
            done.append(trash_id)
        with self.records.transaction():
            self.records.delete_trash(done)
        return removed

    def _empty_trash_quietly(self) -> None:
        self.empty_trash()
