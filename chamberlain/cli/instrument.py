"""Instrument commands: ``register-instrument`` and ``simulate-raws``."""

from __future__ import annotations

from pathlib import Path

import click

from chamberlain.instrument import simulate_raws
from chamberlain.instrument.registration import register_instrument

from ._repo import open_registry, repo_argument

__all__ = ["register_instrument_command", "simulate_raws_command"]


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
def simulate_raws_command(
    out_dir: str,
    exposures: int,
    seed: int,
    image_size: int,
    detectors: tuple[int, ...],
    no_calibrations: bool,
) -> None:
    """Write simulated SimCam raw FITS files into OUT_DIR.

    One file per exposure and detector, with realistic headers and WCS; the
    same seed gives the same files.
    """
    paths = simulate_raws(
        out_dir,
        exposures,
        seed,
        image_size=image_size,
        detectors=list(detectors) or None,
        calibrations=not no_calibrations,
    )
    click.echo(f"Wrote {len(paths)} raw file(s) to {Path(out_dir).absolute()}.")
