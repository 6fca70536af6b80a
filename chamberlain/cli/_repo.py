"""Shared pieces of commands that work on a repository: the REPO argument and opening it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import astropy.time
import click

from chamberlain.errors import ConfigError
from chamberlain.geometry.timespan import time_to_ns
from chamberlain.registry import Registry
from chamberlain.repository import RepositoryConfig

__all__ = ["TAI_RANGE", "TRANSFERS", "open_registry", "parse_tai_date", "repo_argument", "transfer_option"]

#: First and last TAI times a `Timespan` can store (signed 64-bit nanoseconds since 1970).
TAI_RANGE = ("1677-09-21T00:12:43.145224192", "2262-04-11T23:47:16.854775807")

#: The ``--transfer`` choices: the file transfer modes of `chamberlain.tasks.ingest_raws.TRANSFER_CHOICES`
#: (written out here so that loading the CLI does not import the tasks).
TRANSFERS = ("auto", "direct", "copy", "move", "hardlink", "symlink", "relsymlink", "link")

F = TypeVar("F", bound=Callable[..., Any])


def repo_argument(function: F) -> F:
    """Decorator adding the ``REPO`` argument (parameter ``repo``): a repository directory."""
    return click.argument("repo", type=click.Path(file_okay=False, path_type=str))(function)


def transfer_option(help_text: str, *, short: bool = True) -> Callable[[F], F]:
    """Decorator adding ``--transfer`` (parameter ``transfer``; one of `TRANSFERS`, default ``auto``).

    Parameters
    ----------
    help_text : `str`
        The option's help: how the command's files get into the repository.
    short : `bool`, optional
        Also accept ``-t``.

    Returns
    -------
    decorator : `~collections.abc.Callable`
        The click option decorator.
    """
    names = ("--transfer", "-t") if short else ("--transfer",)
    return click.option(
        *names, type=click.Choice(TRANSFERS), default="auto", show_default=True, help=help_text
    )


@contextlib.contextmanager
def open_registry(repo: str, *, writeable: bool = True) -> Iterator[Registry]:
    """Open the registry of the repository directory ``repo`` and close it afterwards.

    Reads ``chamberlain.yaml`` (`RepositoryConfig.load`) for the database URL
    and namespace, then calls `Registry.open`.

    Raises
    ------
    ConfigError
        If ``repo`` is not a repository directory.
    SchemaVersionError
        If the database schema is not at this Chamberlain's revision.
    """
    config = RepositoryConfig.load(repo)
    registry = Registry.open(config.url, namespace=config.namespace, writeable=writeable)
    try:
        yield registry
    finally:
        registry.close()


def parse_tai_date(value: str | None, option: str) -> int | None:
    """Parse an ISO date or date-time in TAI into nanoseconds (None stays None: unbounded).

    Parameters
    ----------
    value
        ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS[.fff]`` or ``YYYY-MM-DD HH:MM:SS``.
    option
        The option name, for the error message.

    Raises
    ------
    ConfigError
        If the value is not an ISO date, or is outside the range a timespan
        can store (`TAI_RANGE`, about 1677-09-21 to 2262-04-11).
    """
    if value is None:
        return None
    try:
        time = astropy.time.Time(value.strip(), format="isot" if "T" in value else "iso", scale="tai")
    except ValueError:
        raise ConfigError(
            f"{option} {value!r} is not an ISO date in TAI; use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS."
        ) from None
    try:
        return time_to_ns(time)
    except ValueError:
        raise ConfigError(
            f"{option} {value!r} is outside the supported range of dates, {TAI_RANGE[0]} to "
            f"{TAI_RANGE[1]} TAI (nanoseconds since 1970 in a signed 64-bit integer)."
        ) from None
