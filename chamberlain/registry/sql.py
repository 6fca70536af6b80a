"""Analysts' SQL: one statement, read-only by construction (``chamberlain sql REPO "SELECT ..."``).

Nothing here filters SQL text. What makes a statement unable to write is how it runs:

* **Exactly one statement.** PostgreSQL receives it through the extended query protocol (a
  prepared statement), which the server refuses to hold more than one command; SQLite's
  ``execute`` refuses a second statement (a trailing ``;`` is fine on both).
* **A read-only transaction it cannot end.** PostgreSQL: ``BEGIN READ ONLY`` and a first query
  (so ``transaction_read_only`` can no longer be switched off); a statement that ends the
  transaction (``COMMIT``, ``ROLLBACK``...), changes a setting (``SET``, ``set_config(...)``),
  is not a query, or was given a transaction ID (which only writing does, e.g. ``lo_create``)
  is refused, and the transaction is always rolled back. SQLite: the file is
  opened ``mode=ro`` with ``PRAGMA query_only`` on, inside ``BEGIN``, and an authorizer allows
  only reading (no ATTACH/DETACH - so no file is created anywhere - no transaction control, no
  writing PRAGMA).
* **A role that can only read (PostgreSQL).** The statement runs on a connection made *as*
  the repository's reader role (`reader_role_name`): a plain role with LOGIN, no password, no
  membership in any other role, USAGE on the repository's schema and SELECT on its tables
  (default privileges cover tables created later). ``SET ROLE``/``RESET ROLE``/``SET SESSION
  AUTHORIZATION`` cannot lend it more, and it has no right to server files, programs or large
  objects. `Registry.create` makes the role; `create_reader_role` makes it for an older
  repository. Without the role, `run_sql` refuses to run anything rather than fall back on the
  repository's own (often superuser) credentials.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..errors import ConfigError, DatabaseError, ReadOnlyError
from ._database import Database, normalize_url

if TYPE_CHECKING:
    from .registry import Registry

__all__ = ["create_reader_role", "reader_role_name", "run_sql"]

#: PostgreSQL identifiers are at most 63 bytes.
_MAX_IDENTIFIER = 63
#: Command tags (first word) of the statements `run_sql` returns results for on PostgreSQL.
_QUERY_TAGS = frozenset({"SELECT", "SHOW", "EXPLAIN"})
#: SQLSTATE classes and codes of PostgreSQL errors that mean "not allowed" rather than "wrong".
_REFUSED_SQLSTATES = ("25", "2D", "42501", "0A000")
#: Longest statement quoted back in an error message.
_QUOTE_CHARS = 80


def reader_role_name(url: str | sa.URL, namespace: str | None = None) -> str:
    """Return the name of the read-only PostgreSQL role of a repository.

    ``<namespace>_reader`` for a repository in a namespace, ``chamberlain_reader_<database>``
    for one in ``public`` (the database name lower-cased, characters other than letters,
    digits and ``_`` replaced by ``_``). A name longer than PostgreSQL's 63 bytes is cut and
    ends with a short hash of the full name instead.

    Parameters
    ----------
    url
        The repository's PostgreSQL URL.
    namespace
        The repository's schema, or None for ``public``.

    Returns
    -------
    str
        The role name (unquoted).
    """
    if namespace:
        name = f"{namespace}_reader"
    else:
        database = normalize_url(url).database or "postgres"
        name = "chamberlain_reader_" + re.sub(r"[^a-z0-9_]", "_", database.lower())
    if len(name.encode()) > _MAX_IDENTIFIER:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = name.encode()[: _MAX_IDENTIFIER - 9].decode(errors="ignore") + "_" + digest
    return name


def grant_reader_role(conn: sa.Connection, schema: str, role: str) -> None:
    """Create the reader ``role`` if missing and let it read every table of ``schema``.

    Runs in the caller's transaction (PostgreSQL). The role gets LOGIN, no password and no
    other attribute; USAGE on the schema; SELECT on its tables and views, and by default
    privileges on those that the current user creates there later.

    Parameters
    ----------
    conn
        A connection inside a write transaction, as a user allowed to create roles.
    schema
        The repository's schema.
    role
        The role name (see `reader_role_name`).

    Raises
    ------
    sqlalchemy.exc.DBAPIError
        If the current user may not create the role or grant on the schema.
    """
    quote = conn.dialect.identifier_preparer.quote_identifier
    exists = conn.execute(
        sa.text("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if exists is None:
        conn.exec_driver_sql(
            f"CREATE ROLE {quote(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
            "NOREPLICATION NOBYPASSRLS"
        )
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {quote(role)}")
    conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {quote(schema)} TO {quote(role)}")
    conn.exec_driver_sql(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quote(schema)} GRANT SELECT ON TABLES TO {quote(role)}"
    )


def create_reader_role(url_or_repo: str | os.PathLike[str], namespace: str | None = None) -> str:
    """Create (or refresh the grants of) the read-only role of a PostgreSQL repository.

    `Registry.create` does this for new repositories; call it for a repository created by an
    older Chamberlain, or after the grants were revoked. Connects with the repository's own
    URL, which must belong to a user allowed to create roles (CREATEROLE) and owning the
    repository's tables.

    Parameters
    ----------
    url_or_repo
        A repository directory (``chamberlain.yaml`` inside) or a PostgreSQL URL.
    namespace
        The schema, when a URL is given (defaults to the repository's).

    Returns
    -------
    str
        The role name.

    Raises
    ------
    ConfigError
        If the repository is not on PostgreSQL.
    DatabaseError
        If the role cannot be created or granted; the message says why.
    """
    url, ns = _target(url_or_repo, namespace)
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            "Reader roles exist only on PostgreSQL; a SQLite repository is read with "
            "`sqlite3 -readonly` or a file:...?mode=ro URI (docs/sql.md)."
        )
    role = reader_role_name(parsed, ns)
    engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            grant_reader_role(conn, ns or "public", role)
    except sa.exc.DBAPIError as err:
        raise DatabaseError(f"Cannot create the read-only role {role!r}: {_one_line(err.orig)}") from None
    finally:
        engine.dispose()
    return role


def _target(url_or_registry: Any, namespace: str | None) -> tuple[str | sa.URL, str | None]:
    """Return the database URL and namespace of a registry, repository directory or URL."""
    from .registry import Registry

    if isinstance(url_or_registry, Registry):
        db = url_or_registry._db
        return db.url, db.namespace if namespace is None else namespace
    if isinstance(url_or_registry, str | os.PathLike) and Path(url_or_registry).is_dir():
        from ..repository import RepositoryConfig

        config = RepositoryConfig.load(url_or_registry)
        return config.url, config.namespace if namespace is None else namespace
    return str(url_or_registry), namespace


def run_sql(
    url_or_registry: str | os.PathLike[str] | Registry, statement: str, namespace: str | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one SQL statement read-only and return its column names and rows.

    Opens its own connection (see the module documentation for what makes it read-only),
    runs the statement in a transaction that is always rolled back, and closes it.

    Parameters
    ----------
    url_or_registry
        A database URL, a repository directory (``chamberlain.yaml`` inside),
        or an open `Registry` (a separate read-only connection is opened).
    statement
        The SQL text: one statement (a trailing ``;`` is allowed), run as written
        (no parameters).
    namespace
        The repository's PostgreSQL schema (defaults to the repository's); the
        only schema searched for unqualified names.

    Returns
    -------
    tuple
        (column names, rows as tuples). A statement returning no rows gives
        ``([], [])``.

    Raises
    ------
    ReadOnlyError
        If the statement is refused: it tries to write, to end the transaction,
        to change a setting, to attach a file, to use server files or programs,
        or is more than one statement; or the PostgreSQL reader role is missing
        or unsafe (the message names the role and how to create it).
    DatabaseError
        If the database rejects the statement (syntax, unknown table...); the
        message names it.
    """
    url, ns = _target(url_or_registry, namespace)
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _run_sqlite(parsed, statement)
    return _run_postgresql(parsed, ns, statement)


# --- PostgreSQL -----------------------------------------------------------------------------


def _run_postgresql(
    url: sa.URL, namespace: str | None, statement: str
) -> tuple[list[str], list[tuple[Any, ...]]]:
    import psycopg

    role = reader_role_name(url, namespace)
    schema = namespace or "public"
    how = (
        "create it with `chamberlain sql REPO --create-role` (or chamberlain.registry.sql.create_reader_role) "
        "as a user allowed to create roles"
    )
    # Connect *as* the reader role (no password: libpq finds one in PGPASSWORD/~/.pgpass if the
    # server asks), never as the repository's user: SET SESSION AUTHORIZATION could be reset.
    reader_url = url.set(username=role, password=None)
    args, kwargs = reader_url.get_dialect()().create_connect_args(reader_url)
    try:
        pg = psycopg.connect(*args, **kwargs, autocommit=True)
    except psycopg.OperationalError as err:
        text = _one_line(err)
        if f'role "{role}" does not exist' in text:
            _check_namespace(url, namespace)  # a mistyped namespace is the likelier mistake
            raise ReadOnlyError(
                f"Cannot run SQL: the read-only role {role!r} of this repository does not exist; {how}."
            ) from None
        raise ReadOnlyError(
            f"Cannot run SQL: connecting as the read-only role {role!r} failed ({text}); the server must "
            "let it log in (trust for local connections, or a password in ~/.pgpass); see docs/sql.md."
        ) from None
    try:
        with pg.cursor() as cursor:
            cursor.execute("BEGIN READ ONLY")
            # The first query takes the snapshot: from now on transaction_read_only cannot be
            # switched off, and it checks the role lends no privilege it should not have.
            cursor.execute(
                "SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls "
                "OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members AS m WHERE m.member = r.oid), "
                "session_user = current_user "
                "FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user"
            )
            privileged, plain_session = cursor.fetchone() or (True, False)
            if privileged or not plain_session:
                raise ReadOnlyError(
                    f"Cannot run SQL: the role {role!r} is not a plain read-only role (it has a role "
                    "attribute such as SUPERUSER or CREATEROLE, or is a member of another role); "
                    f"drop it and {how}."
                )
            cursor.execute("SELECT pg_catalog.set_config('search_path', %s, true)", (f'"{schema}"',))
            before = _settings(cursor)
            try:
                cursor.execute(statement.encode(), prepare=True)
            except psycopg.Error as err:
                raise _postgresql_error(err, statement) from None
            tag = (cursor.statusmessage or "").split(" ", 1)[0]
            if pg.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
                raise ReadOnlyError(
                    f"SQL statement refused: it may not end the read-only transaction ({tag}): {_quote(statement)}"
                )
            if tag not in _QUERY_TAGS:
                raise ReadOnlyError(
                    f"SQL statement refused: only queries (SELECT, SHOW, EXPLAIN) may run, not {tag}: "
                    f"{_quote(statement)}"
                )
            columns = [d.name for d in cursor.description or ()]
            rows = [tuple(r) for r in cursor.fetchall()] if columns else []
            # Anything that writes (even what a read-only transaction lets through, such as
            # lo_create) is given a transaction ID; a query never is.
            cursor.execute("SELECT pg_catalog.txid_current_if_assigned() IS NOT NULL")
            if (cursor.fetchone() or (True,))[0]:
                raise ReadOnlyError(
                    f"SQL statement refused: the connection is read-only and the statement wrote: "
                    f"{_quote(statement)}"
                )
            changed = sorted(name for name, value in _settings(cursor).items() if before.get(name) != value)
            if changed:
                raise ReadOnlyError(
                    f"SQL statement refused: it may not change settings ({', '.join(changed)}): {_quote(statement)}"
                )
            return columns, rows
    finally:
        pg.close()  # never committed: closing rolls the transaction back


def _check_namespace(url: sa.URL, namespace: str | None) -> None:
    """Raise `ConfigError` if ``namespace`` holds no repository (checked with the repository's URL)."""
    db = Database(url, namespace=namespace, writeable=False)
    try:
        with db.transaction(write=False) as conn:
            db.check_namespace(conn)
    except DatabaseError:
        pass  # cannot tell; the caller reports the missing role
    finally:
        db.close()


def _settings(cursor: Any) -> dict[str, str]:
    cursor.execute("SELECT name, setting FROM pg_catalog.pg_settings")
    return dict(cursor.fetchall())


def _postgresql_error(err: Exception, statement: str) -> Exception:
    text = _one_line(err)
    sqlstate = getattr(err, "sqlstate", None) or ""
    if "cannot insert multiple commands" in text:
        return ReadOnlyError(
            f"SQL statement refused: give exactly one statement per call ({text}): {_quote(statement)}"
        )
    if "COPY" in text and "cannot be used with this method" in text:
        return ReadOnlyError(f"SQL statement refused: COPY is not supported, use SELECT: {_quote(statement)}")
    if sqlstate.startswith(_REFUSED_SQLSTATES):
        return ReadOnlyError(
            f"SQL statement refused: the connection is read-only ({text}): {_quote(statement)}"
        )
    return DatabaseError(f"SQL statement failed: {text}: {_quote(statement)}")


# --- SQLite ---------------------------------------------------------------------------------

#: PRAGMAs that only report (allowed with any argument, which names a table or index).
_SQLITE_REPORTING_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
        "database_list",
        "collation_list",
        "function_list",
        "module_list",
        "pragma_list",
        "compile_options",
    }
)
#: PRAGMAs that read a value when given no argument (and would set it with one).
_SQLITE_VALUE_PRAGMAS = frozenset(
    {
        "application_id",
        "user_version",
        "schema_version",
        "data_version",
        "encoding",
        "page_size",
        "page_count",
        "freelist_count",
        "foreign_keys",
        "journal_mode",
        "auto_vacuum",
    }
)
_SQLITE_ALLOWED = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
#: Authorizer action codes by name (for messages); the module's other SQLITE_ constants
#: (result codes, limits) share the same numbers, so the names are listed.
_SQLITE_ACTIONS = {
    getattr(sqlite3, f"SQLITE_{name}"): name
    for name in [
        "CREATE_INDEX",
        "CREATE_TABLE",
        "CREATE_TEMP_INDEX",
        "CREATE_TEMP_TABLE",
        "CREATE_TEMP_TRIGGER",
        "CREATE_TEMP_VIEW",
        "CREATE_TRIGGER",
        "CREATE_VIEW",
        "DELETE",
        "DROP_INDEX",
        "DROP_TABLE",
        "DROP_TEMP_INDEX",
        "DROP_TEMP_TABLE",
        "DROP_TEMP_TRIGGER",
        "DROP_TEMP_VIEW",
        "DROP_TRIGGER",
        "DROP_VIEW",
        "INSERT",
        "PRAGMA",
        "TRANSACTION",
        "UPDATE",
        "ATTACH",
        "DETACH",
        "ALTER_TABLE",
        "REINDEX",
        "ANALYZE",
        "CREATE_VTABLE",
        "DROP_VTABLE",
        "SAVEPOINT",
    ]
    if hasattr(sqlite3, f"SQLITE_{name}")
}


def _run_sqlite(url: sa.URL, statement: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise ConfigError(f"`chamberlain sql` needs a SQLite database file, not {database or 'memory'!r}.")
    path = Path(database).absolute()
    if not path.is_file():
        raise ConfigError(f"SQLite database {str(path)!r} does not exist.")
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
    denied: list[str] = []

    def authorize(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
        if action in _SQLITE_ALLOWED:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and db == "main" and source is None:
            # Asked while SQLite reads the schema for a table-valued PRAGMA function; the file
            # is opened read-only and query_only is on, so nothing can be written anyway.
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and arg1 is not None:
            name = arg1.lower()
            if name in _SQLITE_REPORTING_PRAGMAS or (name in _SQLITE_VALUE_PRAGMAS and arg2 is None):
                return sqlite3.SQLITE_OK
        what = _SQLITE_ACTIONS.get(action, str(action))
        denied.append(f"{what} {arg1}" if arg1 and action != sqlite3.SQLITE_ATTACH else what)
        return sqlite3.SQLITE_DENY

    try:
        con = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as err:
        raise DatabaseError(f"Cannot open SQLite database {str(path)!r} read-only: {err}") from None
    try:
        try:
            con.execute("PRAGMA query_only = ON")
            con.execute("BEGIN")
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as err:
            raise DatabaseError(f"{str(path)!r} is not a usable SQLite database ({err}).") from None
        con.set_authorizer(authorize)
        try:
            cursor = con.execute(statement)
            columns = [d[0] for d in cursor.description or ()]
            rows = [tuple(r) for r in cursor.fetchall()] if columns else []
        except sqlite3.ProgrammingError as err:
            if "one statement at a time" in str(err):
                raise ReadOnlyError(
                    f"SQL statement refused: give exactly one statement per call ({err}): {_quote(statement)}"
                ) from None
            raise DatabaseError(f"SQL statement failed: {_one_line(err)}: {_quote(statement)}") from None
        except sqlite3.Error as err:
            if denied:
                raise ReadOnlyError(
                    f"SQL statement refused: the connection is read-only (not allowed: {denied[0]}): "
                    f"{_quote(statement)}"
                ) from None
            text = _one_line(err)
            if "readonly" in text or "read-only" in text or "not authorized" in text:
                raise ReadOnlyError(
                    f"SQL statement refused: the connection is read-only ({text}): {_quote(statement)}"
                ) from None
            raise DatabaseError(f"SQL statement failed: {text}: {_quote(statement)}") from None
        return columns, rows
    finally:
        con.set_authorizer(None)
        con.close()  # the read transaction is rolled back


# --- messages -------------------------------------------------------------------------------


def _one_line(err: object) -> str:
    return " ".join(str(err).split())


def _quote(statement: str) -> str:
    """Put the statement on one line, cut to `_QUOTE_CHARS` characters."""
    text = " ".join(statement.split())
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 3] + "..."
