"""The table of files that `Butler.ingest_files` (``chamberlain ingest-files``) reads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from chamberlain.errors import ConfigError, format_choices

__all__ = ["FILE_COLUMN", "read_file_table"]

#: The column of an ``ingest-files`` table that holds the file paths.
FILE_COLUMN = "file"


def read_file_table(table: str | os.PathLike[str]) -> tuple[list[Path], list[dict[str, Any]]]:
    """Read an ``ingest-files`` table: file paths and one data ID mapping per row.

    Parameters
    ----------
    table
        An ECSV (``.ecsv``) or CSV file read with astropy, with a header
        row. The ``file`` column holds paths, absolute or relative to the
        table's directory; every other column is a data ID key.

    Returns
    -------
    tuple[list[pathlib.Path], list[dict]]
        Absolute paths and, for each, the data ID values of its row (numbers
        as Python ints or floats, text as str; empty cells left out).

    Raises
    ------
    ConfigError
        If the file cannot be read as a table, has no ``file`` column, or no rows.
    """
    import astropy.table
    import numpy as np

    path = Path(table)
    if not path.is_file():
        raise ConfigError(f"Table file {str(table)!r} does not exist.")
    fmt = "ascii.ecsv" if path.suffix.lower() == ".ecsv" else "ascii.csv"
    try:
        data = astropy.table.Table.read(path, format=fmt)
    except Exception as err:  # astropy raises many kinds of errors for malformed tables
        message = " ".join(str(err).split())
        raise ConfigError(f"Cannot read {str(table)!r} as an {fmt[6:].upper()} table: {message}") from None
    columns = list(data.colnames)
    if FILE_COLUMN not in columns:
        raise ConfigError(
            f"Table {str(table)!r} has no {FILE_COLUMN!r} column (its columns: {format_choices(columns)}); "
            f"it needs a {FILE_COLUMN!r} column of paths and one column per data ID key."
        )
    if len(data) == 0:
        raise ConfigError(f"Table {str(table)!r} has no rows.")
    base = path.absolute().parent
    paths: list[Path] = []
    rows: list[dict[str, Any]] = []
    masked = {c: np.ma.getmaskarray(data[c]) for c in columns}
    for i, row in enumerate(data):
        if masked[FILE_COLUMN][i] or not str(row[FILE_COLUMN]).strip():
            raise ConfigError(f"Row {i + 1} of table {str(table)!r} has an empty {FILE_COLUMN!r} cell.")
        paths.append(base / os.path.expanduser(str(row[FILE_COLUMN]).strip()))
        values: dict[str, Any] = {}
        for column in columns:
            if column == FILE_COLUMN or masked[column][i]:
                continue
            value = row[column]
            values[column] = value.item() if isinstance(value, np.generic) else value
        rows.append(values)
    return paths, rows
