"""Repository directories: where the database and the files of a repository live.

A repository is a directory. It holds ``chamberlain.yaml``, which says where
the registry database is, and the datastore's files. With no database URL
given, the registry is the SQLite file ``chamberlain.sqlite3`` inside the
directory; a PostgreSQL URL (and optional schema namespace) makes a shared
repository whose files still live under the directory.

    # chamberlain.yaml
    db: postgresql://postgres@127.0.0.1:5432/test   # or null for SQLite inside the root
    namespace: survey_a                              # PostgreSQL schema, optional
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

CONFIG_NAME = "chamberlain.yaml"
SQLITE_NAME = "chamberlain.sqlite3"


@dataclasses.dataclass(frozen=True)
class RepositoryConfig:
    """Where a repository's database is.

    Attributes
    ----------
    root
        The repository directory (absolute).
    db
        Database URL, or None for the SQLite file inside ``root``.
    namespace
        PostgreSQL schema holding the tables, if any.
    """

    root: Path
    db: str | None = None
    namespace: str | None = None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the registry database."""
        return self.db if self.db else f"sqlite:///{self.root / SQLITE_NAME}"

    @classmethod
    def load(cls, root: str | os.PathLike[str]) -> RepositoryConfig:
        """Read ``chamberlain.yaml`` from a repository directory.

        Raises
        ------
        ConfigError
            If the directory or its config file is missing or malformed.
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
        try:
            data: Any = yaml.safe_load(config_file.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{config_file} is not valid YAML: {err}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{config_file} must hold a mapping with keys 'db' and 'namespace'.")
        unknown = set(data) - {"db", "namespace"}
        if unknown:
            raise ConfigError(
                f"{config_file} has unknown keys {sorted(unknown)}; valid keys: 'db', 'namespace'."
            )
        return cls(path, data.get("db"), data.get("namespace"))

    def save(self) -> None:
        """Write ``chamberlain.yaml`` (atomically) into the root directory."""
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / CONFIG_NAME
        tmp = target.with_name(f".{CONFIG_NAME}.tmp")
        tmp.write_text(yaml.safe_dump({"db": self.db, "namespace": self.namespace}, sort_keys=False))
        os.replace(tmp, target)
