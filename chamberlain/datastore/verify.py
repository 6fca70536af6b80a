"""Checking that the files under a datastore root and its records agree.

`verify_datastore` only ever deletes (with ``fix``) what the datastore itself
could have written: files under the folder of a registered RUN collection and
stale temporary files (``.<name>.tmp-<pid>``). It never deletes a file outside
the run folders, a nested repository (a directory holding ``chamberlain.yaml``
or ``chamberlain.sqlite3``, skipped with everything below it), a file the
repository recorded as pre-existing when it was created
(`~chamberlain.repository.PREEXISTING_NAME`), the repository's own files, or
the target of a symbolic link. Paths are compared normalised, and files by
identity (device and inode), so a record that names a file by any equivalent
spelling never makes it an orphan.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import posixpath
import re
import uuid
from collections.abc import Iterable

from chamberlain.datastore._transfer import is_stale_temporary
from chamberlain.datastore.file_datastore import FileDatastore, file_checksum
from chamberlain.repository import REPOSITORY_FILES, REPOSITORY_MARKERS, read_preexisting

__all__ = ["VerifyReport", "verify_datastore"]

#: The temporary names of `chamberlain.datastore._transfer.temporary_name`.
_TEMPORARY = re.compile(r"\..+\.tmp-[0-9]+")
#: Characters file templates replace in a run name (`chamberlain.datastore.templates`).
_TEMPLATE_BAD_CHARS = re.compile(r'[ <>:"\\|?*]')


@dataclasses.dataclass
class VerifyReport:
    """What `verify_datastore` found (and, with ``fix``, cleaned).

    Attributes
    ----------
    orphan_files
        Paths (relative to the root) of files no record names that the
        datastore could have written (under a run folder, or temporary files);
        left by a process killed between writing a file and committing, or by
        hand. ``fix`` deletes them.
    missing_files
        (dataset_id, path) of records whose file does not exist.
    size_mismatches
        (dataset_id, path, recorded size, actual size).
    checksum_mismatches
        (dataset_id, path) of files whose content differs from the recorded checksum.
    pending_trash
        Paths still in the trash (their removal was committed but not finished).
    outside_root
        (dataset_id, path) of records whose relative path leads out of the
        root (``..``) or to the root itself; never followed, never deleted.
    not_owned
        Paths of unrecorded files the datastore did not write (outside the run
        folders, or named like a repository file); reported, never deleted.
    nested_repositories
        Directories below the root that hold a repository; skipped entirely.
    fixed
        True if ``fix=True`` removed orphans, emptied the trash and deleted the
        records of missing files.
    """

    orphan_files: list[str] = dataclasses.field(default_factory=list)
    missing_files: list[tuple[uuid.UUID, str]] = dataclasses.field(default_factory=list)
    size_mismatches: list[tuple[uuid.UUID, str, int, int]] = dataclasses.field(default_factory=list)
    checksum_mismatches: list[tuple[uuid.UUID, str]] = dataclasses.field(default_factory=list)
    pending_trash: list[str] = dataclasses.field(default_factory=list)
    outside_root: list[tuple[uuid.UUID, str]] = dataclasses.field(default_factory=list)
    not_owned: list[str] = dataclasses.field(default_factory=list)
    nested_repositories: list[str] = dataclasses.field(default_factory=list)
    fixed: bool = False

    @property
    def ok(self) -> bool:
        """True if no problem was found (files left alone are not problems)."""
        return not (
            self.orphan_files
            or self.missing_files
            or self.size_mismatches
            or self.checksum_mismatches
            or self.pending_trash
            or self.outside_root
        )

    def summary(self) -> str:
        """Summarise the report: one line per kind of problem (or ``OK``), then one per kind of file left alone.

        Returns
        -------
        text : `str`
            Newline-separated lines, each with a count and the first items.
        """
        lines = []
        for label, items in (
            ("files with no record", self.orphan_files),
            ("records whose file is missing", self.missing_files),
            ("size mismatches", self.size_mismatches),
            ("checksum mismatches", self.checksum_mismatches),
            ("files waiting in the trash", self.pending_trash),
            ("records whose path leads out of the root (left alone)", self.outside_root),
        ):
            if items:
                lines.append(f"{len(items)} {label}: {_first(items)}")
        if not lines:
            lines.append("OK")
        if self.not_owned:
            lines.append(
                f"{len(self.not_owned)} unrecorded (not owned; left alone): {_first(self.not_owned)}"
            )
        if self.nested_repositories:
            lines.append(
                f"{len(self.nested_repositories)} nested repositories (skipped; left alone): "
                f"{_first(self.nested_repositories)}"
            )
        return "\n".join(lines)


def _first(items: list[str] | list[tuple[uuid.UUID, str]] | list[tuple[uuid.UUID, str, int, int]]) -> str:
    return ", ".join(str(i) for i in items[:5]) + (", ..." if len(items) > 5 else "")


def _relative(path: str) -> str | None:
    """``path`` normalised, or None if it is absolute, the root itself or leads out of it."""
    if not path or posixpath.isabs(path):
        return None
    normal = posixpath.normpath(path)
    if normal == "." or normal == ".." or normal.startswith("../"):
        return None
    return normal


def _run_folders(runs: Iterable[str]) -> set[str]:
    """Return the folders datastore templates put runs' files in (``{run:/}``), normalised."""
    folders: set[str] = set()
    for run in runs:
        cleaned = re.sub(r"/{2,}", "/", _TEMPLATE_BAD_CHARS.sub("_", run)).strip("/")
        for spelling in (run, cleaned):
            folder = _relative(spelling)
            if folder is not None:
                folders.add(folder)
    return folders


def _in_folder(rel_dir: str, folders: set[str]) -> bool:
    """Tell whether the normalised relative directory ``rel_dir`` is one of ``folders`` or below one."""
    if rel_dir == ".":
        return False
    parts = rel_dir.split("/")
    return any("/".join(parts[:n]) in folders for n in range(1, len(parts) + 1))


def verify_datastore(
    datastore: FileDatastore,
    *,
    fix: bool = False,
    checksums: bool = True,
    ignore: Iterable[str] = (),
    runs: Iterable[str] = (),
) -> VerifyReport:
    """Compare the files under the datastore root with its records.

    Walks the root (not following symbolic links, skipping nested
    repositories), reads every datastore record and the trash (SQL, through
    the datastore's record storage) and stats every recorded file.

    Parameters
    ----------
    datastore
        The datastore.
    fix
        Remove orphans (unrecorded files under a run folder, and stale
        temporary files; a symbolic link is removed, never its target), empty
        the trash, and delete the records of files that are missing. Size and
        checksum mismatches, records leading out of the root and files not
        owned are only reported.
    checksums
        Recompute the checksum of files that have one recorded.
    ignore
        Relative paths of repository files that are not datasets (the config,
        the SQLite database); `~chamberlain.repository.REPOSITORY_FILES` are
        always ignored in the root.
    runs
        Names of the registered RUN collections: only files under their
        folders can be orphans.

    Returns
    -------
    VerifyReport
        What was found (and fixed).

    Notes
    -----
    Run it when no other process is writing: a file being put right now has
    no record yet and would be reported (and, with ``fix``, removed).
    """
    report = VerifyReport()
    root = str(datastore.root)
    ignored = {p for p in (_relative(i) for i in (*ignore, *REPOSITORY_FILES)) if p is not None}
    preexisting = read_preexisting(root)
    folders = _run_folders(runs)

    # Records: normalised paths and the identity of every file they name.
    recorded: set[str] = set()
    recorded_ids: set[tuple[int, int]] = set()
    real_root = os.path.realpath(root)
    dir_outside: dict[str, bool] = {}  # relative directory -> resolves (through links) out of the root
    for dataset_id, _component, path, _f, _sc, checksum, size in datastore.records.all_records():
        if os.path.isabs(path):
            full = path
            inside = os.path.relpath(os.path.realpath(path), real_root)
            if _relative(inside.replace(os.sep, "/")) is not None:
                recorded.add(posixpath.normpath(inside.replace(os.sep, "/")))
        else:
            rel = _relative(path)
            directory = posixpath.dirname(rel) if rel is not None else ""
            if rel is not None and directory not in dir_outside:
                real_dir = os.path.realpath(f"{root}/{directory}")
                dir_outside[directory] = real_dir != real_root and not real_dir.startswith(real_root + os.sep)
            if rel is None or dir_outside[directory]:
                report.outside_root.append((dataset_id, path))
                continue
            recorded.add(rel)
            full = f"{root}/{rel}"
        try:
            stat = os.stat(full)
        except FileNotFoundError:
            report.missing_files.append((dataset_id, path))
            continue
        recorded_ids.add((stat.st_dev, stat.st_ino))
        if size is not None and size >= 0 and stat.st_size != size:
            report.size_mismatches.append((dataset_id, path, size, stat.st_size))
        elif checksums and checksum is not None and file_checksum(full) != checksum:
            report.checksum_mismatches.append((dataset_id, path))
    trash = datastore.records.trash()
    report.pending_trash = sorted({p for _, p, _ in trash})
    trashed = {posixpath.normpath(p) for p in report.pending_trash}

    # Files: every unrecorded one is an orphan (ours) or not owned (left alone).
    for directory, dirs, files in os.walk(root, followlinks=False):
        rel_dir = posixpath.normpath(os.path.relpath(directory, root).replace(os.sep, "/"))
        if rel_dir != "." and any(m in files or m in dirs for m in REPOSITORY_MARKERS):
            report.nested_repositories.append(rel_dir)
            dirs.clear()
            continue
        dirs.sort()
        owned_dir = _in_folder(rel_dir, folders)
        for name in sorted(files):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if rel in recorded or rel in trashed or rel in ignored or rel in preexisting:
                continue
            if _same_as_recorded(f"{root}/{rel}", recorded_ids):
                continue
            if _TEMPORARY.fullmatch(name) is not None:
                # A write in progress (live process, or too recent to judge) is left alone.
                ours = is_stale_temporary(f"{root}/{rel}")
            else:
                ours = owned_dir and name not in REPOSITORY_FILES
            (report.orphan_files if ours else report.not_owned).append(rel)
    report.orphan_files.sort()
    report.not_owned.sort()
    report.nested_repositories.sort()

    if fix:
        for rel in report.orphan_files:
            _remove_inside(root, real_root, rel)
        if trash:
            datastore.empty_trash()
        if report.missing_files:
            with datastore.records.transaction():
                datastore.records.delete_records((i, c) for i, c in _missing_keys(datastore, report))
        report.fixed = True
    return report


def _same_as_recorded(full: str, recorded_ids: set[tuple[int, int]]) -> bool:
    """Tell whether ``full`` is (or links to) a file a record names under another spelling."""
    try:
        stat = os.stat(full)
    except OSError:
        return False
    return (stat.st_dev, stat.st_ino) in recorded_ids


def _remove_inside(root: str, real_root: str, rel: str) -> None:
    """Remove the file (or link) ``root/rel`` unless a directory on the way is a link out of the root."""
    parent, _, _ = rel.rpartition("/")
    expected = os.path.join(real_root, *parent.split("/")) if parent else real_root
    if os.path.realpath(os.path.join(root, *parent.split("/")) if parent else root) != expected:
        return
    with contextlib.suppress(FileNotFoundError):
        os.remove(f"{root}/{rel}")


def _missing_keys(datastore: FileDatastore, report: VerifyReport) -> list[tuple[uuid.UUID, str]]:
    missing = dict(report.missing_files)
    rows = datastore.records.fetch_many(missing)
    return [(r[0], r[1]) for dataset_rows in rows.values() for r in dataset_rows if r[2] == missing[r[0]]]
