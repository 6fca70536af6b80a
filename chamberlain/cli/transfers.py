"""Transfer commands: ``export`` and ``import`` (thin glue over `Butler.export` and `Butler.import_`)."""

from __future__ import annotations

import click

from chamberlain.butler import Butler

from ._repo import repo_argument, transfer_option

__all__ = ["export_command", "import_command"]


@click.command("export")
@repo_argument
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--collections",
    "collections",
    multiple=True,
    metavar="NAME",
    help="Collection names or glob patterns to export from (repeatable; default: all).",
)
@click.option(
    "--dataset-type",
    "dataset_types",
    multiple=True,
    metavar="NAME",
    help="Dataset type names or glob patterns to export (repeatable; default: all).",
)
@click.option(
    "--where", default=None, metavar="EXPR", help="Query expression restricting the datasets exported."
)
@click.option(
    "--no-files", is_flag=True, help="Leave out the file paths: an import makes datasets without files."
)
def export_command(
    repo: str,
    file: str,
    collections: tuple[str, ...],
    dataset_types: tuple[str, ...],
    where: str | None,
    no_files: bool,
) -> None:
    """Write the metadata of REPO (or of selected datasets) to the YAML export FILE.

    The file holds dimension records, collections, dataset types, datasets
    with their IDs and file paths, TAGGED memberships and validity ranges.
    With no selection the whole repository is exported. No file is copied:
    an import reads them from REPO (or from --directory).
    """
    with Butler(repo) as butler:
        summary = butler.export(
            file,
            collections=list(collections) or None,
            dataset_types=list(dataset_types) or None,
            where=where,
            with_files=not no_files,
        )
    click.echo(
        f"Exported {summary.datasets} dataset(s) ({summary.files} file(s)), {summary.records} dimension "
        f"record(s), {summary.collections} collection(s) and {summary.dataset_types} dataset type(s) to {file}."
    )


@click.command("import")
@repo_argument
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=str))
@transfer_option("How files get into REPO; auto copies files from outside it.", short=False)
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Where the files' relative paths start (default: the exporting repository, or the "
    "directory of a Rubin export file).",
)
@click.option("--skip-dimensions", is_flag=True, help="Do not import dimension records (they must exist).")
@click.option("--without-datastore", is_flag=True, help="Import the metadata only; datasets get no files.")
def import_command(
    repo: str, file: str, transfer: str, directory: str | None, skip_dimensions: bool, without_datastore: bool
) -> None:
    """Import the export FILE (Chamberlain or Rubin butler YAML) into REPO, all or nothing.

    Dimension records that differ from REPO's are refused (the error names the
    element, key and fields); datasets keep their IDs.
    """
    with Butler(repo, writeable=True) as butler:
        summary = butler.import_(
            file,
            directory=directory,
            transfer=transfer,
            skip_dimensions=skip_dimensions,
            without_datastore=without_datastore,
        )
    click.echo(
        f"Imported {summary.datasets} dataset(s) ({summary.files} file(s); {summary.datasets_skipped} already "
        f"present), {summary.records} dimension record(s) ({summary.records_skipped} already present), "
        f"{summary.collections} collection(s) and {summary.dataset_types} dataset type(s)."
    )
    for note in summary.notes:
        click.echo(f"note: {note}")
