"""The registry Database's fast path: batching, constraint errors, UUIDs, and the timespan overlap SQL.

Every test runs on SQLite and PostgreSQL (the ``database`` fixture) against a
small table of its own, so what is checked is the helper, not a manager.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from chamberlain.errors import ConstraintError
from chamberlain.geometry import Timespan
from chamberlain.registry._database import PARAMETER_HEADROOM, Database
from chamberlain.registry._timespans import timespans_overlap

_METADATA = sa.MetaData()
THING = sa.Table(
    "thing",
    _METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("uid", sa.Uuid, nullable=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("begin", sa.BigInteger, nullable=True),
    sa.Column("end", sa.BigInteger, nullable=True),
)
COLUMNS = ("id", "uid", "name", "begin", "end")


@pytest.fixture
def db(database: Any) -> Iterator[Database]:
    """A Database holding an empty ``thing`` table."""
    db = Database(database.url, namespace=database.namespace, create=True)
    with db.transaction() as conn:
        db.ensure_schema(conn)
        _METADATA.create_all(conn)
    try:
        yield db
    finally:
        db.close()


def _count_statements(db: Database) -> list[str]:
    """SELECT statements SQLAlchemy sends on ``db``'s engine from now on."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("SELECT"):
            sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    return sent


def _rows(n: int) -> list[tuple[Any, ...]]:
    return [(i, uuid.uuid4(), f"n{i}", None, None) for i in range(n)]


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_batches_at_the_parameter_limit(db: Database, offset: int) -> None:
    limit = db.max_parameters - PARAMETER_HEADROOM  # what one IN list may carry
    n = limit + offset
    rows = _rows(n)
    with db.transaction() as conn:
        db.insert_many(conn, THING, COLUMNS, rows)
    batches = list(db.batches([r[0] for r in rows]))
    assert [len(b) for b in batches] == ([n] if offset <= 0 else [limit, 1])
    sent = _count_statements(db)
    found: list[int] = []
    with db.transaction(write=False) as conn:
        for batch in batches:
            found += conn.execute(sa.select(THING.c.id).where(THING.c.id.in_(list(batch)))).scalars().all()
    assert sorted(found) == list(range(n))
    assert len(sent) == (1 if offset <= 0 else 2)


def test_batches_count_parameters_per_item(db: Database) -> None:
    per_item = 3
    size = (db.max_parameters - PARAMETER_HEADROOM) // per_item
    items = list(range(2 * size + 1))
    batches = list(db.batches(items, per_item=per_item))
    assert [len(b) for b in batches] == [size, size, 1]
    assert list(itertools.chain.from_iterable(batches)) == items
    assert list(db.batches([])) == []
    assert [list(b) for b in db.batches(iter([1, 2]))] == [[1, 2]]


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_batches_refuse_a_bad_per_item(db: Database, bad: Any) -> None:
    with pytest.raises(ValueError, match=rf"per_item must be a positive integer, not {bad!r}"):
        list(db.batches([1], per_item=bad))


def test_constraint_error_names_the_table_and_statement(db: Database) -> None:
    with db.transaction() as conn:
        db.insert_many(conn, THING, COLUMNS, [(1, None, "a", None, None)])
    with pytest.raises(ConstraintError) as info, db.transaction() as conn:
        db.insert_many(conn, THING, COLUMNS, [(2, None, "b", None, None), (1, None, "c", None, None)])
    err = info.value
    assert err.table == "thing"
    assert "'thing'" in str(err)
    assert "thing" in err.statement and err.statement in str(err)
    assert err.detail  # the database's own words
    # The transaction the failure left was rolled back whole.
    with db.transaction(write=False) as conn:
        assert conn.execute(sa.select(THING.c.id, THING.c.name)).all() == [(1, "a")]


def test_conflict_variants(db: Database) -> None:
    with db.transaction() as conn:
        db.insert_many(conn, THING, COLUMNS, [(1, None, "a", 10, 20), (2, None, "b", None, None)])
        db.insert_many(
            conn, THING, COLUMNS, [(1, None, "x", 0, 0), (3, None, "c", 1, 2)], on_conflict="ignore"
        )
        db.insert_many(conn, THING, COLUMNS, [(2, None, "y", 5, None)], on_conflict="update", keys=["id"])
    with db.transaction(write=False) as conn:
        stored = conn.execute(sa.select(THING.c.id, THING.c.name, THING.c.begin).order_by(THING.c.id)).all()
    assert stored == [(1, "a", 10), (2, "y", 5), (3, "c", 1)]


def test_insert_many_refuses_bad_options(db: Database) -> None:
    with db.transaction() as conn:
        with pytest.raises(
            ValueError, match="on_conflict must be 'error', 'ignore' or 'update', not 'merge'"
        ):
            db.insert_many(conn, THING, COLUMNS, [], on_conflict="merge")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="'thing' needs the key columns"):
            db.insert_many(conn, THING, COLUMNS, [], on_conflict="update")


def test_uuid_round_trip(db: Database) -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    with db.transaction() as conn:
        db.insert_many(conn, THING, COLUMNS, [(i, u, f"n{i}", None, None) for i, u in enumerate(ids)])
        db.insert_many(conn, THING, COLUMNS, [(9, None, "none", None, None)])
    by_uid = db.prepare(sa.select(THING.c.uid, THING.c.id).where(THING.c.uid == sa.bindparam("uid")))
    for i, u in enumerate(ids):
        assert db.fetch_tuples(by_uid, {"uid": u}) == [(u, i)]
        assert type(db.fetch_tuples(by_uid, {"uid": u})[0][0]) is uuid.UUID
    assert db.fetch_tuples(by_uid, {"uid": uuid.uuid4()}) == []
    # What the fast path wrote is what SQLAlchemy reads (and the reverse).
    with db.transaction() as conn:
        read = dict(conn.execute(sa.select(THING.c.id, THING.c.uid)).all())
        other = uuid.uuid4()
        conn.execute(THING.insert().values(id=10, uid=other, name="sa"))
    assert read == {**dict(enumerate(ids)), 9: None}
    assert db.fetch_tuples(by_uid, {"uid": other}) == [(other, 10)]
    everything = db.prepare(sa.select(THING.c.uid).order_by(THING.c.id).limit(sa.bindparam("n")))
    assert db.fetch_tuples(everything, {"n": 5}) == [(u,) for u in ids] + [(None,), (other,)]
    one = db.prepare(sa.select(THING.c.id).order_by(THING.c.id).limit(1))  # a LIMIT the statement carries
    assert db.fetch_tuples(one) == [(0,)]


_BOUNDS = [None, 0, 10, 20, 30]


def _timespans() -> list[Timespan]:
    spans = [Timespan(b, e) for b, e in itertools.product(_BOUNDS, repeat=2)]
    return list({(t.begin, t.end): t for t in spans}.values())  # the empty ones collapse to (0, 0)


def test_timespan_overlap_sql_agrees_with_timespan_overlaps(db: Database) -> None:
    spans = _timespans()
    assert any(t.is_empty for t in spans) and any(t.begin is None and t.end is None for t in spans)
    with db.transaction() as conn:
        db.insert_many(
            conn, THING, COLUMNS, [(i, None, f"t{i}", t.begin, t.end) for i, t in enumerate(spans)]
        )
    other = THING.alias("other")
    with db.transaction(write=False) as conn:
        pairs = set(
            conn.execute(
                sa.select(THING.c.id, other.c.id).where(
                    timespans_overlap((THING.c.begin, THING.c.end), (other.c.begin, other.c.end))
                )
            ).all()
        )
        expected = {(i, j) for i, a in enumerate(spans) for j, b in enumerate(spans) if a.overlaps(b)}
        assert pairs == expected
        for literal in spans:
            for order in ((THING.c.begin, THING.c.end), literal), (literal, (THING.c.begin, THING.c.end)):
                found = set(conn.execute(sa.select(THING.c.id).where(timespans_overlap(*order))).scalars())
                assert found == {i for i, t in enumerate(spans) if t.overlaps(literal)}, literal
