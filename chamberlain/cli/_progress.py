"""Progress bars for long commands: on standard error, and only when it is a terminal."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click

from chamberlain._progress import ProgressCallback

__all__ = ["progress_bar", "progress_callback"]


def progress_bar(length: int, label: str) -> Any:
    """A `click.progressbar` of ``length`` steps on standard error (hidden unless it is a terminal).

    Use it as a context manager and call ``update(n)``; standard output stays
    free for the command's result.
    """
    stream = sys.stderr
    hidden = not stream.isatty()
    return click.progressbar(length=max(length, 1), label=label, file=stream, hidden=hidden)


def progress_callback(stack: contextlib.ExitStack, label: str) -> ProgressCallback:
    """Return a `~chamberlain._progress.ProgressCallback` drawing a `progress_bar`.

    The bar is opened (in ``stack``, so it closes with it) at the first call, when
    the total is known, and moved forward to ``done`` at every call.

    Parameters
    ----------
    stack : `contextlib.ExitStack`
        The stack that closes the bar.
    label : `str`
        The bar's label.

    Returns
    -------
    progress : `~chamberlain._progress.ProgressCallback`
        The callback to hand to a library call.
    """
    bar: Any = None
    shown = 0

    def progress(done: int, total: int) -> None:
        nonlocal bar, shown
        if bar is None:
            bar = stack.enter_context(progress_bar(total, label))
        if done > shown:
            bar.update(done - shown)
            shown = done

    return progress
