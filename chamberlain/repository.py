"""Repository directories: where the database and the files of a repository live.

A repository is a directory. It holds ``chamberlain.yaml``, which says where
the registry database is, and the datastore's files. With no database URL
given, the registry is the SQLite file ``chamberlain.sqlite3`` inside the
directory; a PostgreSQL URL (and optional schema namespace) makes a shared
repository whose files still live under the directory.

    # chamberlain.yaml
    db: postgresql://postgres@127.0.0.1:5432/test   # or null for SQLite inside the root
    namespace: survey_a                              # PostgreSQL schema, optional

A repository owns its directory: it is created in a missing or empty
directory, never inside another repository (`check_new_root`). Created with
``allow_existing_files`` in a directory that already held files, it lists them
in ``chamberlain-preexisting.json`` (`write_preexisting`, `read_preexisting`)
as files it does not own.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pydantic
import pydantic.dataclasses
import yaml

from .errors import ConfigError

CONFIG_NAME = "chamberlain.yaml"
SQLITE_NAME = "chamberlain.sqlite3"
#: Optional datastore settings in the root (templates, formatters, checksum).
DATASTORE_CONFIG_NAME = "datastore.yaml"
#: Lists (a JSON list of relative POSIX paths) the files that were in the root before the
#: repository was created there; the repository does not own them (`Butler.create`,
#: ``allow_existing_files``).
PREEXISTING_NAME = "chamberlain-preexisting.json"
#: Marks a repository made by ``chamberlain demo`` (which ``demo --replace`` may delete).
DEMO_MARKER_NAME = ".chamberlain-demo"
#: A directory holding one of these is (or was) a repository.
REPOSITORY_MARKERS = (CONFIG_NAME, SQLITE_NAME)
#: Files of the repository itself, in its root: never datasets, never deleted as orphans.
REPOSITORY_FILES = frozenset(
    {
        CONFIG_NAME,
        DATASTORE_CONFIG_NAME,
        SQLITE_NAME,
        *(SQLITE_NAME + suffix for suffix in ("-wal", "-shm", "-journal")),
        PREEXISTING_NAME,
        DEMO_MARKER_NAME,
    }
)


#: The keys each configuration file may hold (the fields of `RepositoryConfig` it sets).
_FILE_KEYS: dict[str, tuple[str, ...]] = {
    CONFIG_NAME: ("db", "namespace"),
    DATASTORE_CONFIG_NAME: ("templates", "formatters", "checksum"),
}
_WHAT_IS_VALID = {
    "db": "a database URL string or null",
    "namespace": "a schema name string or null",
    "templates": "a mapping of dataset type or storage class names to template strings",
    "formatters": "a mapping of storage class or dataset type names to formatter names",
    "checksum": "true or false",
}


@pydantic.dataclasses.dataclass(frozen=True, config=pydantic.ConfigDict(extra="forbid"))
class RepositoryConfig:
    """A repository's configuration: ``chamberlain.yaml`` and the optional ``datastore.yaml``.

    One pydantic model validates both files (`load`): ``chamberlain.yaml`` says
    where the database is (``db``, ``namespace``); ``datastore.yaml`` holds the
    datastore settings (``templates``, ``formatters``, ``checksum``), each None
    when not set.

    Attributes
    ----------
    root
        The repository directory (absolute).
    db
        Database URL, or None for the SQLite file inside ``root``.
    namespace
        PostgreSQL schema holding the tables, if any.
    templates
        File templates by dataset type or storage class name, from ``datastore.yaml``.
    formatters
        Formatter names by storage class or dataset type name, from ``datastore.yaml``.
    checksum
        Whether the datastore records checksums, from ``datastore.yaml``.
    """

    root: Path
    db: str | None = None
    namespace: str | None = None
    templates: dict[str, str] | None = None
    formatters: dict[str, str] | None = None
    checksum: bool | None = None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the registry database."""
        return self.db if self.db else f"sqlite:///{self.root / SQLITE_NAME}"

    def datastore_options(self) -> dict[str, Any]:
        """Return the datastore settings ``datastore.yaml`` sets, as `FileDatastore` keyword arguments.

        Returns
        -------
        options : `dict` [`str`, `~typing.Any`]
            ``templates``, ``formatters`` and ``checksum``, each only if set.
        """
        options = {"templates": self.templates, "formatters": self.formatters, "checksum": self.checksum}
        return {key: value for key, value in options.items() if value is not None}

    @classmethod
    def load(cls, root: str | os.PathLike[str]) -> RepositoryConfig:
        """Read and validate ``chamberlain.yaml`` (and ``datastore.yaml`` if present) of a repository.

        Parameters
        ----------
        root : `str` or `os.PathLike`
            The repository directory.

        Returns
        -------
        config : `RepositoryConfig`
            The validated configuration, with an absolute ``root``.

        Raises
        ------
        ConfigError
            If the directory or ``chamberlain.yaml`` is missing, or a file is not
            valid YAML, is not a mapping, has an unknown key or a value of the wrong
            type (one line naming the file, the key and what is valid).
        """
        path = Path(root).absolute()
        config_file = path / CONFIG_NAME
        if not path.is_dir():
            raise ConfigError(f"Repository {str(root)!r} does not exist (no such directory).")
        if not config_file.is_file():
            raise ConfigError(
                f"{str(root)!r} is not a Chamberlain repository: it has no {CONFIG_NAME}; "
                "create one with `chamberlain create`."
            )
        values: dict[str, Any] = {}
        sources: dict[str, Path] = {}
        for file in (config_file, path / DATASTORE_CONFIG_NAME):
            if file.name == DATASTORE_CONFIG_NAME and not file.exists():
                continue
            for key, value in _read_mapping(file, _FILE_KEYS[file.name]).items():
                values[key] = value
                sources[key] = file
        try:
            return cls(path, **values)
        except pydantic.ValidationError as err:
            error = err.errors()[0]
            key = str(error["loc"][0]) if error["loc"] else "?"
            raise ConfigError(
                f"{sources.get(key, config_file)}: {key!r} = {values.get(key)!r} is not valid "
                f"({error['msg']}); it must be {_WHAT_IS_VALID.get(key, 'valid')}."
            ) from None

    def save(self) -> None:
        """Write ``chamberlain.yaml`` (atomically) into the root directory."""
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / CONFIG_NAME
        tmp = target.with_name(f".{CONFIG_NAME}.tmp")
        tmp.write_text(yaml.safe_dump({"db": self.db, "namespace": self.namespace}, sort_keys=False))
        os.replace(tmp, target)


def _read_mapping(path: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    """Return the YAML mapping in ``path`` after checking it only uses ``keys``.

    An empty file is an empty mapping.

    Raises
    ------
    ConfigError
        If the file is not valid YAML, not a mapping, or has a key not in ``keys``.
    """
    shown = ", ".join(repr(k) for k in keys)
    try:
        data: Any = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or " ".join(str(err).split())
        raise ConfigError(f"{path} is not valid YAML{where}: {problem}.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping with keys among {shown}, got {type(data).__name__}.")
    unknown = sorted(str(k) for k in data if k not in keys)
    if unknown:
        raise ConfigError(f"{path} has unknown keys {unknown}; valid keys: {shown}.")
    return data


def enclosing_repository(root: str | os.PathLike[str]) -> Path | None:
    """The nearest directory above ``root`` that is a repository, if any.

    Looks for `REPOSITORY_MARKERS` in every parent of ``root``, both as
    written and with symbolic links resolved. Reads the file system only.

    Parameters
    ----------
    root
        A directory (it need not exist).
    """
    path = Path(root).absolute()
    for parents in (path.parents, path.resolve().parents):
        for parent in parents:
            if any((parent / marker).exists() for marker in REPOSITORY_MARKERS):
                return parent
    return None


def check_new_root(root: str | os.PathLike[str], *, allow_existing_files: bool = False) -> list[str]:
    """Check that a repository may be created at ``root``; return the files already there.

    A new repository goes into a missing or empty directory that is not
    inside another repository. With ``allow_existing_files`` the directory may
    hold files, provided no repository is among them; they are returned (as
    sorted relative POSIX paths, symbolic links not followed) for
    `write_preexisting` to record as not owned. Reads the file system only.

    Parameters
    ----------
    root
        The directory of the new repository.
    allow_existing_files
        Accept a directory that already holds files.

    Returns
    -------
    list[str]
        The entries found under ``root`` (empty unless ``allow_existing_files``).

    Raises
    ------
    ConfigError
        If ``root`` is empty (``''``), is not a directory, already holds a
        repository, is inside another repository, holds a file named like
        one of the repository's own (`REPOSITORY_FILES`), or holds files
        (without ``allow_existing_files``) or a repository below it.
    """
    if not os.fspath(root).strip():
        raise ConfigError(
            f"Repository path {os.fspath(root)!r} is empty; name the directory of the new repository "
            "(use '.' for the current directory)."
        )
    path = Path(root).absolute()
    shown = os.fspath(root)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"Cannot create repository {shown!r}: it exists and is not a directory.")
    found = [m for m in REPOSITORY_MARKERS if (path / m).exists()]
    if found:
        raise ConfigError(
            f"Repository {shown!r} already exists (it has {found[0]}); choose another directory."
        )
    parent = enclosing_repository(path)
    if parent is not None:
        raise ConfigError(
            f"Cannot create repository {shown!r}: it is inside the repository {str(parent)!r}; "
            "choose a directory outside it."
        )
    if not path.is_dir():
        return []
    entries = sorted(os.listdir(path))
    if not entries:
        return []
    clash = sorted(REPOSITORY_FILES.intersection(entries))
    if clash:
        raise ConfigError(
            f"Cannot create repository {shown!r}: it holds {clash[0]!r}, a name the repository's own "
            f"files use; move it away first (the repository's files: {', '.join(sorted(REPOSITORY_FILES))})."
        )
    if not allow_existing_files:
        listed = ", ".join(repr(e) for e in entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise ConfigError(
            f"Cannot create repository {shown!r}: the directory is not empty (it holds {listed}); choose "
            "an empty or new directory, or pass --allow-existing-files (allow_existing_files=True) to "
            "keep those files as not owned by the repository."
        )
    files: list[str] = []
    for directory, dirs, names in os.walk(path, followlinks=False):
        rel_dir = Path(directory).relative_to(path).as_posix()
        if rel_dir != "." and any(m in names or m in dirs for m in REPOSITORY_MARKERS):
            raise ConfigError(
                f"Cannot create repository {shown!r}: it holds the repository {rel_dir!r}; a repository "
                "may not contain another one."
            )
        for name in names + [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            files.append(name if rel_dir == "." else f"{rel_dir}/{name}")
    return sorted(files)


def write_preexisting(root: str | os.PathLike[str], paths: Iterable[str]) -> None:
    """Record (in `PREEXISTING_NAME`) files under ``root`` that the repository does not own.

    Writes nothing when ``paths`` is empty.

    Parameters
    ----------
    root
        The repository directory.
    paths
        Relative POSIX paths, as returned by `check_new_root`.
    """
    listed = [p for p in paths if p]
    if listed:
        (Path(root) / PREEXISTING_NAME).write_text(json.dumps(listed, indent=0) + "\n", encoding="ascii")


def read_preexisting(root: str | os.PathLike[str]) -> frozenset[str]:
    """The files `write_preexisting` recorded as not owned (normalised relative POSIX paths).

    Parameters
    ----------
    root
        The repository directory.
    """
    path = Path(root) / PREEXISTING_NAME
    try:
        data: Any = json.loads(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        return frozenset()
    except (ValueError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not a JSON list of paths: {err}") from None
    if not isinstance(data, list) or not all(isinstance(p, str) for p in data):
        raise ConfigError(f"{path} must hold a JSON list of relative paths.")
    return frozenset(posixpath.normpath(p) for p in data if p)


def check_outside_repository(path: str | os.PathLike[str], root: str | os.PathLike[str], what: str) -> None:
    """Refuse an output file that would land inside the repository (a command's own output must
    never replace the database, the configuration or a dataset's file).

    Parameters
    ----------
    path
        The file to write (its directory must exist; links in it are resolved).
    root
        The repository directory.
    what
        The command or call, for the message (``export``, ``config-dump``).

    Raises
    ------
    ConfigError
        If ``path`` resolves to the repository directory or anything inside it.
    """
    target = Path(path).absolute()
    resolved = target.parent.resolve() / target.name
    real_root = Path(root).resolve()
    if resolved == real_root or real_root in resolved.parents:
        raise ConfigError(
            f"Cannot write {str(path)!r}: it is inside the repository {str(root)!r}, which {what} does "
            "not change; choose a file outside it."
        )


def describe_repository(config: RepositoryConfig) -> dict[str, Any]:
    """Describe where a repository's database is, as it may be shown: any password hidden.

    Parameters
    ----------
    config
        The repository's ``chamberlain.yaml``.

    Returns
    -------
    dict
        ``root`` (str), ``db`` (the URL, None for SQLite inside the root),
        ``namespace`` and ``url`` (the effective URL), passwords replaced by ``***``.
    """
    import sqlalchemy as sa

    url = sa.engine.make_url(config.url).render_as_string(hide_password=True)
    return {
        "root": str(config.root),
        "db": None if config.db is None else url,
        "namespace": config.namespace,
        "url": url,
    }
