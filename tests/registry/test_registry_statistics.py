"""PostgreSQL planner statistics are refreshed after Chamberlain's own bulk loads."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from _pg import drop_schema
from _populate import add_instrument

from chamberlain.registry import Registry


def _analyzed(registry: Registry, table: str) -> tuple[object, int]:
    row = registry._db.execute(
        sa.text(
            "SELECT last_analyze, n_live_tup FROM pg_stat_user_tables WHERE schemaname = :s AND relname = :t"
        ),
        {"s": registry._db.namespace, "t": table},
    ).one()
    return row[0], row[1]


def test_bulk_load_triggers_analyze_on_postgresql(postgresql_server: str) -> None:
    namespace = f"test_{uuid.uuid4().hex[:16]}"
    try:
        with Registry.create(postgresql_server, namespace=namespace) as registry:
            add_instrument(registry, n_detectors=0)
            registry.insert_dimension_records(
                "detector", [{"instrument": "Cam", "id": i, "full_name": f"D{i}"} for i in range(100)]
            )
            assert _analyzed(registry, "detector")[0] is None  # small insert: left to autovacuum
            # Loads in pieces add up: 100 + 9 x 100 rows reach the threshold of 1,000 with the last piece.
            for start in range(100, 1_000, 100):
                assert _analyzed(registry, "detector")[0] is None
                registry.insert_dimension_records(
                    "detector",
                    [{"instrument": "Cam", "id": i, "full_name": f"D{i}"} for i in range(start, start + 100)],
                )
            first, _ = _analyzed(registry, "detector")
            assert first is not None
            registry.insert_dimension_records(
                "detector",
                [{"instrument": "Cam", "id": i, "full_name": f"D{i}"} for i in range(1_000, 21_000)],
            )
            second, _ = _analyzed(registry, "detector")
            assert second is not None and second > first
    finally:
        drop_schema(postgresql_server, namespace)
