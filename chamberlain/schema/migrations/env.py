"""Alembic environment for Chamberlain repositories.

Chamberlain runs migrations on a connection it already holds (passed as
``config.attributes["connection"]``), so ``alembic`` is driven from
``chamberlain migrate`` rather than from the alembic command line.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached if someone runs `alembic` by hand
    raise RuntimeError("Run migrations with `chamberlain migrate REPO`, not the alembic command.")
context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
