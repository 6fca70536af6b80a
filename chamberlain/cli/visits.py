"""The ``define-visits`` command: group an instrument's exposures into visits with sky regions."""

from __future__ import annotations

import contextlib

import click

from chamberlain.errors import ConfigError, DataIdValueError, InstrumentError, format_choices
from chamberlain.instrument import get_instrument
from chamberlain.tasks import DefineVisitsConfig, DefineVisitsTask
from chamberlain.tasks._visits_grouping import GROUP_EXPOSURES

from ._butler import collections_option, expand_collections, explain, note, open_butler, where_option
from ._progress import progress_callback
from ._repo import repo_argument

__all__ = ["define_visits"]

#: Grouping used when --visit-system is not given, by the instrument's preferred visit system ID.
_GROUPING_BY_SYSTEM = {0: "one-to-one", 1: "by-group-metadata", 2: "by-counter-and-exposure"}
_REGION_CHOICES = ("auto", "by-camera-geometry", "single-raw-wcs")


def _choose_regions(instrument: str, regions: str) -> str:
    """``auto``: camera geometry when the instrument plug-in has detectors, else one raw's WCS."""
    if regions != "auto":
        return regions
    try:
        has_camera = bool(get_instrument(instrument).detectors)
    except InstrumentError:
        has_camera = False
    return "by-camera-geometry" if has_camera else "single-raw-wcs"


def _default_grouping(instrument: str) -> str:
    try:
        system = get_instrument(instrument).visit_system
    except InstrumentError:
        return "one-to-one"
    return _GROUPING_BY_SYSTEM.get(system, "one-to-one")


@click.command("define-visits")
@repo_argument
@click.argument("instrument")
@collections_option(
    help_text="Collections holding the raws, searched in order (repeatable or comma-separated); "
    "needed for single-raw-wcs regions, which read each raw's WCS."
)
@where_option
@click.option(
    "--visit-system",
    type=click.Choice(GROUP_EXPOSURES.names()),
    default=None,
    help="How exposures are grouped into visits (default: the instrument's preferred visit system; "
    "one-to-one for SimCam).",
)
@click.option(
    "--regions",
    type=click.Choice(_REGION_CHOICES),
    default="auto",
    show_default=True,
    help="How regions are computed: from the camera geometry and each exposure's pointing, or from "
    "one raw's WCS per exposure; auto uses the camera geometry when the instrument plug-in has one.",
)
@click.option(
    "-j",
    "--processes",
    type=int,
    default=1,
    show_default=True,
    help="Worker processes for computing regions (writes stay in this process).",
)
@click.option(
    "--update-records",
    is_flag=True,
    help="Overwrite stored visits whose content differs (otherwise such a difference is an error).",
)
@click.option(
    "--incremental",
    is_flag=True,
    help="Add exposures arriving after their visit was defined (e.g. late snaps) and update those visits.",
)
def define_visits(
    repo: str,
    instrument: str,
    collections: tuple[str, ...],
    where: str,
    visit_system: str | None,
    regions: str,
    processes: int,
    update_records: bool,
    incremental: bool,
) -> None:
    """Define visits from INSTRUMENT's exposures matching --where (default all).

    Writes visit, visit_definition, visit_system_membership and
    visit_detector_region records (and their overlaps with registered
    skymaps), one transaction per visit; re-running is a no-op. Prints one
    summary line: visits defined, new, already present, updated, and
    exposures skipped because they cannot see the sky.
    """
    algorithm = _choose_regions(instrument, regions)
    with open_butler(repo, writeable=True) as butler, contextlib.ExitStack() as stack:
        if butler.registry.get_dimension_record("instrument", instrument=instrument) is None:
            registered = [r.name for r in butler.registry.fetch_dimension_records("instrument")]
            raise DataIdValueError(
                f"Instrument {instrument!r} is not registered in {repo!r} (registered: "
                f"{format_choices(registered)}); register it with "
                f"'chamberlain register-instrument {repo} {instrument}' if it is a known instrument."
            )
        searched = expand_collections(butler, collections) if collections else []
        if algorithm == "single-raw-wcs" and not searched:
            raise ConfigError(
                "single-raw-wcs regions read each raw's WCS: give --collections naming where the raws are."
            )
        results = butler.query_dimension_records("exposure", where=where, data_id={"instrument": instrument})
        exposures = list(results)
        if not exposures:
            note(f"no exposures of {instrument!r} match" + explain(results.explain_no_results()))
        config = DefineVisitsConfig()
        config.group_exposures.name = visit_system or _default_grouping(instrument)
        config.compute_visit_regions.name = algorithm
        task = DefineVisitsTask(config, butler=butler)
        result = task.run(
            exposures,
            collections=searched or None,
            processes=processes,
            update_records=update_records,
            incremental=incremental,
            progress=progress_callback(stack, f"Writing visits of {instrument}"),
        )
    click.echo(
        f"Defined {result.n_visits} visit(s) of {instrument}: {result.n_new} new, "
        f"{result.n_skipped} already present, {result.n_updated} updated; "
        f"{result.n_not_on_sky} exposure(s) skipped (cannot see the sky)."
    )
