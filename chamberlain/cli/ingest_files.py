"""The ``ingest-files`` command: datasets of any type from a table of files (`Butler.ingest_files`)."""

from __future__ import annotations

import click

from chamberlain.datasets import DatasetIdGenEnum

from ._butler import open_butler
from ._data_id import data_id_option, parse_data_id
from ._repo import repo_argument, transfer_option

__all__ = ["ingest_files_command"]


@click.command("ingest-files")
@repo_argument
@click.argument("dataset_type")
@click.argument("run")
@click.argument("table_file", type=click.Path(dir_okay=False, path_type=str))
@transfer_option(
    "How files get into the repository (auto: copy files from outside it, keep files inside it)."
)
@data_id_option(
    "A data ID value shared by every row, KEY=VALUE (repeatable, e.g. --data-id instrument=SimCam); "
    "table columns override it."
)
@click.option(
    "--formatter",
    default=None,
    help="Formatter name for every file (default: the storage class's own formatter).",
)
@click.option(
    "--id-generation-mode",
    type=click.Choice([m.name for m in DatasetIdGenEnum]),
    default=DatasetIdGenEnum.UNIQUE.name,
    show_default=True,
    help="UNIQUE: new IDs; DATAID_TYPE or DATAID_TYPE_RUN: the deterministic IDs the Rubin butler gives.",
)
def ingest_files_command(
    repo: str,
    dataset_type: str,
    run: str,
    table_file: str,
    transfer: str,
    data_id: tuple[str, ...],
    formatter: str | None,
    id_generation_mode: str,
) -> None:
    """Ingest the files listed in TABLE_FILE as DATASET_TYPE datasets into the RUN collection.

    TABLE_FILE is an ECSV (.ecsv) or CSV table with a header row: a 'file'
    column of paths (relative ones start at the table's directory) and one
    column per data ID key (e.g. instrument, detector). DATASET_TYPE must be
    registered and the dimension records must exist. Every row is checked
    before anything is written; then all are ingested in one transaction.
    """
    with open_butler(repo, writeable=True) as butler:
        refs = butler.ingest_files(
            dataset_type,
            run,
            table_file,
            data_id=parse_data_id(data_id),
            transfer=transfer,
            formatter=formatter,
            id_generation_mode=DatasetIdGenEnum[id_generation_mode],
        )
    click.echo(f"Ingested {len(refs)} {dataset_type!r} dataset(s) into {run!r}.")
