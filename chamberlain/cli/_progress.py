"""Progress bars for long commands: on standard error, and only when it is a terminal."""

from __future__ import annotations

import sys
from typing import Any

import click

__all__ = ["progress_bar"]


def progress_bar(length: int, label: str) -> Any:
    """A `click.progressbar` of ``length`` steps on standard error (hidden unless it is a terminal).

    Use it as a context manager and call ``update(n)``; standard output stays
    free for the command's result.
    """
    stream = sys.stderr
    hidden = not stream.isatty()
    return click.progressbar(length=max(length, 1), label=label, file=stream, hidden=hidden)
