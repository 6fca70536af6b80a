"""The floor of a registry figure: the same SQL run through the raw driver.

`capture` records every statement a Chamberlain `Registry` sends to its
database driver while a block runs: the statements SQLAlchemy executes, and
also those Chamberlain sends to the driver itself on its hot paths (SQLite
``executemany`` and PostgreSQL ``COPY`` for bulk inserts, SQLite lookups in
``find_dataset``), which SQLAlchemy's ``before_cursor_execute`` event never
sees. It does so by putting a recording proxy in front of the registry's
DBAPI connection for the duration of the block.

`RawDriver` opens a plain ``sqlite3`` / ``psycopg`` connection to the same
database (same file; same server, schema ``search_path`` and time zone) with
the same settings as the registry's connection, and replays recorded
statements with their parameters, fetching every row as a tuple. The time of
that replay is the floor: what the same SQL costs with no library around it.

The benchmarks read the registry's private database object (``registry._db``
and its SQLAlchemy connection) to do this; that is acceptable in a benchmark,
never in library code.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

_clock = time.perf_counter

#: Transaction statements sent as SQL (kept by the replay of a read, left out of an insert's).
_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)
#: Statement kinds that only mark transaction boundaries.
_TRANSACTION_KINDS = ("control", "commit", "rollback")
#: The table an INSERT or COPY writes to (a quoted or bare name, as Chamberlain writes them).
_INSERT_TARGET = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|COPY)\s+("[^"]+"|\w+)', re.IGNORECASE)
#: SQLite settings of the registry's connection copied to the raw one.
_SQLITE_PRAGMAS = (
    "foreign_keys",
    "busy_timeout",
    "cache_size",
    "mmap_size",
    "synchronous",
    "wal_autocheckpoint",
)


@dataclass
class Statement:
    """One call the registry made on its driver.

    Parameters
    ----------
    kind
        ``"execute"``, ``"executemany"``, ``"copy"`` (PostgreSQL ``COPY ... FROM STDIN``);
        ``"control"`` for BEGIN, SAVEPOINT and the like sent as SQL, ``"commit"``
        and ``"rollback"`` for the driver's own calls (transaction structure,
        which the replay of a read keeps and that of an insert replaces by one
        transaction).
    sql
        The statement text, in the driver's parameter style.
    params
        The parameters as given to the driver (a sequence of parameter sets
        for ``executemany``, the rows written for ``copy``).
    """

    kind: str
    sql: str
    params: Any = None

    @property
    def is_transaction(self) -> bool:
        """Whether this only marks a transaction boundary (BEGIN, SAVEPOINT, commit, ...)."""
        return self.kind in _TRANSACTION_KINDS

    @property
    def n_rows(self) -> int:
        """Parameter sets (``executemany``) or rows (``copy``); 1 for ``execute``."""
        return len(self.params) if self.kind in ("executemany", "copy") else 1


@dataclass
class Capture:
    """Statements recorded by `capture`, split into groups by `split` (one group by default)."""

    groups: list[list[Statement]] = field(default_factory=lambda: [[]])
    #: Seconds spent inside the driver's execute, executemany and fetch calls (not COPY).
    driver_s: float = 0.0

    def split(self) -> None:
        """Start a new group (e.g. one per call of a loop)."""
        if self.groups[-1]:
            self.groups.append([])

    @property
    def statements(self) -> list[Statement]:
        """Every recorded statement, in order, transaction boundaries included."""
        return [s for group in self.groups for s in group]

    def summary(self) -> str:
        """A short description such as ``3 statements (2 executemany, 5,000 rows)``."""
        stmts = [s for s in self.statements if not s.is_transaction]
        kinds: dict[str, int] = {}
        for s in stmts:
            kinds[s.kind] = kinds.get(s.kind, 0) + 1
        rows = sum(s.n_rows for s in stmts if s.kind != "execute")
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        return f"{len(stmts)} statements ({detail}{f', {rows:,} rows' if rows else ''})"

    def _record(self, kind: str, sql: str, params: Any) -> None:
        self.groups[-1].append(Statement("control" if _CONTROL.match(sql) else kind, sql, params))


class _CopyProxy:
    """Records the rows written through a psycopg ``Copy`` object."""

    def __init__(self, copy: Any, rows: list[Any]) -> None:
        self._copy = copy
        self._rows = rows

    def write_row(self, row: Any) -> None:
        self._rows.append(row)
        self._copy.write_row(row)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._copy, name)


class _CursorProxy:
    """A DBAPI cursor that records what is executed on it, and times the driver's work."""

    def __init__(self, cursor: Any, capture: Capture) -> None:
        self._cursor = cursor
        self._capture = capture

    def execute(self, sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        self._capture._record("execute", sql, params)
        t0 = _clock()
        try:
            if params is None and not args and not kwargs:
                result = self._cursor.execute(sql)
            else:
                result = self._cursor.execute(sql, params, *args, **kwargs)
        finally:
            self._capture.driver_s += _clock() - t0
        return self if result is self._cursor else result

    def executemany(self, sql: str, params: Any, *args: Any, **kwargs: Any) -> Any:
        params = params if isinstance(params, list) else list(params)
        self._capture._record("executemany", sql, params)
        t0 = _clock()
        try:
            result = self._cursor.executemany(sql, params, *args, **kwargs)
        finally:
            self._capture.driver_s += _clock() - t0
        return self if result is self._cursor else result

    @contextlib.contextmanager
    def copy(self, sql: str, *args: Any, **kwargs: Any) -> Iterator[_CopyProxy]:
        rows: list[Any] = []
        self._capture._record("copy", sql, rows)
        with self._cursor.copy(sql, *args, **kwargs) as copy:
            yield _CopyProxy(copy, rows)

    def _fetch(self, name: str, *args: Any) -> Any:
        t0 = _clock()
        try:
            return getattr(self._cursor, name)(*args)
        finally:
            self._capture.driver_s += _clock() - t0

    def fetchone(self) -> Any:
        return self._fetch("fetchone")

    def fetchmany(self, *args: Any) -> Any:
        return self._fetch("fetchmany", *args)

    def fetchall(self) -> Any:
        return self._fetch("fetchall")

    def __iter__(self) -> Iterator[Any]:
        # Fetched at once so that the driver's time is measured without a timer per row.
        return iter(self.fetchall())

    def __enter__(self) -> _CursorProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _ConnectionProxy:
    """A DBAPI connection whose cursors (and shortcut ``execute`` calls) record statements."""

    def __init__(self, connection: Any, capture: Capture) -> None:
        self._connection = connection
        self._capture = capture

    def cursor(self, *args: Any, **kwargs: Any) -> _CursorProxy:
        return _CursorProxy(self._connection.cursor(*args, **kwargs), self._capture)

    def execute(self, sql: str, params: Any = ()) -> Any:  # sqlite3's shortcut
        return self.cursor().execute(sql, params)

    def executemany(self, sql: str, params: Any) -> Any:  # sqlite3's shortcut
        return self.cursor().executemany(sql, params)

    def commit(self) -> None:
        self._capture.groups[-1].append(Statement("commit", "COMMIT"))
        self._connection.commit()

    def rollback(self) -> None:
        self._capture.groups[-1].append(Statement("rollback", "ROLLBACK"))
        self._connection.rollback()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


@contextlib.contextmanager
def capture(registry: Any) -> Iterator[Capture]:
    """Record the statements ``registry`` sends to its driver inside the block.

    The recording proxy adds a small cost to every statement (and to every row
    written by ``COPY``), so benchmarks capture in an untimed call where they
    can (the warm-up of a repeated query, a second pass of a lookup loop).

    Parameters
    ----------
    registry
        A Chamberlain `Registry`; its private database connection is wrapped.

    Yields
    ------
    capture
        The recorded statements, complete when the block ends.
    """
    out = Capture()
    fairy = registry._db.connection.connection  # SQLAlchemy's pooled-connection wrapper (private use)
    real = fairy.dbapi_connection
    fairy.dbapi_connection = _ConnectionProxy(real, out)
    try:
        yield out
    finally:
        fairy.dbapi_connection = real


class RawDriver:
    """A plain driver connection to the database of a Chamberlain registry.

    Parameters
    ----------
    registry
        The registry whose database (SQLite file, or PostgreSQL server and
        schema) to connect to; its connection settings are copied.
    """

    def __init__(self, registry: Any) -> None:
        db = registry._db
        self.dialect: str = db.dialect
        if self.dialect == "sqlite":
            live = db.connection.connection.dbapi_connection
            settings = {p: live.execute(f"PRAGMA {p}").fetchone()[0] for p in _SQLITE_PRAGMAS}
            self.conn: Any = sqlite3.connect(db.url.database, isolation_level=None, check_same_thread=False)
            for pragma, value in settings.items():
                self.conn.execute(f"PRAGMA {pragma} = {int(value)}")
        else:
            import psycopg
            from psycopg import sql

            url = db.url
            self.conn = psycopg.connect(
                host=url.host or "127.0.0.1",
                port=url.port or 5432,
                user=url.username,
                password=url.password,
                dbname=url.database,
            )
            with self.conn.cursor() as cur:
                # What the registry's connection sets on connect: its schema alone, UTC.
                cur.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(db.schema)))
                cur.execute("SET TIME ZONE 0")
            self.conn.commit()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> RawDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- replay -------------------------------------------------------------------------

    def run(self, statements: Sequence[Statement], *, keep_transactions: bool = True) -> int:
        """Run ``statements`` with their parameters and fetch every row as a tuple.

        Parameters
        ----------
        statements
            Recorded statements, run in order on this connection.
        keep_transactions
            Whether to replay the recorded transaction boundaries too (BEGIN,
            SAVEPOINT, commits); if False the caller provides the transaction.

        Returns
        -------
        rows
            Rows fetched by the statements that returned any.
        """
        n = 0
        cur = self.conn.cursor()
        try:
            for s in statements:
                if s.kind in _TRANSACTION_KINDS:
                    if not keep_transactions:
                        continue
                    if s.kind == "commit":
                        self.conn.commit()
                    elif s.kind == "rollback":
                        self.conn.rollback()
                    else:
                        cur.execute(s.sql)
                elif s.kind == "execute":
                    cur.execute(s.sql, s.params) if s.params is not None else cur.execute(s.sql)
                    if cur.description is not None:
                        n += len(cur.fetchall())
                elif s.kind == "executemany":
                    cur.executemany(s.sql, s.params)
                else:
                    with cur.copy(s.sql) as copy:
                        for row in s.params:
                            copy.write_row(row)
        finally:
            cur.close()
        return n

    def _in_transaction(self) -> bool:
        if self.dialect == "sqlite":
            return bool(self.conn.in_transaction)
        from psycopg.pq import TransactionStatus

        return bool(self.conn.info.transaction_status != TransactionStatus.IDLE)

    def run_call(self, statements: Sequence[Statement]) -> int:
        """`run` the statements of one call with its transactions, then end any left open.

        Parameters
        ----------
        statements
            The statements of one call, as captured (with the registry's BEGINs
            and commits: a PostgreSQL connection opens a transaction at the
            first statement, as the registry's does).

        Returns
        -------
        rows
            Rows fetched.
        """
        n = self.run(statements)
        if self._in_transaction():
            self.conn.commit()
        return n

    @contextlib.contextmanager
    def transaction(self, commit: bool = True, write: bool = False) -> Iterator[None]:
        """One transaction around the block, committed (or rolled back if ``commit`` is False).

        Parameters
        ----------
        commit
            Whether to commit at the end; an exception always rolls back.
        write
            Whether the block writes: SQLite then takes the write lock at the
            start (``BEGIN IMMEDIATE``), as the registry does.
        """
        if self.dialect == "sqlite":
            self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        if commit:
            self.conn.commit()
        else:
            self.conn.rollback()

    def time_calls(self, groups: Sequence[Sequence[Statement]]) -> list[float]:
        """Seconds of each call's statements replayed one call after the other.

        The first call is replayed once untimed first, as a warm-up.

        Parameters
        ----------
        groups
            The statements of each call (see `Capture.split`).
        """
        groups = [g for g in groups if g]
        if groups:
            self.run_call(groups[0])
        out = []
        clock = time.perf_counter
        for group in groups:
            t0 = clock()
            self.run_call(group)
            out.append(clock() - t0)
        return out

    def count_rows(self, statements: Sequence[Statement]) -> dict[str, int]:
        """Rows now held by each table that ``statements`` insert into.

        Parameters
        ----------
        statements
            Recorded insert statements (INSERT or COPY).
        """
        out = {}
        for table in _insert_targets(statements):
            cur = self.conn.execute(f"SELECT count(*) FROM {table}")
            out[table] = int(cur.fetchone()[0])
            if self._in_transaction():
                self.conn.commit()
        return out

    def time_insert(self, statements: Sequence[Statement]) -> float:
        """Seconds to run recorded inserts in one transaction, committed.

        The untimed warm-up reads one row of each table the statements insert
        into (a rolled-back run of the inserts would leave dead rows on
        PostgreSQL that slow the timed one down).

        Parameters
        ----------
        statements
            The statements of the insert call, to run on a database holding
            what the registry's held before that call.
        """
        self.run_call(
            [Statement("execute", f"SELECT 1 FROM {t} LIMIT 1") for t in _insert_targets(statements)]
        )
        t0 = time.perf_counter()
        with self.transaction(write=True):
            self.run(statements, keep_transactions=False)
        return time.perf_counter() - t0


def _insert_targets(statements: Sequence[Statement]) -> list[str]:
    """The tables (as written in the SQL) that INSERT or COPY statements write to, in order."""
    return list(dict.fromkeys(m.group(1) for s in statements if (m := _INSERT_TARGET.match(s.sql))))


def ratio(value: float | None, floor: float | None) -> str:
    """``value / floor`` formatted as ``"2.3x"`` (an em dash when either is missing).

    Parameters
    ----------
    value
        The Chamberlain figure (a time: larger is slower).
    floor
        The raw-driver figure, same unit.
    """
    if not value or not floor or value != value or floor != floor:
        return "—"
    return f"{value / floor:.1f}x"
