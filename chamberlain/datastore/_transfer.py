"""Transfer modes for ingest: how a file gets into (or is referenced by) the datastore."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable

from chamberlain.errors import IngestError

#: Modes `FileDatastore.ingest` understands (None = already inside the root).
TRANSFER_MODES = (None, "auto", "direct", "copy", "move", "hardlink", "symlink", "relsymlink", "link")


def temporary_name(target: str) -> str:
    """A temporary name in the directory of ``target`` (unique per process)."""
    head, slash, tail = target.rpartition("/")
    return f"{head}{slash}.{tail}.tmp-{os.getpid()}"


def remove_quietly(path: str) -> None:
    """Remove a file if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def transfer(source: str, target: str, mode: str) -> Callable[[], None]:
    """Put ``source`` at ``target`` by ``mode``; return the action that undoes it.

    The target appears atomically (created under a temporary name, then
    renamed), replacing any file already there.

    Raises
    ------
    IngestError
        If the transfer fails (the message names both paths and the mode).
    """
    tmp = temporary_name(target)
    try:
        if mode == "move":
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
            remove_quietly(tmp)
            os.link(source, tmp)
        elif mode == "link":
            remove_quietly(tmp)
            try:
                os.link(source, tmp)
            except OSError:
                os.symlink(source, tmp)
        elif mode == "symlink":
            remove_quietly(tmp)
            os.symlink(source, tmp)
        elif mode == "relsymlink":
            remove_quietly(tmp)
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
