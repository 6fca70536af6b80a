"""PostgreSQL helpers for tests (a module of its own: a test module cannot import a conftest reliably,
since every conftest.py is a module named ``conftest``)."""

from __future__ import annotations

import sqlalchemy as sa


def drop_schema(url: str, namespace: str) -> None:
    """Drop a test schema and everything in it, and its read-only role (roles are cluster-wide)."""
    from chamberlain.registry.sql import reader_role_name

    role = reader_role_name(url, namespace)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE'))
        if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
    engine.dispose()
