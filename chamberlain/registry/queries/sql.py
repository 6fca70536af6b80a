"""Former home of `run_sql`; it lives in `chamberlain.registry.sql` with the reader role."""

from __future__ import annotations

from ..sql import run_sql

__all__ = ["run_sql"]
