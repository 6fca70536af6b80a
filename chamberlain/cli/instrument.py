"""Instrument commands: ``register-instrument`` and ``simulate-raws``."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from chamberlain.errors import ConfigError
from chamberlain.instrument import simulate_raws
from chamberlain.instrument.registration import register_instrument

from ._repo import open_registry, repo_argument

__all__ = ["register_instrument_command", "simulate_raws_command"]

_DEFAULT_DAY = "2025-03-14"  # the day_obs of DEFAULT_START_TIME (2025-03-15T02:00 UTC)


def _start_time(start_date: str | None) -> str | None:
    """The UTC start time for ``--start-date``: 02:00 UTC on the day after a plain date."""
    if start_date is None:
        return None
    text = start_date.strip()
    if "T" in text or " " in text:
        return text
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--start-date {start_date!r} is not a date; use YYYY-MM-DD (or YYYY-MM-DDTHH:MM:SS in UTC)."
        ) from None
    return f"{day + datetime.timedelta(days=1)}T02:00:00"


@click.command("register-instrument")
@repo_argument
@click.argument("instruments", nargs=-1, required=True, metavar="NAME...")
@click.option(
    "--update",
    is_flag=True,
    help="Overwrite stored instrument, detector and filter records that differ instead of failing.",
)
def register_instrument_command(repo: str, instruments: tuple[str, ...], update: bool) -> None:
    """Write the instrument, detector and physical_filter records of instruments.

    NAME is an instrument name (such as SimCam) or a module.Class path.
    Registering again changes nothing; records that differ from the stored
    ones are an error unless --update is given.
    """
    with open_registry(repo) as registry, registry.transaction():
        summaries = [register_instrument(registry, name, update=update) for name in instruments]
    for summary in summaries:
        click.echo(str(summary))


@click.command("simulate-raws")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--exposures", "-n", type=int, default=2, show_default=True, help="Number of exposures to simulate."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (pointings, noise).")
@click.option(
    "--image-size",
    type=int,
    default=2048,
    show_default=True,
    help="Pixels per side; smaller sizes are binned readouts with the same sky footprint.",
)
@click.option(
    "--detector",
    "detectors",
    type=int,
    multiple=True,
    help="Detector ID to write (repeatable; default all nine).",
)
@click.option(
    "--no-calibrations", is_flag=True, help="Simulate only science exposures (no bias, flat or dark)."
)
@click.option(
    "--start-date",
    metavar="YYYY-MM-DD",
    default=None,
    help="Observing day (day_obs) of the first exposure; the night starts at 02:00 UTC the next "
    "calendar day, as in Chile. A full UTC time YYYY-MM-DDTHH:MM:SS is taken as the exact start. "
    f"Default: day {_DEFAULT_DAY}.",
)
@click.option(
    "--first-seq",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Sequence number (seq_num) of the first exposure, so a second batch on the same day gets "
    "new exposure IDs (e.g. --first-seq 101).",
)
def simulate_raws_command(
    out_dir: str,
    exposures: int,
    seed: int,
    image_size: int,
    detectors: tuple[int, ...],
    no_calibrations: bool,
    start_date: str | None,
    first_seq: int,
) -> None:
    """Write simulated SimCam raw FITS files into OUT_DIR.

    One file per exposure and detector, with realistic headers and WCS; the
    same seed gives the same files. Every run starts at the same day and
    sequence number unless --start-date or --first-seq say otherwise: give a
    second batch for the same repository another day or first sequence number.
    """
    paths = simulate_raws(
        out_dir,
        exposures,
        seed,
        image_size=image_size,
        detectors=list(detectors) or None,
        calibrations=not no_calibrations,
        start_time=_start_time(start_date),
        first_seq_num=first_seq,
    )
    click.echo(f"Wrote {len(paths)} raw file(s) to {Path(out_dir).absolute()}.")
