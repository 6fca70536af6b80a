"""Raw ingest command: ``ingest-raws``."""

from __future__ import annotations

import contextlib

import click

from chamberlain.errors import IngestError

from ._progress import progress_callback
from ._repo import transfer_option

__all__ = ["ingest_raws_command"]


@click.command("ingest-raws")
@click.argument("repo", type=click.Path(file_okay=False, path_type=str))
@click.argument("locations", nargs=-1, required=True, metavar="FILES_OR_DIRS...")
@click.option(
    "--instrument", default=None, help="Only accept raws of this instrument (default: from each header)."
)
@click.option("--run", default=None, help="RUN collection for the raws (default <instrument>/raw/all).")
@transfer_option(
    "How files get into the repository (auto: copy files from outside it, keep files inside it)."
)
@click.option(
    "--processes", "-j", type=click.IntRange(min=1), default=1, show_default=True,
    help="Processes reading and translating headers.",
)  # fmt: skip
@click.option(
    "--fail-fast", is_flag=True, help="Stop at the first bad file; nothing from its batch is written."
)
def ingest_raws_command(
    repo: str,
    locations: tuple[str, ...],
    instrument: str | None,
    run: str | None,
    transfer: str,
    processes: int,
    fail_fast: bool,
) -> None:
    """Ingest raw FITS files (and directories of them) as raw datasets.

    Headers are translated by the instrument's plug-in (SimCam) or by
    astro-metadata-translator (HSC, DECam, MegaPrime...); exposure, day_obs
    and group records are written with the datasets, one transaction per
    batch. Files already ingested (also by another ingest running at the same
    time) are counted as already present. Every file that cannot be ingested
    (not FITS, truncated, untranslatable, a FIFO or device, a dangling link)
    is reported on its own line with the reason; the others are ingested and
    the exit status is 1. A directory without raw files, or an unknown
    --instrument, is an error before anything is read.
    """
    from chamberlain.butler import Butler
    from chamberlain.naming import validate_collection_name
    from chamberlain.tasks.ingest_raws import check_instrument, find_raw_files, ingest_raws

    if instrument is not None:
        check_instrument(instrument)  # once, before any file is looked at
    if run is not None:
        validate_collection_name(run, "run")  # before the progress bar starts
    files = find_raw_files(locations)
    with contextlib.ExitStack() as stack:
        butler = stack.enter_context(Butler(repo, writeable=True))
        summary = ingest_raws(
            butler,
            files,
            instrument=instrument,
            run=run,
            transfer=transfer,
            processes=processes,
            fail_fast=fail_fast,
            progress=progress_callback(stack, "Ingesting raws"),
        )
    for path, reason in summary.failed:
        click.echo(f"failed: {path}: {reason}", err=True)
    click.echo(str(summary))
    if summary.failed:
        raise IngestError(
            f"{len(summary.failed)} of {len(files)} raw file(s) could not be ingested (listed above)."
        )
