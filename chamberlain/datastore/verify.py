"""Checking that the files under a datastore root and its records agree."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import uuid
from collections.abc import Iterable

from chamberlain.datastore.file_datastore import FileDatastore, file_checksum

__all__ = ["VerifyReport", "verify_datastore"]


@dataclasses.dataclass
class VerifyReport:
    """What `verify_datastore` found (and, with ``fix``, cleaned).

    Attributes
    ----------
    orphan_files
        Paths (relative to the root) of files no record names; left by a
        process killed between writing a file and committing, or by hand.
    missing_files
        (dataset_id, path) of records whose file does not exist.
    size_mismatches
        (dataset_id, path, recorded size, actual size).
    checksum_mismatches
        (dataset_id, path) of files whose content differs from the recorded checksum.
    pending_trash
        Paths still in the trash (their removal was committed but not finished).
    fixed
        True if ``fix=True`` removed orphans, emptied the trash and deleted the
        records of missing files.
    """

    orphan_files: list[str] = dataclasses.field(default_factory=list)
    missing_files: list[tuple[uuid.UUID, str]] = dataclasses.field(default_factory=list)
    size_mismatches: list[tuple[uuid.UUID, str, int, int]] = dataclasses.field(default_factory=list)
    checksum_mismatches: list[tuple[uuid.UUID, str]] = dataclasses.field(default_factory=list)
    pending_trash: list[str] = dataclasses.field(default_factory=list)
    fixed: bool = False

    @property
    def ok(self) -> bool:
        """True if nothing was found."""
        return not (
            self.orphan_files
            or self.missing_files
            or self.size_mismatches
            or self.checksum_mismatches
            or self.pending_trash
        )

    def summary(self) -> str:
        """One line per kind of problem (or ``OK``)."""
        if self.ok:
            return "OK"
        lines = []
        for label, items in (
            ("files with no record", self.orphan_files),
            ("records whose file is missing", self.missing_files),
            ("size mismatches", self.size_mismatches),
            ("checksum mismatches", self.checksum_mismatches),
            ("files waiting in the trash", self.pending_trash),
        ):
            if items:
                lines.append(f"{len(items)} {label}: {', '.join(str(i) for i in items[:5])}")
        return "\n".join(lines)


def verify_datastore(
    datastore: FileDatastore,
    *,
    fix: bool = False,
    checksums: bool = True,
    ignore: Iterable[str] = (),
) -> VerifyReport:
    """Compare the files under the datastore root with its records.

    Parameters
    ----------
    datastore
        The datastore.
    fix
        Remove files with no record, empty the trash, and delete the records
        of files that are missing. Size and checksum mismatches are only reported.
    checksums
        Recompute the checksum of files that have one recorded.
    ignore
        Relative paths of repository files that are not datasets (the config,
        the SQLite database).

    Notes
    -----
    Run it when no other process is writing: a file being put right now has
    no record yet and would be reported (and, with ``fix``, removed).
    """
    report = VerifyReport()
    ignored = set(ignore)
    on_disk: set[str] = set()
    root = str(datastore.root)
    for directory, _, files in os.walk(root):
        rel_dir = os.path.relpath(directory, root)
        for name in files:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if rel not in ignored:
                on_disk.add(rel)
    recorded: set[str] = set()
    for dataset_id, _component, path, _f, _sc, checksum, size in datastore.records.all_records():
        managed = not os.path.isabs(path)
        if managed:
            recorded.add(path)
        full = path if not managed else f"{root}/{path}"
        try:
            actual = os.stat(full).st_size
        except FileNotFoundError:
            report.missing_files.append((dataset_id, path))
            continue
        if size is not None and size >= 0 and actual != size:
            report.size_mismatches.append((dataset_id, path, size, actual))
        elif checksums and checksum is not None and file_checksum(full) != checksum:
            report.checksum_mismatches.append((dataset_id, path))
    trash = datastore.records.trash()
    report.pending_trash = sorted({p for _, p, _ in trash})
    trashed = set(report.pending_trash)
    report.orphan_files = sorted(on_disk - recorded - trashed)
    if fix:
        for rel in report.orphan_files:
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{root}/{rel}")
        if trash:
            datastore.empty_trash()
        if report.missing_files:
            with datastore.records.transaction():
                datastore.records.delete_records((i, c) for i, c in _missing_keys(datastore, report))
        report.fixed = True
    return report


def _missing_keys(datastore: FileDatastore, report: VerifyReport) -> list[tuple[uuid.UUID, str]]:
    missing = dict(report.missing_files)
    rows = datastore.records.fetch_many(missing)
    return [(r[0], r[1]) for dataset_rows in rows.values() for r in dataset_rows if r[2] == missing[r[0]]]
