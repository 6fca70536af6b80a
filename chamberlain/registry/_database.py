"""One SQLAlchemy engine and connection, with nestable transactions.

SQLite (the default) is opened in WAL mode with foreign keys on and a busy
timeout; writers take the database lock at ``BEGIN IMMEDIATE`` so two
processes writing at once queue rather than fail. PostgreSQL is reached with
psycopg 3; an optional namespace puts the repository in its own schema.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .._gc import collector_paused
from ..datasets import uuid_from_hex
from ..errors import ConfigError, ConstraintError, DatabaseError, ReadOnlyError

T = TypeVar("T")

#: PostgreSQL tables are re-ANALYZEd after a commit once this many rows (and at least a fifth of
#: the rows counted at the previous analysis) have been bulk-loaded into them by this process.
ANALYZE_THRESHOLD = 1_000
#: How long a SQLite writer waits for another process's lock (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 300_000
#: SQLite page cache per connection (KiB), memory-map size, and WAL pages between checkpoints.
SQLITE_CACHE_KIB = 65_536
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
SQLITE_WAL_CHECKPOINT_PAGES = 10_000
#: Bound parameters `Database.batches` leaves free for a statement's own (non-batched) ones.
PARAMETER_HEADROOM = 100
_NAMESPACE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def normalize_url(url: str | sa.URL) -> sa.URL:
    """Parse a database URL, choosing psycopg 3 for PostgreSQL."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(
            f"Database URL {str(url)!r} is not valid; use sqlite:///PATH or postgresql://USER@HOST:PORT/DB."
        ) from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"Database URL {parsed.render_as_string(hide_password=True)!r} uses backend "
            f"{parsed.get_backend_name()!r}; supported backends: 'sqlite', 'postgresql'."
        )
    return parsed


class Database:
    """An engine plus the one connection a registry uses, and its transaction state.

    Parameters
    ----------
    url
        SQLAlchemy URL (``sqlite:///path`` or ``postgresql://...``).
    namespace
        PostgreSQL schema holding the repository's tables; None means ``public``.
        It is the only schema on the connection's ``search_path``.
    writeable
        If False, the connection is read-only (SQLite ``mode=ro``; PostgreSQL
        read-only transactions).
    create
        Whether the namespace may be created (by `ensure_schema`, inside the
        transaction that creates the repository, so a failure leaves nothing).
    """

    def __init__(
        self,
        url: str | sa.URL,
        *,
        namespace: str | None = None,
        writeable: bool = True,
        create: bool = False,
    ) -> None:
        self.url = normalize_url(url)
        self.dialect = self.url.get_backend_name()
        self.writeable = writeable
        if namespace is not None and not _NAMESPACE_RE.match(namespace):
            raise ConfigError(
                f"Namespace {namespace!r} is not a valid schema name (letters, digits, underscores; max 63)."
            )
        if namespace is not None and self.dialect != "postgresql":
            raise ConfigError(f"A namespace ({namespace!r}) is only supported on PostgreSQL.")
        if namespace is not None and (
            namespace.lower() == "information_schema" or namespace.lower().startswith("pg_")
        ):
            raise ConfigError(
                f"Namespace {namespace!r} is a PostgreSQL system schema; choose a schema of your own."
            )
        self.namespace = namespace
        #: Whether `Registry.create` may create the namespace (see `ensure_schema`).
        self.create = create
        if self.dialect == "sqlite":
            self.engine = self._sqlite_engine()
        else:
            self.engine = self._postgresql_engine()
        self._connection: sa.Connection | None = None
        self._depth = 0
        self._savepoint_depth = 0
        self.on_commit: list[Any] = []
        self.on_rollback: list[Any] = []
        #: Called after any rollback, of a transaction or of a savepoint (e.g. to drop caches
        #: that may hold rolled-back rows); unlike `on_rollback`, these stay registered.
        self.rollback_listeners: list[Any] = []
        self._data_version: int | None = None
        self._pending_rows: dict[str, int] = {}
        self._analyzed_rows: dict[str, int] = {}
        self._inserts: dict[tuple[Any, ...], PreparedStatement] = {}

    # --- engines ----------------------------------------------------------------------

    def _sqlite_engine(self) -> sa.Engine:
        url = self.url
        database = url.database or ""
        if not self.writeable and database and database != ":memory:":
            url = url.set(database=f"file:{database}?mode=ro", query={"uri": "true"})
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"check_same_thread": False})
        writeable = self.writeable

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            # A larger page cache and memory-mapped reads keep bulk loads and joins out of the kernel.
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
            if writeable:
                cursor.execute("PRAGMA journal_mode = WAL")
                # In WAL mode NORMAL skips the fsync at each commit; checkpoints (which do
                # fsync) run every SQLITE_WAL_CHECKPOINT_PAGES pages instead of every 1000.
                cursor.execute("PRAGMA synchronous = NORMAL")
                cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_WAL_CHECKPOINT_PAGES}")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(connection: sa.Connection) -> None:
            mode = "IMMEDIATE" if connection.info.get("write", False) else "DEFERRED"
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine

    def _postgresql_engine(self) -> sa.Engine:
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        schema = self.schema

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                # Only the repository's own schema: a mistyped namespace must never find the
                # tables of another one (``public`` included). pg_catalog is always searched
                # first; btree_gist's operator classes are found by type, not by name.
                cursor.execute(f'SET search_path TO "{schema}"')
                cursor.execute("SET TIME ZONE 0")
            dbapi_connection.commit()

        return engine

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding the repository's tables (``public`` without a namespace)."""
        return self.namespace or "public"

    def schema_exists(self, conn: sa.Connection) -> bool:
        """Whether the repository's PostgreSQL schema exists (always True on SQLite).

        Parameters
        ----------
        conn
            A connection to the database.
        """
        if self.dialect != "postgresql":
            return True
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = :name"), {"name": self.schema}
        ).first()
        return found is not None

    def check_namespace(self, conn: sa.Connection) -> None:
        """Raise `ConfigError` unless the namespace holds a repository (PostgreSQL with a namespace).

        A repository's schema holds its Alembic version table; the message lists a few
        namespaces of the database that do, so a mistyped name is easy to correct.

        Parameters
        ----------
        conn
            A connection to the database.
        """
        if self.dialect != "postgresql" or self.namespace is None:
            return
        held = conn.execute(
            sa.text(
                "SELECT 1 FROM pg_catalog.pg_tables "
                "WHERE schemaname = :schema AND tablename = 'alembic_version'"
            ),
            {"schema": self.namespace},
        ).first()
        if held is not None:
            return
        others = (
            conn.execute(
                sa.text(
                    "SELECT schemaname FROM pg_catalog.pg_tables WHERE tablename = 'alembic_version' "
                    "ORDER BY schemaname LIMIT 6"
                )
            )
            .scalars()
            .all()
        )
        listed = ", ".join(repr(o) for o in others[:5]) + (", ..." if len(others) > 5 else "")
        hint = f"namespaces holding one: {listed}" if others else "no namespace of this database holds one"
        state = "holds no Chamberlain repository" if self.schema_exists(conn) else "does not exist"
        raise ConfigError(
            f"Namespace {self.namespace!r} {state} in {self.url.render_as_string(hide_password=True)} ({hint})."
        )

    def ensure_schema(self, conn: sa.Connection) -> None:
        """Create the namespace if it is missing, in the transaction of ``conn`` (PostgreSQL).

        Run inside the transaction that creates the repository, so that a failed
        creation rolls the new schema back with everything else, and a schema
        that existed before is never dropped.

        Parameters
        ----------
        conn
            A connection inside a write transaction.
        """
        if not self.create or self.dialect != "postgresql" or self.namespace is None:
            return
        if not self.schema_exists(conn):
            conn.exec_driver_sql(f'CREATE SCHEMA "{self.namespace}"')

    # --- connection and transactions --------------------------------------------------

    @property
    def connection(self) -> sa.Connection:
        """The connection every statement of this registry runs on."""
        if self._connection is None:
            try:
                self._connection = self.engine.connect()
            except sa.exc.OperationalError as err:
                raise DatabaseError(
                    f"Cannot connect to {self.url.render_as_string(hide_password=True)}: {err.orig}"
                ) from None
        return self._connection

    @property
    def in_transaction(self) -> bool:
        """True inside a `transaction` block."""
        return self._depth > 0

    @contextlib.contextmanager
    def transaction(self, *, savepoint: bool = False, write: bool = True) -> Iterator[sa.Connection]:
        """Run a block in a transaction; nested blocks join the outer one.

        Parameters
        ----------
        savepoint
            If True (or inside a savepoint block), a nested block gets its own
            savepoint: an exception leaving it rolls back only that block.
            Otherwise an exception rolls back the outermost transaction.
        write
            Whether the block writes (SQLite takes the write lock at the start).
        """
        if write and not self.writeable:
            raise ReadOnlyError(f"The repository at {self.url.database or self.url} was opened read-only.")
        conn = self.connection
        if self._depth == 0:
            if conn.in_transaction():  # an autobegun read; end it
                conn.commit()
            conn.info["write"] = write
            self._depth = 1
            callbacks: list[Any] = []
            undo: list[Any] = []
            self.on_commit, self.on_rollback = callbacks, undo
            try:
                with conn.begin():
                    yield conn
            except BaseException:
                for action in reversed(undo):
                    action()
                for listener in self.rollback_listeners:
                    listener()
                raise
            finally:
                self._depth = 0
                self.on_commit, self.on_rollback = [], []
            for callback in callbacks:
                callback()
            if self._pending_rows:
                self._refresh_statistics()
            return
        if write and not conn.info.get("write", False) and self.dialect == "sqlite":
            raise DatabaseError("Cannot write inside a read-only transaction block.")
        self._depth += 1
        try:
            if savepoint or self._savepoint_depth:
                self._savepoint_depth += 1
                try:
                    with conn.begin_nested():
                        yield conn
                except BaseException:
                    for listener in self.rollback_listeners:
                        listener()
                    raise
                finally:
                    self._savepoint_depth -= 1
            else:
                yield conn
        finally:
            self._depth -= 1

    def changed_elsewhere(self) -> bool | None:
        """Whether another connection committed since the last call (SQLite; None elsewhere).

        Uses SQLite's ``PRAGMA data_version`` on this database's connection, so
        it is cheap enough to ask before every query. The first call says True.
        """
        if self.dialect != "sqlite":
            return None
        dbapi = self.connection.connection.dbapi_connection
        assert dbapi is not None
        version = dbapi.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._data_version
        self._data_version = version
        return changed

    def execute(self, statement: Any, parameters: Any = None) -> sa.CursorResult:
        """Execute a statement in a read transaction (or the current transaction)."""
        if self._depth:
            return self.connection.execute(statement, parameters)
        with self.transaction(write=False) as conn:
            return conn.execute(statement, parameters)

    def close(self) -> None:
        """Close the connection and dispose of the engine."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()

    # --- dialect helpers ----------------------------------------------------------------

    def insert(self, table: sa.Table) -> Any:
        """Return a dialect-specific INSERT (with ``on_conflict_do_nothing``/``do_update``)."""
        if self.dialect == "sqlite":
            return sqlite.insert(table)
        return postgresql.insert(table)

    # --- the fast path: bulk rows through the driver, statements compiled once -------------
    #
    # Every statement whose rows bypass SQLAlchemy's per-row work goes through
    # `insert_many`, `prepare` and `fetch_tuples`: on SQLite they call the driver
    # directly (UUIDs as 32-digit hex, as SQLAlchemy stores them there), on
    # PostgreSQL they use COPY or SQLAlchemy's executemany. A constraint violation
    # raises `ConstraintError` naming the table and the statement. `batches` is the
    # one place that knows the backend's bound-parameter limit.

    def batches(self, items: Iterable[T], per_item: int = 1, reserve: int = 0) -> Iterator[Sequence[T]]:
        """Split items into slices small enough for one statement's bound parameters.

        Parameters
        ----------
        items
            The items (rows, keys, IDs) to spread over statements.
        per_item
            Bound parameters each item needs in the statement (e.g. the number
            of columns of a key tuple in ``IN``, or of a row inserted).
        reserve
            Bound parameters the statement uses besides the items' (taken
            from the limit before it is shared out).

        Returns
        -------
        Iterator [Sequence]
            Consecutive slices holding at most
            ``(max_parameters - PARAMETER_HEADROOM - reserve) // per_item`` items each (at
            least one), in order; nothing for no items.

        Raises
        ------
        ValueError
            If ``per_item`` is not a positive integer.
        """
        if isinstance(per_item, bool) or not isinstance(per_item, int) or per_item < 1:
            raise ValueError(f"per_item must be a positive integer, not {per_item!r}.")
        values = items if isinstance(items, Sequence) else list(items)
        size = max(1, (self.max_parameters - PARAMETER_HEADROOM - reserve) // per_item)
        for i in range(0, len(values), size):
            yield values[i : i + size]

    def insert_many(
        self,
        conn: sa.Connection,
        table: sa.Table,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        on_conflict: Literal["error", "ignore", "update"] = "error",
        keys: Sequence[str] = (),
    ) -> None:
        """Insert many rows given as tuples in ``columns`` order, bypassing per-row SQLAlchemy work.

        SQLite runs the driver's ``executemany`` (UUID values sent as hex);
        PostgreSQL uses ``COPY`` for plain inserts and SQLAlchemy's
        executemany for the conflict variants. The statements are compiled
        from SQLAlchemy (``ON CONFLICT DO NOTHING`` / ``DO UPDATE``) once per
        table, columns and variant.

        Parameters
        ----------
        conn
            The connection of an open write transaction.
        table
            The table to insert into.
        columns
            Column names, in the order of each row's values.
        rows
            The rows; values in the driver's form except UUIDs (`uuid.UUID`).
        on_conflict
            ``"error"`` (a row whose key exists is an error), ``"ignore"``
            (such rows are skipped) or ``"update"`` (their other columns are
            overwritten; needs ``keys``).
        keys
            The unique key columns that ``"update"`` matches on.

        Raises
        ------
        ConstraintError
            If the rows break a constraint of the table (the statement's
            changes are undone; the transaction stays usable on SQLite).
        ValueError
            If ``on_conflict`` is not one of the three, or ``"update"`` has no ``keys``.
        """
        if on_conflict not in ("error", "ignore", "update"):
            raise ValueError(f"on_conflict must be 'error', 'ignore' or 'update', not {on_conflict!r}.")
        if on_conflict == "update" and not keys:
            raise ValueError(f"on_conflict='update' into {table.name!r} needs the key columns (keys=...).")
        if not rows:
            return
        if self.dialect == "sqlite":
            prepared = self._insert_statement(table, tuple(columns), on_conflict, tuple(keys))
            self._driver_executemany(conn, prepared, rows)
            return
        if on_conflict == "error":
            self._copy(conn, table, columns, rows)
            return
        stmt = self._conflict_insert(table, on_conflict, keys)
        try:
            for batch in self.batches(rows, per_item=len(columns)):
                conn.execute(stmt, [dict(zip(columns, r)) for r in batch])
        except sa.exc.IntegrityError as err:
            raise ConstraintError(table.name, str(err.statement), str(err.orig)) from None

    def prepare(self, statement: Any) -> PreparedStatement:
        r"""Compile a statement once, for `fetch_tuples` (keep the result and reuse it).

        Parameters
        ----------
        statement
            A SQLAlchemy Core statement; its parameters are named bind parameters (`sqlalchemy.bindparam`).

        Returns
        -------
        PreparedStatement
            The statement with its SQL for this dialect.
        """
        return PreparedStatement(statement, self.engine.dialect)

    def fetch_tuples(
        self, prepared: PreparedStatement, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run a prepared statement and return its rows as tuples (the driver directly on SQLite).

        Runs in the current transaction, or in a read transaction of its own.
        UUID parameters and UUID result columns are converted on SQLite as
        SQLAlchemy would, so both backends return `uuid.UUID` values.

        Parameters
        ----------
        prepared
            From `prepare`.
        params
            Values of the statement's bound parameters, by name.

        Returns
        -------
        list [tuple]
            Every row of the result.

        Raises
        ------
        ConstraintError
            If the statement writes rows that break a constraint.
        """
        params = params or {}
        if self.dialect != "sqlite":
            with self.transaction(write=False) as conn:
                return [tuple(r) for r in conn.execute(prepared.statement, params)]
        if prepared.values:
            params = {**prepared.values, **params}
        values = [driver_value(params[name]) for name in prepared.order]
        dbapi = self.connection.connection.dbapi_connection
        assert dbapi is not None
        try:
            rows = dbapi.execute(prepared.sql, values).fetchall()
        except self.engine.dialect.loaded_dbapi.IntegrityError as err:
            raise ConstraintError(prepared.table, prepared.sql, str(err)) from None
        positions = prepared.uuid_columns
        if positions and rows:
            return [_uuid_row(r, positions) for r in rows]
        return rows

    def _insert_statement(
        self, table: sa.Table, columns: tuple[str, ...], on_conflict: str, keys: tuple[str, ...]
    ) -> PreparedStatement:
        cache_key = (table, columns, on_conflict, keys)
        prepared = self._inserts.get(cache_key)
        if prepared is None:
            stmt = self._conflict_insert(table, on_conflict, keys).values(
                {c: sa.bindparam(f"v{i}") for i, c in enumerate(columns)}
            )
            prepared = self._inserts[cache_key] = PreparedStatement(stmt, self.engine.dialect)
            # Values are bound by position: map each placeholder back to its column.
            if any(not (n.startswith("v") and n[1:].isdigit()) for n in prepared.order):
                raise DatabaseError(f"Cannot insert rows of {columns} into {table.name!r}: {prepared.sql}")
            prepared.columns = tuple(int(name[1:]) for name in prepared.order)
            prepared.uuid_columns = tuple(
                i for i, c in enumerate(columns) if isinstance(table.c[c].type, sa.Uuid)
            )
        return prepared

    def _conflict_insert(self, table: sa.Table, on_conflict: str, keys: Sequence[str]) -> Any:
        stmt = self.insert(table)
        if on_conflict == "ignore":
            return stmt.on_conflict_do_nothing()
        if on_conflict == "update":
            others = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
            if not others:
                return stmt.on_conflict_do_nothing()
            return stmt.on_conflict_do_update(index_elements=list(keys), set_=others)
        return stmt

    def _driver_executemany(
        self, conn: sa.Connection, prepared: PreparedStatement, rows: Sequence[Sequence[Any]]
    ) -> None:
        dbapi_conn = conn.connection.dbapi_connection
        assert dbapi_conn is not None
        with collector_paused():  # see chamberlain._gc: a new tuple per row, none in a cycle
            positions = prepared.uuid_columns
            if positions == (0,):
                rows = [(r[0].hex if r[0] is not None else None, *r[1:]) for r in rows]
            elif positions:
                rows = [_hex_row(r, positions) for r in rows]
            order = prepared.columns
            if order != tuple(range(len(order))):
                rows = [tuple(r[i] for i in order) for r in rows]
            cursor = dbapi_conn.cursor()
            try:
                cursor.executemany(prepared.sql, rows)
            except self.engine.dialect.loaded_dbapi.IntegrityError as err:
                raise ConstraintError(prepared.table, prepared.sql, str(err)) from None
            finally:
                cursor.close()

    def _copy(
        self, conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """PostgreSQL ``COPY`` of rows (and their count, for `_refresh_statistics`)."""
        dbapi_conn = conn.connection.dbapi_connection
        assert dbapi_conn is not None
        column_list = ", ".join(f'"{c}"' for c in columns)
        self._pending_rows[table.name] = self._pending_rows.get(table.name, 0) + len(rows)
        sql = f'COPY "{table.name}" ({column_list}) FROM STDIN'
        cursor: Any = dbapi_conn.cursor()
        try:
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except self.engine.dialect.loaded_dbapi.IntegrityError as err:
            raise ConstraintError(table.name, sql, str(err)) from None
        finally:
            cursor.close()

    def _refresh_statistics(self) -> None:
        """ANALYZE tables that just received a bulk load, so the planner sees their real size.

        PostgreSQL's autovacuum would get there eventually, but a query run right
        after a large load would otherwise be planned as if the tables were empty.
        """
        due = []
        for name, pending in self._pending_rows.items():
            known = self._analyzed_rows.get(name, 0)
            if pending >= max(ANALYZE_THRESHOLD, known // 5):
                due.append(name)
                self._analyzed_rows[name] = known + pending
        for name in due:
            del self._pending_rows[name]
        if not due:
            return
        conn = self.connection
        with conn.begin():
            for name in sorted(due):
                conn.exec_driver_sql(f'ANALYZE "{name}"')

    @property
    def max_parameters(self) -> int:
        """Bound parameters one statement may carry (use `batches` to split work by it)."""
        return 32_000 if self.dialect == "sqlite" else 60_000

    def analyze(self, tables: Sequence[str] = ()) -> None:
        """Refresh the planner's statistics after a bulk load."""
        with self.transaction() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("ANALYZE")
            else:
                for t in tables:
                    conn.exec_driver_sql(f'ANALYZE "{t}"')


class PreparedStatement:
    """A statement compiled once for a dialect (see `Database.prepare`).

    Parameters
    ----------
    statement
        The SQLAlchemy Core statement.
    dialect
        The dialect to compile for.
    """

    __slots__ = ("columns", "order", "sql", "statement", "table", "uuid_columns", "values")

    def __init__(self, statement: Any, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.statement = statement
        #: The SQL text, with the dialect's placeholders.
        self.sql: str = compiled.string
        #: Bound parameter names, in placeholder order.
        self.order: tuple[str, ...] = tuple(compiled.positiontup or ())
        #: Values the statement carries itself (literals such as a LIMIT), by parameter name.
        self.values: dict[str, Any] = {k: v for k, v in compiled.params.items() if v is not None}
        #: For an insert: the row position of each placeholder's value.
        self.columns: tuple[int, ...] = ()
        tables = getattr(statement, "table", None)
        if tables is None:
            froms = statement.get_final_froms() if hasattr(statement, "get_final_froms") else []
            tables = froms[0] if froms else None
        #: The table written (or first read), for error messages.
        self.table: str = getattr(tables, "name", "?")
        #: Positions of UUID columns: of the result for a SELECT, of the row for an insert.
        self.uuid_columns: tuple[int, ...] = tuple(
            i for i, c in enumerate(getattr(statement, "selected_columns", ())) if isinstance(c.type, sa.Uuid)
        )


def driver_value(value: Any) -> Any:
    """Return a parameter value as SQLAlchemy sends it to sqlite3 (UUIDs as 32-digit hex).

    Parameters
    ----------
    value
        Any bound parameter value.

    Returns
    -------
    object
        ``value.hex`` for a `uuid.UUID`, else ``value`` itself.
    """
    return value.hex if isinstance(value, uuid.UUID) else value


def _hex_row(row: Sequence[Any], positions: tuple[int, ...]) -> tuple[Any, ...]:
    values = list(row)
    for i in positions:
        if values[i] is not None:
            values[i] = values[i].hex
    return tuple(values)


def _uuid_row(row: Sequence[Any], positions: tuple[int, ...]) -> tuple[Any, ...]:
    values = list(row)
    for i in positions:
        if values[i] is not None:
            values[i] = uuid_from_hex(values[i])
    return tuple(values)
