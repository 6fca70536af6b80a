"""Transfer modes for ingest: how a file gets into (or is referenced by) the datastore."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import time
from collections.abc import Callable

from chamberlain.errors import IngestError

#: Modes `FileDatastore.ingest` understands (None = already inside the root).
TRANSFER_MODES = (None, "auto", "direct", "copy", "move", "hardlink", "symlink", "relsymlink", "link")

#: A temporary left by a dead process is removed only once it is this many seconds old
#: (guards against a pid that another host, sharing the file system, is using right now).
STALE_AFTER = 30.0

_TEMPORARY_RE = re.compile(r"\A\..+\.tmp-([0-9]{1,10})\Z", re.DOTALL)


def temporary_name(target: str) -> str:
    """Return a temporary name in the directory of ``target`` (unique per process): ``.<name>.tmp-<pid>``.

    Parameters
    ----------
    target
        The final path.
    """
    head, slash, tail = target.rpartition("/")
    return f"{head}{slash}.{tail}.tmp-{os.getpid()}"


def remove_quietly(path: str) -> None:
    """Remove a file (or a link, never its target) if it exists.

    Parameters
    ----------
    path
        The file.
    """
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _process_is_alive(pid: int) -> bool:
    """Return False only if no process ``pid`` exists on this host."""
    if pid <= 0:
        return True  # not a process id we can reason about: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: alive, someone else's; others: keep the file
        return True
    return True


def is_stale_temporary(path: str, *, older_than: float = STALE_AFTER) -> bool:
    """Whether ``path`` is a temporary (``.<name>.tmp-<pid>``) that a dead process left.

    True only if the name has that form, its process does not exist on this host, it is not
    this process's, it is not a directory, and it was last modified more than ``older_than``
    seconds ago (the rules of `remove_stale_temporaries`).

    Parameters
    ----------
    path
        The file (not followed if it is a link).
    older_than
        Minimum age in seconds (modification time).

    Returns
    -------
    bool
        True if the file may be removed.
    """
    match = _TEMPORARY_RE.match(os.path.basename(path))
    if match is None:
        return False
    pid = int(match.group(1))
    if pid == os.getpid() or _process_is_alive(pid):
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return not stat.S_ISDIR(info.st_mode) and time.time() - info.st_mtime >= older_than


def remove_stale_temporaries(directory: str, *, older_than: float = STALE_AFTER) -> list[str]:
    """Remove the temporaries (``.<name>.tmp-<pid>``) that dead processes left in ``directory``.

    A temporary is removed only if its process does not exist
    (``os.kill(pid, 0)`` raises `ProcessLookupError`), it is not this
    process's, and it was last modified more than ``older_than`` seconds ago;
    a live process's temporary, or one too recent to judge, is kept. Only this
    one directory is read (one ``scandir``); links are removed, never followed.

    Parameters
    ----------
    directory
        The directory to clean.
    older_than
        Minimum age in seconds (modification time) of a temporary to remove.

    Returns
    -------
    removed : `list` [`str`]
        Paths of the files removed.
    """
    removed: list[str] = []
    try:
        entries = os.scandir(directory)
    except OSError:
        return removed
    with entries:
        for entry in entries:
            name = entry.name
            if name[:1] != "." or ".tmp-" not in name:
                continue
            if not is_stale_temporary(entry.path, older_than=older_than):
                continue
            try:
                os.remove(entry.path)
            except OSError:
                continue
            removed.append(entry.path)
    return removed


def check_move_source(source: str) -> None:
    """Refuse to ``move`` a symbolic link (the repository would hold a link to a file outside it).

    Parameters
    ----------
    source
        The file to be moved.

    Raises
    ------
    IngestError
        If ``source`` is a symbolic link; the message names it and its target.
    """
    if os.path.islink(source):
        raise IngestError(
            f"Cannot move {source}: it is a symbolic link (to {os.readlink(source)}), and moving it would "
            "leave the repository holding a link to a file outside it; ingest it with transfer 'copy' or "
            "'symlink', or move the file it points to."
        )


def transfer(source: str, target: str, mode: str) -> Callable[[], None]:
    """Put ``source`` at ``target`` by ``mode``; return the action that undoes it.

    The target appears atomically (created under a temporary name, then
    renamed), replacing any file already there.

    Parameters
    ----------
    source
        The file to transfer (absolute). For ``move`` it must not be a symbolic link.
    target
        Where it goes (absolute; its directory exists).
    mode
        ``move``, ``copy``, ``hardlink``, ``link``, ``symlink`` or ``relsymlink``.

    Raises
    ------
    IngestError
        If the transfer fails (the message names both paths and the mode), or
        ``source`` of a ``move`` is a symbolic link.
    """
    tmp = temporary_name(target)
    try:
        remove_quietly(tmp)  # never write through a link someone left under the temporary name
        if mode == "move":
            check_move_source(source)
            try:
                os.replace(source, target)
            except OSError:  # another file system
                shutil.copy2(source, tmp)
                os.replace(tmp, target)
                os.remove(source)
            return lambda: _move_back(target, source)
        if mode == "copy":
            shutil.copyfile(source, tmp)
        elif mode == "hardlink":
            os.link(source, tmp)
        elif mode == "link":
            try:
                os.link(source, tmp)
            except OSError:
                os.symlink(source, tmp)
        elif mode == "symlink":
            os.symlink(source, tmp)
        elif mode == "relsymlink":
            os.symlink(os.path.relpath(source, os.path.dirname(target)), tmp)
        else:  # pragma: no cover - checked by the caller
            raise IngestError(f"Unknown transfer mode {mode!r}.")
        os.replace(tmp, target)
    except OSError as err:
        remove_quietly(tmp)
        raise IngestError(f"Cannot {mode} {source} to {target}: {err.strerror or err}.") from None
    return lambda: remove_quietly(target)


def _move_back(target: str, source: str) -> None:
    with contextlib.suppress(OSError):
        try:
            os.replace(target, source)
        except OSError:
            shutil.move(target, source)
