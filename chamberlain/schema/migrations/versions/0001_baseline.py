"""Baseline: the whole schema of a new repository.

Creates the static tables and one table per element of the repository's
dimension universe (passed by Chamberlain as ``config.attributes["universe"]``).

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import context, op

from chamberlain.dimensions import DimensionUniverse
from chamberlain.schema.tables import build_metadata

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of the universe in the configuration's attributes (the default one if unset)."""
    universe = context.config.attributes.get("universe") or DimensionUniverse.default()
    build_metadata(universe).create_all(op.get_bind())


def downgrade() -> None:
    """Refuse: the baseline cannot be downgraded."""
    raise NotImplementedError("The baseline cannot be downgraded; delete the repository instead.")
