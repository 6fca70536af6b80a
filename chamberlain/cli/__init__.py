"""The ``chamberlain`` command: thin click glue over library calls.

Run ``chamberlain --help`` for the list of commands; ``docs/cli.md``
documents each one. ``python -m chamberlain.cli`` runs the same command.

Adding a command
----------------
Commands live in modules of this package, one module per family
(``repo.py``, ``instrument.py``, ``collections.py``, ``dataset_types.py``,
...). A module defines plain ``click.Command`` objects (``@click.command``,
not attached to any group), using the shared pieces:

- `chamberlain.cli._repo.repo_argument` and `open_registry` for the
  ``REPO`` argument and opening its registry;
- `chamberlain.cli._format.format_option` and `print_rows` for
  ``--format table|csv|json`` output;
- raise `chamberlain.errors.ChamberlainError` subclasses for user errors; the
  group prints them as one ``error: ...`` line and exits 1 (never catch them
  in a command; never call ``sys.exit``).

Then add one line to `COMMANDS` below: ``"command-name": "module:attribute"``.
Command modules are imported lazily, only when that command (or the full
help listing) is needed, so ``chamberlain create`` does not import what
``chamberlain ingest-raws`` needs. Finally add a ``## chamberlain
command-name`` section to ``docs/cli.md``; ``tests/docs/test_docs_cli.py``
fails until every command has help text and a section.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click

from ._errors import EXIT_FAILURE, error_line

__all__ = ["COMMANDS", "ChamberlainGroup", "cli", "main"]

COMMANDS: dict[str, str] = {
    "create": "chamberlain.cli.repo:create",
    "migrate": "chamberlain.cli.repo:migrate",
    "demo": "chamberlain.cli.repo:demo",
    "register-instrument": "chamberlain.cli.instrument:register_instrument_command",
    "simulate-raws": "chamberlain.cli.instrument:simulate_raws_command",
    "ingest-raws": "chamberlain.cli.ingest:ingest_raws_command",
    "query-collections": "chamberlain.cli.collections:query_collections",
    "collection-chain": "chamberlain.cli.collections:collection_chain",
    "certify-calibrations": "chamberlain.cli.collections:certify_calibrations",
    "decertify": "chamberlain.cli.collections:decertify",
    "remove-collections": "chamberlain.cli.collections:remove_collections",
    "associate": "chamberlain.cli.associations:associate",
    "disassociate": "chamberlain.cli.associations:disassociate",
    "query-dataset-types": "chamberlain.cli.dataset_types:query_dataset_types",
    "register-dataset-type": "chamberlain.cli.dataset_types:register_dataset_type",
    "remove-dataset-type": "chamberlain.cli.dataset_types:remove_dataset_type",
    "ingest-files": "chamberlain.cli.ingest_files:ingest_files_command",
    "config-dump": "chamberlain.cli.config:config_dump",
    "query-datasets": "chamberlain.cli.queries:query_datasets",
    "query-data-ids": "chamberlain.cli.queries:query_data_ids",
    "query-dimension-records": "chamberlain.cli.queries:query_dimension_records",
    "sql": "chamberlain.cli.sql:sql",
    "remove-runs": "chamberlain.cli.maintenance:remove_runs",
    "prune-datasets": "chamberlain.cli.maintenance:prune_datasets",
    "verify": "chamberlain.cli.maintenance:verify",
    "define-visits": "chamberlain.cli.visits:define_visits",
    "register-skymap": "chamberlain.cli.skymap:register_skymap_command",
    "export": "chamberlain.cli.transfers:export_command",
    "import": "chamberlain.cli.transfers:import_command",
    "pipeline": "chamberlain.cli.pipeline:pipeline",
}
"""Command name -> ``"module:attribute"`` of its `click.Command` (imported lazily)."""

_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class ChamberlainGroup(click.Group):
    """A click group that loads commands from `COMMANDS` lazily and reports errors in one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        module_name, _, attribute = COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]!r} is not a click command.")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as err:
            if ctx.params.get("debug"):
                raise
            click.echo(error_line(err), err=True)
            ctx.exit(EXIT_FAILURE)


def _configure_logging(verbose: int, log_levels: tuple[str, ...]) -> None:
    """Set up logging to standard error; without -v or --log-level Python's defaults stay."""
    if not verbose and not log_levels:
        return
    root_level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    component_levels: dict[str, int] = {}
    for item in log_levels:
        component, _, level = item.rpartition("=")
        name = level.strip().upper()
        if name not in _LOG_LEVELS:
            raise click.BadParameter(
                f"{item!r}: level {level!r} is not one of {', '.join(_LOG_LEVELS)}.",
                param_hint="'--log-level'",
            )
        if component:
            component_levels[component.strip()] = getattr(logging, name)
        else:
            root_level = getattr(logging, name)
    logging.basicConfig(level=root_level, format="%(levelname)s %(name)s: %(message)s", force=True)
    for component, level_value in component_levels.items():
        logging.getLogger(component).setLevel(level_value)


@click.group(cls=ChamberlainGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--debug", is_flag=True, help="Show the full traceback of an error instead of a one-line message."
)
@click.option("-v", "--verbose", count=True, help="Log more: -v for INFO, -vv for DEBUG (default WARNING).")
@click.option(
    "--log-level",
    "log_levels",
    multiple=True,
    metavar="[COMPONENT=]LEVEL",
    help="Logging level for everything, or for one logger such as chamberlain.registry "
    "(repeatable; overrides -v). Levels: CRITICAL, ERROR, WARNING, INFO, DEBUG.",
)
@click.version_option(package_name="chamberlain", prog_name="chamberlain")
def cli(debug: bool, verbose: int, log_levels: tuple[str, ...]) -> None:
    """Create, fill, query and maintain Chamberlain repositories.

    A repository is a directory holding chamberlain.yaml (where its database
    is) and its files. Errors are reported on one line with exit status 1;
    pass --debug for the traceback.
    """
    _configure_logging(verbose, log_levels)


def main(args: list[str] | None = None) -> Any:
    """Entry point of the ``chamberlain`` script (and ``python -m chamberlain.cli``)."""
    return cli.main(args=args, prog_name="chamberlain")
