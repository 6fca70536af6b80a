"""Printing rows as an aligned table, CSV or JSON (the ``--format`` option).

Every query-like command builds a list of rows (mappings from column name to
value) and calls `print_rows`. Values are shown as they are for strings,
numbers, booleans and None; lists and tuples become comma-separated text in a
table or CSV and JSON arrays in JSON; anything else is shown with `str`
(UUIDs, timespans, regions).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

__all__ = ["FORMATS", "format_option", "format_rows", "print_rows"]

FORMATS = ("table", "csv", "json")

F = TypeVar("F", bound=Callable[..., Any])


def format_option(function: F) -> F:
    """Decorator adding ``--format table|csv|json`` (parameter ``output_format``) to a command."""
    option = click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS, case_sensitive=False),
        default="table",
        show_default=True,
        help="Output format: an aligned table, CSV with a header row, or a JSON list of objects.",
    )
    return option(function)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_json_value(v) for v in items]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ",".join(_text(v) for v in items)
    if isinstance(value, Mapping):
        return json.dumps(_json_value(value))
    return str(value)


def format_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], output_format: str) -> str:
    """Render rows in one of `FORMATS`.

    Parameters
    ----------
    rows
        The rows; missing keys are shown as empty (null in JSON).
    columns
        Column names, in display order (also the header and the JSON keys).
    output_format
        ``"table"`` (aligned columns under a header and a dashed rule),
        ``"csv"`` (header row, then one row per line) or ``"json"`` (a list
        of objects keyed by column name).

    Returns
    -------
    str
        The text, ending in a newline.
    """
    fmt = output_format.lower()
    if fmt == "json":
        data = [{c: _json_value(row.get(c)) for c in columns} for row in rows]
        return json.dumps(data, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text(row.get(c)) for c in columns])
        return buffer.getvalue()
    if fmt != "table":
        raise ValueError(f"Unknown output format {output_format!r}; valid formats: {', '.join(FORMATS)}.")
    cells = [[_text(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines) + "\n"


def print_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], output_format: str) -> None:
    """Print rows to standard output with `format_rows`."""
    click.echo(format_rows(rows, columns, output_format), nl=False)
