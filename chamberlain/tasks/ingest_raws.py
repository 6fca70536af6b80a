"""Raw ingest: register raw FITS files as ``raw`` datasets with their exposure records.

`ingest_raws` is the library call behind ``chamberlain ingest-raws``:

- headers are read and translated in a process pool (``processes=N``);
  instruments with a plug-in (`chamberlain.instrument.get_instrument`, e.g.
  SimCam) translate their own headers, every other instrument goes through
  astro-metadata-translator (HSC, DECam, MegaPrime...);
- files are written in batches, each in ONE transaction: group, day_obs and
  exposure records (plus physical_filter and detector records of real
  instruments without plug-in, taken from the headers) are inserted in bulk,
  then the ``raw`` datasets with deterministic Rubin-compatible IDs
  (`DatasetIdGenEnum.DATAID_TYPE_RUN`) and the file records, and the files
  are transferred;
- a file that is not FITS, is truncated, cannot be translated, clashes with
  another file of the batch or with an exposure already stored differently,
  is not a regular file (FIFOs and devices are never opened) or is a
  dangling symbolic link is reported by path with the reason; the others
  are ingested (or, with ``fail_fast``, `IngestError` is raised and nothing
  from its batch is written);
- files whose dataset is already stored count as already present, so
  re-running over the same files ingests nothing, and of two ingests of the
  same files running at once the second counts the first one's as already
  present;
- a directory without raw files, or an ``instrument`` nobody can translate,
  is an error before any file is read.

Raws are read back with the ``fits_raw`` formatter
(`chamberlain.datastore._raw_formatter`), which reads single-HDU raw files.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from chamberlain._progress import ProgressCallback
from chamberlain.datasets import DatasetRef
from chamberlain.errors import IngestError, ReadOnlyError, format_choices
from chamberlain.naming import validate_collection_name

from ._ingest_batch import RAW_DATASET_TYPE, RAW_FORMATTER, RAW_STORAGE_CLASS, BatchWriter
from ._ingest_read import check_instrument, translate_raw_file

if TYPE_CHECKING:
    from chamberlain.butler import Butler

__all__ = [
    "RAW_DATASET_TYPE",
    "RAW_FORMATTER",
    "RAW_STORAGE_CLASS",
    "TRANSFER_CHOICES",
    "IngestSummary",
    "check_instrument",
    "find_raw_files",
    "ingest_raws",
]

#: Transfer modes accepted by `ingest_raws` (see `chamberlain.butler.Butler.ingest`).
TRANSFER_CHOICES = ("auto", "direct", "copy", "move", "hardlink", "symlink", "relsymlink", "link")

#: File name endings picked up when a directory is given.
RAW_SUFFIXES = (".fits", ".fit", ".fts", ".fits.fz")


@dataclasses.dataclass
class IngestSummary:
    """What `ingest_raws` did.

    Attributes
    ----------
    ingested
        Number of files ingested.
    already_present
        Number of files whose raw dataset was already stored (nothing done).
    failed
        ``(path, reason)`` for every file that could not be ingested.
    refs
        The raw datasets ingested.
    """

    ingested: int = 0
    already_present: int = 0
    failed: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    refs: list[DatasetRef] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if no file failed."""
        return not self.failed

    def __str__(self) -> str:
        text = (
            f"Ingested {self.ingested} raw file(s); {self.already_present} already present; "
            f"{len(self.failed)} failed."
        )
        if not self.ingested and not self.failed and self.already_present:
            text += " Nothing to do: every file was already ingested."
        return text


def find_raw_files(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Absolute paths of the files to ingest: files as given, directories searched recursively.

    Inside directories only names ending in `RAW_SUFFIXES` are taken (sorted);
    hidden files and directories are skipped. Files named explicitly are
    always taken, whatever their name. Duplicates are dropped. Nothing is
    opened here: entries that are not regular files (FIFOs, devices) or are
    dangling symbolic links are listed too, and fail at ingest with the
    reason, while the other files are ingested.

    Parameters
    ----------
    paths
        Files and directories.

    Returns
    -------
    list of str
        The files, in the order given (each directory's files sorted).

    Raises
    ------
    IngestError
        If a path does not exist, or a directory holds no file with one of
        the `RAW_SUFFIXES` (the message names the directory).
    """
    out: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        if path not in seen:
            seen.add(path)
            out.append(path)

    for given in paths:
        path = os.path.abspath(os.fspath(given))
        if os.path.isdir(path):
            found: list[str] = []
            for directory, subdirs, files in os.walk(path):
                subdirs[:] = [d for d in subdirs if not d.startswith(".")]
                found.extend(
                    os.path.join(directory, f)
                    for f in files
                    if not f.startswith(".") and f.lower().endswith(RAW_SUFFIXES)
                )
            if not found:
                raise IngestError(
                    f"No FITS files found in {os.fspath(given)!r} (looked for "
                    f"{', '.join('*' + s for s in RAW_SUFFIXES)}, recursively, hidden names skipped)."
                )
            for file in sorted(found):
                add(file)
        elif os.path.lexists(path):  # a dangling link is reported by the ingest, with the others
            add(path)
        else:
            raise IngestError(f"Cannot ingest {os.fspath(given)!r}: no such file or directory.")
    return out


def _check_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise IngestError(f"{name} must be a positive integer, got {value!r}.")
    return value


def _translated(files: list[str], instrument: str | None, processes: int) -> Iterator[dict[str, Any]]:
    work = functools.partial(translate_raw_file, instrument=instrument)
    if processes == 1 or len(files) < 2:
        yield from map(work, files)
        return
    # A fork pool made here inherits the imported modules, so workers start at once;
    # they never touch the parent's database connection.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    chunk = max(1, min(64, len(files) // (processes * 8)))
    with context.Pool(min(processes, len(files))) as pool:
        yield from pool.imap(work, files, chunksize=chunk)


def ingest_raws(
    butler: Butler,
    paths: Iterable[str | os.PathLike[str]],
    *,
    instrument: str | None = None,
    run: str | None = None,
    transfer: str | None = "auto",
    processes: int = 1,
    fail_fast: bool = False,
    batch_size: int = 1000,
    progress: ProgressCallback | None = None,
) -> IngestSummary:
    """Ingest raw FITS files into a repository.

    Parameters
    ----------
    butler
        A writeable butler.
    paths
        Files and directories (searched recursively for ``*.fits`` and the
        other `RAW_SUFFIXES`).
    instrument
        Only accept raws of this instrument (other files fail); by default
        each file's ``INSTRUME`` chooses the instrument.
    run
        The RUN collection; default ``<instrument>/raw/all``. Registered if missing.
    transfer
        ``auto`` (copy files from outside the repository, leave files inside
        it where they are), ``direct`` (record the absolute path; nothing
        moves), ``copy``, ``move``, ``hardlink``, ``symlink``, ``relsymlink``
        or ``link``.
    processes
        Processes reading and translating headers (1: in this process).
    fail_fast
        Raise at the first file that cannot be ingested; nothing from its
        batch is written (earlier batches stay).
    batch_size
        Files per transaction.
    progress
        Called as ``progress(done, total)`` (a `~chamberlain._progress.ProgressCallback`):
        once with ``done = 0`` when the files are found, then after every batch with
        the number of files handled so far, of ``total`` files.

    Returns
    -------
    IngestSummary
        Counts of files ingested and already present, and the failures by path.

    Raises
    ------
    IngestError
        If a path does not exist, a directory holds no raw files, an
        argument is invalid, or (with ``fail_fast``) a file cannot be
        ingested; the message names the file and the reason.
    InstrumentError
        If ``instrument`` is neither a plug-in nor an instrument
        astro-metadata-translator knows (checked before any file is read).
    ReadOnlyError
        If the butler is read-only.
    InvalidNameError
        If ``run`` breaks the collection name rules of `chamberlain.naming`.

    Notes
    -----
    Registers the ``raw`` dataset type (storage class ``RawExposure``,
    dimensions instrument, exposure, detector), the run, and the records of
    instrument plug-ins (`register_instrument`) when they are missing.
    Per batch, SQL runs a fixed number of bulk statements, never one per file.
    """
    if transfer not in TRANSFER_CHOICES and transfer is not None:
        raise IngestError(
            f"Unknown transfer mode {transfer!r}; valid modes: {format_choices(TRANSFER_CHOICES)}."
        )
    processes = _check_int(processes, "processes")
    batch_size = _check_int(batch_size, "batch_size")
    if run is not None:
        validate_collection_name(run, "run")  # before any file is read; '' is not the default run
    if not butler.writeable:
        raise ReadOnlyError(f"Cannot ingest raws: the butler for {butler.config.root} was opened read-only.")
    if instrument is not None:
        check_instrument(instrument)
    files = find_raw_files(paths)
    summary = IngestSummary()
    writer = BatchWriter(butler, run, transfer, fail_fast)
    batch: list[dict[str, Any]] = []
    handled = 0  # files since the last batch was written
    done = 0  # files handled in all
    if progress is not None:
        progress(0, len(files))

    def flush() -> None:
        nonlocal handled, done
        result = writer.write(batch)
        summary.ingested += len(result.ingested)
        summary.refs.extend(result.ingested)
        summary.already_present += len(result.already_present)
        summary.failed.extend(result.failed)
        done += handled
        if progress is not None:
            progress(done, len(files))
        batch.clear()
        handled = 0

    for item in _translated(files, instrument, processes):
        handled += 1
        error = item.get("error")
        if error is not None:
            if fail_fast:
                raise IngestError(
                    f"{item['path']}: {error}. Nothing from its batch was written (--fail-fast)."
                )
            summary.failed.append((item["path"], error))
        else:
            batch.append(item)
        if handled >= batch_size:
            flush()
    if handled:
        flush()
    return summary
