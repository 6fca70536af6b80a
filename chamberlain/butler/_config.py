"""The repository's settings files as the `Butler` reads and writes them.

``chamberlain.yaml`` (`~chamberlain.repository.RepositoryConfig`) says where
the database is; the optional ``datastore.yaml`` holds the datastore settings
given to `Butler.create` (file templates, formatters, checksum).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from chamberlain.datastore import DEFAULT_TEMPLATES, get_storage_class, storage_class_names
from chamberlain.repository import (
    CONFIG_NAME,
    DATASTORE_CONFIG_NAME,
    SQLITE_NAME,
    RepositoryConfig,
    describe_repository,
)

__all__ = ["REPOSITORY_FILES", "effective_config", "write_datastore_options"]

#: Files in the root that `Butler.verify` never reports: the settings and the SQLite database.
REPOSITORY_FILES = frozenset(
    {
        CONFIG_NAME,
        DATASTORE_CONFIG_NAME,
        SQLITE_NAME,
        *(SQLITE_NAME + s for s in ("-wal", "-shm", "-journal")),
    }
)


def write_datastore_options(
    root: Path,
    *,
    templates: Mapping[str, str] | None,
    formatters: Mapping[str, str] | None,
    checksum: bool,
) -> None:
    """Write ``datastore.yaml`` in ``root`` with the settings that differ from the defaults (if any).

    Parameters
    ----------
    root
        The repository directory.
    templates, formatters, checksum
        The settings given to `Butler.create`.
    """
    options: dict[str, Any] = {}
    if templates:
        options["templates"] = dict(templates)
    if formatters:
        options["formatters"] = dict(formatters)
    if checksum:
        options["checksum"] = True
    if options:
        (root / DATASTORE_CONFIG_NAME).write_text(yaml.safe_dump(options, sort_keys=False))


def effective_config(config: RepositoryConfig) -> dict[str, Any]:
    """Return the repository's configuration with the effective defaults filled in (see `Butler.dump_config`).

    Parameters
    ----------
    config
        Where the repository is (its root holds ``datastore.yaml``, if any).

    Returns
    -------
    dict
        The ``repository``, ``datastore`` and ``files`` sections.
    """
    root = config.root
    options = config.datastore_options()
    templates = dict(DEFAULT_TEMPLATES)
    templates.update(options.get("templates") or {})
    overrides = dict(options.get("formatters") or {})
    formatters = {
        name: overrides.get(name, get_storage_class(name).formatter) for name in storage_class_names()
    }
    formatters.update(overrides)
    return {
        "repository": describe_repository(config),
        "datastore": {
            "templates": templates,
            "formatters": dict(sorted(formatters.items())),
            "checksum": bool(options.get("checksum", False)),
        },
        "files": {
            CONFIG_NAME: True,
            DATASTORE_CONFIG_NAME: (root / DATASTORE_CONFIG_NAME).is_file(),
        },
    }
