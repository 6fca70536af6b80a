"""Everything that defines the database: the universe file, tables and migrations."""

from __future__ import annotations

from .tables import (
    SCHEMA_VERSION,
    build_metadata,
    calibs_table,
    overlap_table_name,
    spatial_pairs,
    tags_table,
)

__all__ = [
    "SCHEMA_VERSION",
    "build_metadata",
    "calibs_table",
    "overlap_table_name",
    "spatial_pairs",
    "tags_table",
]
