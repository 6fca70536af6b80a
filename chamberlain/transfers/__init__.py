"""Export and import of repository metadata and files.

`export_repository` writes a Chamberlain YAML export (dimension records,
collections, dataset types, datasets and their file paths); `import_repository`
reads one back, or a Rubin butler YAML export (format 1.0.x), into a
repository in one transaction, refusing dimension records that conflict with
the stored ones. `Butler.export` and `Butler.import_` call these; see
``docs/transfers.md``.
"""

from __future__ import annotations

from ._contents import ExportFormatError, RepoContents
from .export import EXPORT_VERSION, ExportSummary, export_repository
from .import_ import ImportSummary, import_repository, read_export

__all__ = [
    "EXPORT_VERSION",
    "ExportFormatError",
    "ExportSummary",
    "ImportSummary",
    "RepoContents",
    "export_repository",
    "import_repository",
    "read_export",
]
