"""Removal and checking commands: ``remove-runs``, ``prune-datasets`` and ``verify``.

Thin wrappers over `Butler.remove_runs`, `Butler.remove_datasets` and
`Butler.verify`. The removal commands list what they will remove and ask for
confirmation first (``--no-confirm`` skips the question, for scripts).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from chamberlain.butler import Butler, ButlerUsageError
from chamberlain.errors import (
    CollectionTypeError,
    FileIntegrityError,
    MissingCollectionError,
    OrphanedRecordError,
    format_choices,
)
from chamberlain.registry import CollectionType

from ._butler import (
    collections_option,
    expand_collections,
    find_first_option,
    open_butler,
    split_names,
    where_option,
)
from ._format import print_rows
from ._repo import repo_argument

__all__ = ["prune_datasets", "remove_runs", "verify"]

_CONFIRM_HELP = "Remove without asking for confirmation (for scripts)."


def _matching_runs(butler: Butler, patterns: tuple[str, ...]) -> list[str]:
    registry = butler.registry
    runs: list[str] = []
    for pattern in patterns:
        matched = registry.query_collections(pattern, [CollectionType.RUN])
        if not matched:
            others = registry.query_collections(pattern)
            if others:
                kind = registry.get_collection_type(others[0])
                raise CollectionTypeError(
                    f"Collection {others[0]!r} (matched by {pattern!r}) is {kind.name}, not a RUN; "
                    "remove-runs only removes RUN collections."
                )
            raise MissingCollectionError(
                f"No RUN collection matches {pattern!r}; RUN collections: "
                f"{format_choices(registry.query_collections('*', [CollectionType.RUN]))}."
            )
        runs += [m for m in matched if m not in runs]
    return runs


def _dataset_counts(butler: Butler, runs: list[str]) -> dict[str, int]:
    """Number of datasets in each RUN (one query)."""
    per_type = butler.registry.count_datasets(runs)
    return {name: sum(per_type[name].values()) for name in runs}


def _confirmed(question: str, no_confirm: bool) -> bool:
    if no_confirm:
        return True
    if click.confirm(question, default=False):
        return True
    click.echo("Aborted; nothing was removed.")
    return False


@click.command("remove-runs")
@repo_argument
@click.argument("patterns", nargs=-1, required=True, metavar="PATTERN...")
@click.option(
    "--unlink-from-chains",
    is_flag=True,
    help="Also remove the runs from the CHAINED collections that contain them (otherwise such a run "
    "is refused).",
)
@click.option("--no-confirm", is_flag=True, help=_CONFIRM_HELP)
def remove_runs(repo: str, patterns: tuple[str, ...], unlink_from_chains: bool, no_confirm: bool) -> None:
    """Remove the RUN collections matching the glob PATTERNs, with their datasets and files.

    Lists the runs (with their dataset counts and the chains that contain
    them) and asks for confirmation before removing anything.
    """
    with open_butler(repo, writeable=True) as butler:
        runs = _matching_runs(butler, patterns)
        counts = _dataset_counts(butler, runs)
        rows: list[dict[str, Any]] = []
        for run in runs:
            chains = butler.registry.get_collection_parent_chains(run)
            if chains and not unlink_from_chains:
                raise OrphanedRecordError(
                    f"RUN {run!r} is in the chain(s) {', '.join(map(repr, chains))}; pass "
                    "--unlink-from-chains to remove it from them too."
                )
            rows.append({"run": run, "datasets": counts[run], "chains": chains})
        click.echo("These runs will be removed:")
        print_rows(rows, ["run", "datasets", "chains"], "table")
        total = sum(counts.values())
        if not _confirmed(f"Remove {len(runs)} run(s) and {total} dataset(s)?", no_confirm):
            return
        butler.remove_runs(runs, unlink_from_chains=unlink_from_chains)
    click.echo(f"Removed {len(runs)} run(s) and {total} dataset(s).")


@click.command("prune-datasets")
@repo_argument
@click.argument("dataset_types", nargs=-1, metavar="[DATASET_TYPE...]")
@collections_option(
    help_text="Collections searched for the datasets (repeatable or comma-separated; glob patterns "
    "allowed). Defaults to --tags with --disassociate; otherwise required."
)
@where_option
@find_first_option(
    "Find-first (the default, as in query-datasets): only the first dataset of each data ID "
    "in the collections. --no-find-first prunes every match.",
)
@click.option("--purge", is_flag=True, help="Delete the datasets entirely: files and registry entries.")
@click.option("--unstore", is_flag=True, help="Delete the datasets' files; their registry entries stay.")
@click.option(
    "--disassociate", is_flag=True, help="Remove the datasets from the TAGGED collections given by --tags."
)
@click.option(
    "--tags",
    multiple=True,
    metavar="TAG[,...]",
    help="TAGGED collections for --disassociate (repeatable or comma-separated).",
)
@click.option("--no-confirm", is_flag=True, help=_CONFIRM_HELP)
def prune_datasets(
    repo: str,
    dataset_types: tuple[str, ...],
    collections: tuple[str, ...],
    where: str,
    find_first: bool,
    purge: bool,
    unstore: bool,
    disassociate: bool,
    tags: tuple[str, ...],
    no_confirm: bool,
) -> None:
    """Remove datasets of the DATASET_TYPEs (default all) found in the collections.

    Choose what removal means, exactly one of: --purge (files and registry
    entries), --unstore (files only) or --disassociate --tags TAG (take them
    out of TAGGED collections). Lists the datasets found, by type and run, and asks
    for confirmation first.
    """
    chosen = [
        flag
        for flag, on in (("--purge", purge), ("--unstore", unstore), ("--disassociate", disassociate))
        if on
    ]
    if len(chosen) > 1:
        raise ButlerUsageError(
            f"{' and '.join(chosen)} cannot be combined: they are different ways of removing; choose one of "
            "--purge, --unstore or --disassociate --tags TAG."
        )
    tag_names = split_names(tags)
    with open_butler(repo, writeable=True) as butler:
        searched = expand_collections(butler, collections) if collections else []
        if not searched and disassociate and tag_names:
            searched = tag_names
        if not searched:
            raise MissingCollectionError(
                "prune-datasets needs --collections (or --disassociate --tags) to say where the datasets are."
            )
        if not (purge or unstore or disassociate):
            raise ButlerUsageError("Choose what to do: --purge, --unstore or --disassociate --tags TAG.")
        if disassociate and not tag_names:
            raise ButlerUsageError("--disassociate needs --tags naming the TAGGED collections.")
        refs = list(
            butler.query_datasets(list(dataset_types) or "*", searched, where=where, find_first=find_first)
        )
        if not refs:
            click.echo("No datasets match; nothing to remove.")
            return
        counts = Counter((r.dataset_type.name, r.run) for r in refs)
        action = "purged" if purge else "unstored" if unstore else "disassociated"
        click.echo(f"These datasets will be {action}:")
        print_rows(
            [{"type": t, "run": run, "datasets": n} for (t, run), n in sorted(counts.items())],
            ["type", "run", "datasets"],
            "table",
        )
        if not _confirmed(f"Remove {len(refs)} dataset(s)?", no_confirm):
            return
        butler.remove_datasets(refs, disassociate=disassociate, unstore=unstore, purge=purge, tags=tag_names)
    click.echo(f"Removed {len(refs)} dataset(s).")


@click.command("verify")
@repo_argument
@click.option(
    "--fix",
    is_flag=True,
    help="Delete unrecorded files under run folders and stale temporary files, finish pending removals "
    "and drop records of missing files. Files outside the run folders, nested repositories and files "
    "listed as pre-existing are never deleted.",
)
@click.option(
    "--no-checksums",
    is_flag=True,
    help="Skip comparing file checksums (faster; sizes are still compared).",
)
def verify(repo: str, fix: bool, no_checksums: bool) -> None:
    """Compare the repository's files with its datastore records and print what differs.

    Exits with status 1 if problems remain (after --fix, those it cannot
    fix: size and checksum mismatches, records leading out of the root).
    Unrecorded files the repository does not own are listed as "unrecorded
    (not owned; left alone)" and are not problems.
    """
    with open_butler(repo, writeable=fix) as butler:
        report = butler.verify(fix=fix, checksums=not no_checksums)
        click.echo(report.summary())
        if report.fixed and not report.ok:
            report = butler.verify(fix=False, checksums=not no_checksums)
            click.echo(f"After fixing: {report.summary()}")
    if not report.ok:
        first = report.summary().splitlines()[0]
        hint = "" if fix else "; --fix repairs what can be repaired"
        raise FileIntegrityError(f"The datastore of {repo!r} has problems ({first}){hint}.")
