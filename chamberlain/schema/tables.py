"""SQLAlchemy Core table definitions: static tables and tables generated from the universe.

The schema is a public contract for analysts (``docs/sql.md``):

* one table per dimension element, named after it; columns for the element's
  required dimensions are named after those dimensions (``instrument``,
  ``visit``), its own key keeps its key name (``id``, ``name``), implied
  dimensions are NOT NULL foreign-key columns named after the dimension;
* spatial elements have a ``region`` column (the lsst.sphgeom binary encoding)
  and a ``<element>_skypix`` index table; temporal elements have
  ``timespan_begin``/``timespan_end`` (TAI nanoseconds, NULL = unbounded);
* ``<a>_<b>_overlap`` tables hold the exact overlaps between observation
  regions and skymap regions, computed once when records are inserted;
* datasets live in ``dataset``; their data IDs and collection memberships in
  one ``dataset_tags_<n>`` table per dimension group, validity ranges in
  ``dataset_calibs_<n>``.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.schema import SchemaItem

from ..dimensions import ColumnSpec, DimensionElement, DimensionGroup, DimensionUniverse

#: Bumped whenever the static schema changes; recorded in ``repository_attribute``.
SCHEMA_VERSION = "1.0.0"


def _serial_key(name: str) -> sa.Column[int]:
    """Make an auto-incremented integer primary key: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite."""
    return sa.Column(
        name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def column_type(spec: ColumnSpec) -> sa.types.TypeEngine:
    """Return the SQLAlchemy type for a dimension column spec.

    Parameters
    ----------
    spec : `ColumnSpec`
        A column of a dimension element (type ``int``, ``float``, ``bool``,
        ``string`` or ``hash``).

    Returns
    -------
    type : `sqlalchemy.types.TypeEngine`
        BIGINT, double-precision FLOAT, BOOLEAN, VARCHAR(length) or a
        large binary type of ``nbytes``.
    """
    if spec.type == "int":
        return sa.BigInteger()
    if spec.type == "float":
        return sa.Float(precision=53)
    if spec.type == "bool":
        return sa.Boolean()
    if spec.type == "string":
        return sa.String(spec.length)
    if spec.type == "hash":
        return sa.LargeBinary(spec.nbytes)
    raise AssertionError(spec.type)


def spatial_pairs(universe: DimensionUniverse) -> Iterator[tuple[DimensionElement, DimensionElement]]:
    """Yield the pairs of spatial elements in different families whose overlaps are stored.

    Every member of the first configured spatial family is paired with every
    member of each later family (observation regions x skymap regions).

    Parameters
    ----------
    universe : `DimensionUniverse`
        The dimension universe.

    Yields
    ------
    pair : `tuple` [`DimensionElement`, `DimensionElement`]
        An element of an earlier family and one of a later family.
    """
    families = list(universe.spatial_families.values())
    for i, fam_a in enumerate(families):
        for fam_b in families[i + 1 :]:
            for a in fam_a:
                for b in fam_b:
                    yield universe[a], universe[b]


def overlap_table_name(a: DimensionElement, b: DimensionElement) -> str:
    """Return the name of the table storing exact overlaps between elements ``a`` and ``b``.

    Parameters
    ----------
    a, b : `DimensionElement`
        The two spatial elements, in the order of `spatial_pairs`.

    Returns
    -------
    name : `str`
        ``"<a>_<b>_overlap"``.
    """
    return f"{a.name}_{b.name}_overlap"


def _key_columns(element: DimensionElement) -> list[tuple[str, ColumnSpec]]:
    """(column name in other tables, spec) for each dimension identifying a record."""
    return [(d.name, d.primary_key) for d in element.required]


def _fk_to(
    element: DimensionElement, local_names: list[str], ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    target_cols = [d.name if d is not element else d.primary_key.name for d in element.required]
    return sa.ForeignKeyConstraint(
        local_names, [f"{element.name}.{c}" for c in target_cols], ondelete=ondelete
    )


def add_dimension_tables(metadata: sa.MetaData, universe: DimensionUniverse) -> None:
    """Add one table per element, plus sky-pixel index and overlap tables.

    Parameters
    ----------
    metadata : `sqlalchemy.MetaData`
        The metadata to add the tables to (nothing runs against a database).
    universe : `DimensionUniverse`
        The dimension universe whose elements get tables.
    """
    for element in universe.elements:
        if not element.has_table:
            continue
        columns: list[SchemaItem] = []
        for spec in element.columns():
            columns.append(
                sa.Column(spec.name, column_type(spec), nullable=spec.nullable, comment=spec.doc or None)
            )
        pk = [d.name for d in element.key_dimensions]
        if element.is_dimension:
            pk.append(element.primary_key.name)  # type: ignore[attr-defined]
            for alt in element.alternate_keys:  # type: ignore[attr-defined]
                columns.append(sa.UniqueConstraint(*[d.name for d in element.key_dimensions], alt.name))
        columns.append(sa.PrimaryKeyConstraint(*pk))
        for dep in element.key_dimensions:
            if dep.has_table:
                names = [d.name for d in dep.required]
                columns.append(_fk_to(dep, names, ondelete="CASCADE" if dep.governor else None))
        for dep in element.implied:
            if dep.has_table:
                names = [d.name for d in dep.required]
                columns.append(_fk_to(dep, names))
        if element.spatial:
            columns.append(sa.Column("region", sa.LargeBinary(), nullable=True))
        if element.temporal:
            columns.append(sa.Column("timespan_begin", sa.BigInteger(), nullable=True))
            columns.append(sa.Column("timespan_end", sa.BigInteger(), nullable=True))
        sa.Table(element.name, metadata, *columns, comment=element.doc or None, sqlite_with_rowid=False)
        if element.spatial:
            # Keyed pixel-first with no foreign key: appending index rows is the hot path of region
            # inserts, lookups are by pixel, and rows are removed by (pixel, key) when a region is
            # replaced. Rows whose record is gone match nothing in joins with the element's table.
            key_names = [n for n, _ in _key_columns(element)]
            sa.Table(
                f"{element.name}_skypix",
                metadata,
                sa.Column("skypix", sa.BigInteger(), nullable=False),
                *[sa.Column(n, column_type(s), nullable=False) for n, s in _key_columns(element)],
                sa.PrimaryKeyConstraint("skypix", *key_names),
                comment=f"Pixels of the common sky pixelization ({universe.common_skypix.name}) that may "
                f"overlap each {element.name} region.",
                sqlite_with_rowid=False,
            )
    for a, b in spatial_pairs(universe):
        a_cols, b_cols = _key_columns(a), _key_columns(b)
        sa.Table(
            overlap_table_name(a, b),
            metadata,
            *[sa.Column(n, column_type(s), nullable=False) for n, s in a_cols + b_cols],
            sa.PrimaryKeyConstraint(*[n for n, _ in a_cols + b_cols]),
            _fk_to(a, [n for n, _ in a_cols], ondelete="CASCADE"),
            _fk_to(b, [n for n, _ in b_cols], ondelete="CASCADE"),
            sa.Index(f"{a.name}_{b.name}_overlap_rev_idx", *[n for n, _ in b_cols]),
            comment=f"Pairs of {a.name} and {b.name} records whose regions overlap (exact test).",
            sqlite_with_rowid=False,
        )


def add_static_tables(metadata: sa.MetaData) -> None:
    """Add the tables that do not depend on the universe.

    Parameters
    ----------
    metadata : `sqlalchemy.MetaData`
        The metadata to add the tables to (nothing runs against a database).
    """
    sa.Table(
        "repository_attribute",
        metadata,
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        comment="Key/value facts about the repository: schema version, universe.",
    )
    sa.Table(
        "collection",
        metadata,
        _serial_key("collection_id"),
        sa.Column("name", sa.String(256), nullable=False, unique=True),
        sa.Column(
            "type", sa.SmallInteger(), nullable=False, comment="1=RUN 2=TAGGED 3=CHAINED 4=CALIBRATION"
        ),
        sa.Column("doc", sa.Text(), nullable=True),
    )
    sa.Table(
        "run",
        metadata,
        sa.Column(
            "collection_id",
            sa.BigInteger(),
            sa.ForeignKey("collection.collection_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("host", sa.String(128), nullable=True),
    )
    sa.Table(
        "collection_chain",
        metadata,
        sa.Column(
            "parent",
            sa.BigInteger(),
            sa.ForeignKey("collection.collection_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("child", sa.BigInteger(), sa.ForeignKey("collection.collection_id"), nullable=False),
        sa.Index("collection_chain_child_idx", "child"),
    )
    sa.Table(
        "dimension_group",
        metadata,
        _serial_key("id"),
        sa.Column(
            "names", sa.Text(), nullable=False, unique=True, comment="Required dimension names, sorted."
        ),
    )
    sa.Table(
        "dataset_type",
        metadata,
        _serial_key("id"),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("storage_class", sa.String(64), nullable=False),
        sa.Column("dimension_group_id", sa.BigInteger(), sa.ForeignKey("dimension_group.id"), nullable=False),
        sa.Column("dimensions", sa.Text(), nullable=False, comment="Dimension names, space-separated."),
        sa.Column("is_calibration", sa.Boolean(), nullable=False),
        sa.Column("tag_table", sa.String(64), nullable=False),
        sa.Column("calib_table", sa.String(64), nullable=True),
    )
    sa.Table(
        "dataset",
        metadata,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("dataset_type_id", sa.BigInteger(), sa.ForeignKey("dataset_type.id"), nullable=False),
        sa.Column(
            "run_id", sa.BigInteger(), sa.ForeignKey("run.collection_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("ingest_date", sa.BigInteger(), nullable=False, comment="TAI nanoseconds since 1970."),
        sa.Index("dataset_run_idx", "run_id"),
        sa.Index("dataset_type_idx", "dataset_type_id"),
    )
    sa.Table(
        "datastore_record",
        metadata,
        sa.Column("dataset_id", sa.Uuid(), sa.ForeignKey("dataset.id"), primary_key=True),
        sa.Column("component", sa.String(64), primary_key=True, comment="'' for the whole dataset."),
        sa.Column("path", sa.Text(), nullable=False, comment="Relative to the repository root, or absolute."),
        sa.Column("formatter", sa.String(128), nullable=False),
        sa.Column("storage_class", sa.String(64), nullable=False),
        sa.Column("checksum", sa.String(128), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Index("datastore_record_path_idx", "path"),
    )
    sa.Table(
        "datastore_trash",
        metadata,
        _serial_key("id"),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=True),
        comment="Files whose records were deleted; the files go once the deleting transaction commits.",
    )


def build_metadata(universe: DimensionUniverse) -> sa.MetaData:
    """Describe all tables of a new repository (dataset tag/calib tables are added per dataset type).

    Builds SQLAlchemy objects only; nothing runs against a database.

    Parameters
    ----------
    universe : `DimensionUniverse`
        The dimension universe whose elements get tables.

    Returns
    -------
    metadata : `sqlalchemy.MetaData`
        The static tables and one table per element with a table, plus the
        sky-pixel index and overlap tables.
    """
    metadata = sa.MetaData()
    add_static_tables(metadata)
    add_dimension_tables(metadata, universe)
    return metadata


def _dataset_membership_columns(dims: list) -> list[SchemaItem]:
    """Columns shared by the tags and calibs tables: dataset type, dataset, collection, data ID."""
    cols: list[SchemaItem] = [
        sa.Column("dataset_type_id", sa.BigInteger(), sa.ForeignKey("dataset_type.id"), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), sa.ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "collection_id",
            sa.BigInteger(),
            sa.ForeignKey("collection.collection_id", ondelete="CASCADE"),
            nullable=False,
        ),
    ]
    cols += [sa.Column(d.name, column_type(d.primary_key), nullable=False) for d in dims]
    return cols


def tags_table(metadata: sa.MetaData, name: str, group: DimensionGroup) -> sa.Table:
    """Describe the table of (dataset, collection, data ID) rows for one dimension group.

    A row exists for each dataset in its RUN and in each TAGGED collection it
    is associated with. The unique constraint enforces one dataset per dataset
    type and data ID per collection. Nothing is created in a database.

    Parameters
    ----------
    metadata, name, group
        As for `calibs_table`.

    Returns
    -------
    sqlalchemy.Table
        The tags table, with its primary key, unique data ID constraint and
        foreign keys.
    """
    if name in metadata.tables:
        return metadata.tables[name]
    dims = [group.universe.get_dimension(n) for n in group.required]
    cols = _dataset_membership_columns(dims)
    cols.append(sa.PrimaryKeyConstraint("dataset_id", "collection_id"))
    cols.append(
        sa.UniqueConstraint(
            "dataset_type_id", *[d.name for d in dims], "collection_id", name=f"{name}_data_id_key"
        )
    )
    cols.append(sa.Index(f"{name}_collection_idx", "collection_id", "dataset_type_id"))
    cols += _data_id_foreign_keys(dims)
    return sa.Table(name, metadata, *cols)


def calibs_table(metadata: sa.MetaData, name: str, group: DimensionGroup, postgresql: bool) -> sa.Table:
    """Describe the table of calibration validity ranges for one dimension group.

    On PostgreSQL an exclusion constraint forbids overlapping validity ranges
    for the same dataset type, collection and data ID. Nothing is created in a
    database (call ``create`` on the result).

    Parameters
    ----------
    metadata : `sqlalchemy.MetaData`
        The metadata to add the table to.
    name : `str`
        The table's name; if ``metadata`` already has it, that table is returned.
    group : `DimensionGroup`
        The dimensions of the dataset types the table serves.
    postgresql : `bool`
        Add the PostgreSQL exclusion constraint.

    Returns
    -------
    table : `sqlalchemy.Table`
        The table.
    """
    if name in metadata.tables:
        return metadata.tables[name]
    dims = [group.universe.get_dimension(n) for n in group.required]
    cols: list[SchemaItem] = [
        _serial_key("id"),
        *_dataset_membership_columns(dims),
    ]
    cols += [
        sa.Column("validity_begin", sa.BigInteger(), nullable=True, comment="TAI ns; NULL = unbounded."),
        sa.Column(
            "validity_end", sa.BigInteger(), nullable=True, comment="TAI ns, exclusive; NULL = unbounded."
        ),
    ]
    cols.append(sa.Index(f"{name}_lookup_idx", "dataset_type_id", "collection_id", *[d.name for d in dims]))
    cols += _data_id_foreign_keys(dims)
    table = sa.Table(name, metadata, *cols)
    if postgresql:
        from sqlalchemy.dialects.postgresql import ExcludeConstraint

        elements: list[tuple[object, str]] = [("dataset_type_id", "="), ("collection_id", "=")]
        elements += [(d.name, "=") for d in dims]
        elements.append(
            (sa.func.int8range(table.c.validity_begin, table.c.validity_end, sa.literal_column("'[)'")), "&&")
        )
        table.append_constraint(ExcludeConstraint(*elements, name=f"{name}_no_overlap", using="gist"))  # type: ignore[arg-type]
    return table


def _data_id_foreign_keys(dims: list) -> list[SchemaItem]:
    """Foreign keys from data-ID columns to the dimension tables, so bad data IDs are refused in bulk."""
    fks: list[SchemaItem] = []
    names = {d.name for d in dims}
    for d in dims:
        if not d.has_table:
            continue
        local = [r.name for r in d.required]
        if set(local) <= names:
            fks.append(_fk_to(d, local))
    return fks
