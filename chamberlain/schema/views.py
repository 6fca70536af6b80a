"""Readable SQL views for analysts (documented in ``docs/sql.md``).

* ``dataset_view``: one row per dataset with its type name, RUN name, ingest
  time (integer and ISO UTC), storage class and file path;
* ``datasets_<dimensions>``: one per dimension group of registered dataset
  types (named after its ``dataset_tags_<dimensions>`` table), the same plus
  the data-ID columns, so ``SELECT * FROM datasets_instrument_visit_detector``
  lists calexps with their visit and detector;
* ``visit_detector_patch`` and ``visit_patch``: the stored exact overlaps with
  the visit's band, physical_filter and day_obs alongside;
* ``<element>_utc`` for every temporal element (``exposure_utc``,
  ``visit_utc``, ``day_obs_utc``): every column of the table plus
  ``timespan_begin_utc``/``timespan_end_utc`` as ISO 8601 UTC strings
  (``2024-03-01T12:00:00.000``). The integer columns stay TAI nanoseconds.

Views are plain ``CREATE VIEW`` statements over the same tables, so the same
analyst SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from ..dimensions import DimensionUniverse

__all__ = ["create_dataset_view", "create_views", "tai_ns_to_utc_iso", "view_names"]

#: (UTC date a leap second took effect, TAI - UTC in seconds from then on).
_LEAP_SECONDS = [
    ((1972, 1, 1), 10), ((1972, 7, 1), 11), ((1973, 1, 1), 12), ((1974, 1, 1), 13), ((1975, 1, 1), 14),
    ((1976, 1, 1), 15), ((1977, 1, 1), 16), ((1978, 1, 1), 17), ((1979, 1, 1), 18), ((1980, 1, 1), 19),
    ((1981, 7, 1), 20), ((1982, 7, 1), 21), ((1983, 7, 1), 22), ((1985, 7, 1), 23), ((1988, 1, 1), 24),
    ((1990, 1, 1), 25), ((1991, 1, 1), 26), ((1992, 7, 1), 27), ((1993, 7, 1), 28), ((1994, 7, 1), 29),
    ((1996, 1, 1), 30), ((1997, 7, 1), 31), ((1999, 1, 1), 32), ((2006, 1, 1), 33), ((2009, 1, 1), 34),
    ((2012, 7, 1), 35), ((2015, 7, 1), 36), ((2017, 1, 1), 37),
]  # fmt: skip


def tai_ns_to_utc_iso(column: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    """Build SQL turning TAI nanoseconds since 1970 into an ISO UTC string with milliseconds.

    TAI - UTC comes from the leap-second table (10 s before 1972, an
    approximation; 37 s since 2017). NULL stays NULL.

    Parameters
    ----------
    column : `sqlalchemy.ColumnElement`
        An integer column of TAI nanoseconds.
    dialect : `str`
        ``"sqlite"`` or ``"postgresql"``.

    Returns
    -------
    expression : `sqlalchemy.ColumnElement`
        A string-valued SQL expression.
    """
    whens = []
    for (y, m, d), offset in reversed(_LEAP_SECONDS):
        threshold = (calendar.timegm((y, m, d, 0, 0, 0)) + offset) * 1_000_000_000
        whens.append((column >= threshold, offset))
    leap = sa.case(*whens, else_=10)
    seconds = sa.cast(column, sa.Float(precision=53)) / 1e9 - leap
    if dialect == "sqlite":
        return sa.func.strftime("%Y-%m-%dT%H:%M:%f", seconds, "unixepoch")
    stamp = sa.func.timezone("UTC", sa.func.to_timestamp(seconds))
    return sa.func.to_char(stamp, 'YYYY-MM-DD"T"HH24:MI:SS.MS')


def _create(conn: sa.Connection, name: str, select: sa.Select) -> None:
    sql = select.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f'DROP VIEW IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE VIEW "{name}" AS {sql}')
    else:  # no DROP: concurrent registrations must not fight over the view
        conn.exec_driver_sql(f'CREATE OR REPLACE VIEW "{name}" AS {sql}')


def _dataset_columns(tables: Mapping[str, sa.Table], dialect: str) -> tuple[list[Any], Any]:
    dataset, dtype, coll = tables["dataset"], tables["dataset_type"], tables["collection"]
    records = tables["datastore_record"]
    cols = [
        dataset.c.id.label("dataset_id"),
        dtype.c.name.label("dataset_type"),
        coll.c.name.label("run"),
        dataset.c.ingest_date,
        tai_ns_to_utc_iso(dataset.c.ingest_date, dialect).label("ingest_date_utc"),
        dtype.c.storage_class,
        records.c.path,
    ]
    from_ = (
        dataset.join(dtype, dtype.c.id == dataset.c.dataset_type_id)
        .join(coll, coll.c.collection_id == dataset.c.run_id)
        .outerjoin(records, sa.and_(records.c.dataset_id == dataset.c.id, records.c.component == ""))
    )
    return cols, from_


def dataset_view_name(tags_name: str) -> str:
    """Return the name of the view over a ``dataset_tags_<dims>`` table: ``datasets_<dims>``."""
    return "datasets_" + tags_name.removeprefix("dataset_tags_")


def create_dataset_view(conn: sa.Connection, tables: Mapping[str, sa.Table], tags: sa.Table) -> None:
    """(Re)create the ``datasets_<dims>`` view over one per-dimension-group tags table.

    Runs DDL on ``conn``.

    Parameters
    ----------
    conn : `sqlalchemy.Connection`
        An open connection to the repository database.
    tables : `~collections.abc.Mapping` [`str`, `sqlalchemy.Table`]
        The repository's tables, by name.
    tags : `sqlalchemy.Table`
        The tags table the view reads.
    """
    cols, from_ = _dataset_columns(tables, conn.dialect.name)
    dataset = tables["dataset"]
    dims = [c for c in tags.columns if c.name not in ("dataset_type_id", "dataset_id", "collection_id")]
    from_ = from_.join(
        tags, sa.and_(tags.c.dataset_id == dataset.c.id, tags.c.collection_id == dataset.c.run_id)
    )
    _create(conn, dataset_view_name(tags.name), sa.select(*cols[:3], *dims, *cols[3:]).select_from(from_))


def view_names(universe: DimensionUniverse) -> list[str]:
    """Return the names of the views every repository has (per-dataset-group views come on top).

    Parameters
    ----------
    universe : `DimensionUniverse`
        The dimension universe (each temporal element has a ``<name>_utc`` view).

    Returns
    -------
    names : `list` [`str`]
        The view names.
    """
    names = ["dataset_view", "visit_detector_patch", "visit_patch"]
    names += [f"{el.name}_utc" for el in universe.elements if el.has_table and el.temporal]
    return names


def create_views(conn: sa.Connection, tables: Mapping[str, sa.Table], universe: DimensionUniverse,
                 tags_tables: Iterable[sa.Table] = ()) -> None:  # fmt: skip
    """(Re)create every view; run when a repository is created (inside its transaction).

    Runs DDL on ``conn``; a view whose overlap table is absent is skipped.

    Parameters
    ----------
    conn, tables
        As for `create_dataset_view`.
    universe : `DimensionUniverse`
        The repository's dimension universe.
    tags_tables : iterable of `sqlalchemy.Table`, optional
        Tags tables that get a ``datasets_<dims>`` view too.
    """
    dialect = conn.dialect.name
    cols, from_ = _dataset_columns(tables, dialect)
    _create(conn, "dataset_view", sa.select(*cols).select_from(from_))
    visit = tables["visit"]
    extra = [visit.c.physical_filter, tables["physical_filter"].c.band, visit.c.day_obs]
    pf = tables["physical_filter"]
    for name, overlap in (
        ("visit_detector_patch", "visit_detector_region_patch_overlap"),
        ("visit_patch", "visit_patch_overlap"),
    ):
        table = tables.get(overlap)
        if table is None:
            continue
        from_v = table.join(
            visit, sa.and_(visit.c.instrument == table.c.instrument, visit.c.id == table.c.visit)
        )
        from_v = from_v.join(
            pf, sa.and_(pf.c.instrument == visit.c.instrument, pf.c.name == visit.c.physical_filter)
        )
        _create(conn, name, sa.select(*table.columns, *extra).select_from(from_v))
    for el in universe.elements:
        if el.has_table and el.temporal:
            table = tables[el.name]
            _create(
                conn,
                f"{el.name}_utc",
                sa.select(
                    *[c for c in table.columns if c.name != "region"],
                    tai_ns_to_utc_iso(table.c.timespan_begin, dialect).label("timespan_begin_utc"),
                    tai_ns_to_utc_iso(table.c.timespan_end, dialect).label("timespan_end_utc"),
                ),
            )
    for tags in tags_tables:
        create_dataset_view(conn, tables, tags)
