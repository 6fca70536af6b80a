"""Export and import methods of the `Butler` (a mixin; the work is in ``chamberlain/transfers``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .butler import Butler
    from .transfers import ExportSummary, ImportSummary


class ButlerTransfers:
    """Export/import methods shared by every `Butler`."""

    def export(
        self,
        file: str | os.PathLike[str],
        *,
        collections: str | Sequence[str] | None = None,
        dataset_types: str | Iterable[str] | None = None,
        where: str | None = None,
        with_files: bool = True,
    ) -> ExportSummary:
        """Write the metadata of selected datasets to a YAML export file (see `export_repository`).

        Exports the datasets of ``dataset_types`` (all by default) in
        ``collections`` (all by default) that match ``where``, with the
        dimension records, collections, dataset types, memberships, validity
        ranges and file paths they need. Reads in bulk; copies no file.
        """
        from .transfers import export_repository

        return export_repository(
            cast("Butler", self),
            file,
            collections=collections,
            dataset_types=dataset_types,
            where=where,
            with_files=with_files,
        )

    def import_(
        self,
        file: str | os.PathLike[str],
        *,
        directory: str | os.PathLike[str] | None = None,
        transfer: str | None = "auto",
        skip_dimensions: bool = False,
        without_datastore: bool = False,
    ) -> ImportSummary:
        """Import a Chamberlain or Rubin butler YAML export, all or nothing (see `import_repository`).

        Dimension records that differ from the stored ones are refused with a
        message naming the element, key and fields; datasets keep their IDs;
        files are transferred with ``transfer`` (``auto`` copies files from
        outside the repository).
        """
        from .transfers import import_repository

        return import_repository(
            cast("Butler", self),
            file,
            directory=directory,
            transfer=transfer,
            skip_dimensions=skip_dimensions,
            without_datastore=without_datastore,
        )
