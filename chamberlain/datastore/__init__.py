"""Files: storage classes, formatters, file templates and the `FileDatastore`.

Nothing here imports the registry: records are kept through the
`RecordStorage` protocol, which `chamberlain.registry.datastore_records`
satisfies, and the `~chamberlain.butler.Butler` joins the two.
"""

from __future__ import annotations

from chamberlain.datastore.file_datastore import FileDatastore, MissingFileError, file_checksum
from chamberlain.datastore.formatters import Formatter, formatter_names, get_formatter, register_formatter
from chamberlain.datastore.records import FileDataset, RecordStorage, StoredFile
from chamberlain.datastore.storage_classes import (
    StorageClass,
    get_storage_class,
    register_converter,
    register_storage_class,
    storage_class_names,
)
from chamberlain.datastore.templates import DEFAULT_TEMPLATE, DEFAULT_TEMPLATES, FileTemplate, FileTemplates
from chamberlain.datastore.verify import VerifyReport, verify_datastore

__all__ = [
    "DEFAULT_TEMPLATE",
    "DEFAULT_TEMPLATES",
    "FileDataset",
    "FileDatastore",
    "FileTemplate",
    "FileTemplates",
    "Formatter",
    "MissingFileError",
    "RecordStorage",
    "StorageClass",
    "StoredFile",
    "VerifyReport",
    "file_checksum",
    "formatter_names",
    "get_formatter",
    "get_storage_class",
    "register_converter",
    "register_formatter",
    "register_storage_class",
    "storage_class_names",
    "verify_datastore",
]
