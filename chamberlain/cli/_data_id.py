"""The ``--data-id KEY=VALUE`` option shared by commands that take fixed data ID values."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from chamberlain.errors import ConfigError

__all__ = ["data_id_option", "parse_data_id"]

F = TypeVar("F", bound=Callable[..., Any])


def data_id_option(help_text: str) -> Callable[[F], F]:
    """Decorator adding ``--data-id KEY=VALUE`` (parameter ``data_id``; repeatable).

    Parameters
    ----------
    help_text
        The option's help text.
    """
    return click.option("--data-id", "data_id", multiple=True, metavar="KEY=VALUE", help=help_text)


def parse_data_id(items: Iterable[str]) -> dict[str, Any]:
    """A data ID from ``KEY=VALUE`` texts: integer-looking values become ints, others stay text.

    Parameters
    ----------
    items
        The option values, e.g. ``("instrument=SimCam", "detector=4")``.

    Raises
    ------
    ConfigError
        If an item has no ``=``, an empty key, or repeats a key with another value.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key:
            raise ConfigError(f"--data-id {item!r} is not KEY=VALUE (for example detector=4).")
        try:
            value: Any = int(text)
        except ValueError:
            value = text
        if key in out and out[key] != value:
            raise ConfigError(f"--data-id gives {key!r} twice, as {out[key]!r} and {value!r}.")
        out[key] = value
    return out
