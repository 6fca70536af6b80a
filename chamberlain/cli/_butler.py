"""Shared pieces of commands that work through a `Butler`: opening it, collection and limit options."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import click
import lsst.sphgeom as sg

from chamberlain.butler import Butler
from chamberlain.errors import MissingCollectionError
from chamberlain.geometry import Timespan

__all__ = [
    "abbreviate",
    "collections_option",
    "expand_collections",
    "explain",
    "find_first_option",
    "limit_option",
    "note",
    "open_butler",
    "order_by_option",
    "split_names",
    "where_option",
]

F = TypeVar("F", bound=Callable[..., Any])

_GLOB = frozenset("*?[")


@contextlib.contextmanager
def open_butler(repo: str, *, writeable: bool = False) -> Iterator[Butler]:
    """Open the repository directory ``repo`` as a `Butler` and close it afterwards.

    Raises
    ------
    ConfigError
        If ``repo`` is not a repository directory.
    """
    butler = Butler(repo, writeable=writeable)
    try:
        yield butler
    finally:
        butler.close()


def split_names(values: Iterable[str]) -> list[str]:
    """Names from repeatable, comma-separated option values, in order, without duplicates."""
    out: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if name and name not in out:
                out.append(name)
    return out


def expand_collections(butler: Butler, values: Iterable[str]) -> list[str]:
    """Collection names from ``--collections`` values; glob patterns expand to the matching names (sorted).

    Raises
    ------
    MissingCollectionError
        If a pattern matches no collection (plain names are checked by the query itself).
    """
    out: list[str] = []
    for name in split_names(values):
        if _GLOB & set(name):
            matched = butler.registry.query_collections(name)
            if not matched:
                raise MissingCollectionError(f"Collection pattern {name!r} matches no collection.")
            out += [m for m in matched if m not in out]
        elif name not in out:
            out.append(name)
    return out


def collections_option(*, required: bool = False, help_text: str) -> Callable[[F], F]:
    """Decorator adding ``--collections`` (parameter ``collections``; repeatable, comma-separated)."""
    return click.option(
        "--collections",
        "collections",
        multiple=True,
        required=required,
        metavar="COLLECTION[,...]",
        help=help_text,
    )


def find_first_option(help_text: str) -> Callable[[F], F]:
    """Decorator adding ``--find-first/--no-find-first`` (parameter ``find_first``; default on).

    Parameters
    ----------
    help_text : `str`
        The option's help: what find-first means for the command.

    Returns
    -------
    decorator : `~collections.abc.Callable`
        The click option decorator.
    """
    return click.option(
        "--find-first/--no-find-first",
        "find_first",
        default=True,
        show_default=True,
        help=help_text,
    )


def where_option(function: F) -> F:
    """Decorator adding ``--where`` (parameter ``where``): a query expression."""
    return click.option(
        "--where",
        default="",
        metavar="EXPR",
        help="A where expression constraining the results, e.g. \"instrument = 'SimCam' AND visit > 10\".",
    )(function)


def limit_option(function: F) -> F:
    """Decorator adding ``--limit`` (parameter ``limit``); None means no limit, as in the Python API."""
    return click.option(
        "--limit",
        type=int,
        default=None,
        help="Print at most this many rows (a positive integer; default all). A note on standard "
        "error says when rows were left out.",
    )(function)


def order_by_option(function: F) -> F:
    """Decorator adding ``--order-by`` (parameter ``order_by``; repeatable, comma-separated)."""
    return click.option(
        "--order-by",
        "order_by",
        multiple=True,
        metavar="NAME[,...]",
        help="Sort by these dimensions or record fields (prefix '-' for descending); repeatable.",
    )(function)


def abbreviate(value: Any) -> Any:
    """A short text for regions (type, vertex count, centre) and timespans; other values unchanged."""
    if isinstance(value, sg.Region):
        centre = sg.LonLat(value.getBoundingCircle().getCenter())
        ra = centre.getLon().asDegrees()
        dec = centre.getLat().asDegrees()
        kind = type(value).__name__
        if isinstance(value, sg.ConvexPolygon):
            kind += f"[{len(value.getVertices())}]"
        return f"{kind}@({ra:.4f}, {dec:+.4f})"
    if isinstance(value, Timespan):
        return str(value)
    return value


def explain(reasons: list[str], shown: int = 3) -> str:
    """``": reason; reason; ... and N more"`` from `explain_no_results` (each reason's first line)."""
    if not reasons:
        return "."
    lines = [r.strip().splitlines()[0].rstrip(". ") for r in reasons if r.strip()]
    # Reasons about the constraints first: "no datasets of type X" is noise when many types were searched.
    lines.sort(key=lambda line: "has no datasets of type" in line)
    more = f"; and {len(lines) - shown} more" if len(lines) > shown else ""
    return ": " + "; ".join(lines[:shown]) + more + "."


def note(message: str) -> None:
    """Print a note on standard error (not an error: the exit status is unchanged)."""
    click.echo(f"note: {message}", err=True)
