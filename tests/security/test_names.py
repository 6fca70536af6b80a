"""Names that become paths: hostile collection and dataset type names are refused (issue #11, findings 2, 10, 13).

Every refusal is one line naming the value, and leaves the repository (tables and files) and the
directories beside it exactly as they were.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _security import RAW_RUN, Repo, refused, run_cli

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetType
from chamberlain.errors import ChamberlainError, InvalidNameError
from chamberlain.naming import (
    MAX_COMPONENT_LENGTH,
    MAX_DATASET_TYPE_NAME_LENGTH,
    MAX_NAME_LENGTH,
    validate_collection_name,
    validate_dataset_type_name,
)
from chamberlain.registry import CollectionType

HOSTILE_COLLECTION_NAMES = [
    "..",
    ".",
    "../escaped",
    "../../../../tmp/x",
    "a/../../b",
    "a/..",
    "/abs",
    "a//b",
    "a/",
    "a/./b",
    "a\\b",
    "..\\x",
    "%2e%2e/x",
    "%2E%2E",
    "a\x00b",
    "a\nb",
    "a\rb",
    "a\x7fb",
    "a\u2028b",
    "a b",
    "x" * 300,
    "",
    "bad*name",
    "r?",
    "[ab]",
]


def _shown(name: str) -> str:
    """What an error line shows of ``name``: its repr (the start of it for long names)."""
    return repr(name) if len(name) <= 80 else repr(name[:60])


def _outside_entries(repo: Repo) -> set[Path]:
    """Every entry under the test directory that is not inside the repository."""
    top = repo.root.parent
    return {p for p in top.rglob("*") if repo.root not in p.parents and p != repo.root}


@pytest.mark.parametrize("name", HOSTILE_COLLECTION_NAMES)
def test_validator_refuses_hostile_collection_names(name: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        validate_collection_name(name, "run")
    message = str(info.value)
    assert message.startswith(f"invalid run name {_shown(name)}")
    assert "\n" not in message
    assert "255" in message  # the rules are stated


@pytest.mark.parametrize(
    "name",
    [
        "HSC/runs/RC2/w_2024_10/DM-12345",
        "u/someone/test-1",
        "SimCam/raw/all",
        "a.b/c+d@e=f,g:h",
        "...",  # only '.' and '..' are special
        "x" * MAX_COMPONENT_LENGTH,
        "x/" * 127 + "x",
        "y" * MAX_COMPONENT_LENGTH + "/" + "z" * (MAX_NAME_LENGTH - MAX_COMPONENT_LENGTH - 1),
    ],
)
def test_validator_accepts_rubin_style_names(name: str) -> None:
    assert len(name) <= MAX_NAME_LENGTH
    assert validate_collection_name(name) == name


def test_length_limits_are_exact() -> None:
    long_component = "x" * (MAX_COMPONENT_LENGTH + 1)
    with pytest.raises(InvalidNameError, match=f"has {MAX_COMPONENT_LENGTH + 1} characters"):
        validate_collection_name(f"a/{long_component}")
    too_long = "/".join(["y" * 100] * 3)[: MAX_NAME_LENGTH + 1]
    with pytest.raises(InvalidNameError, match=f"it has {MAX_NAME_LENGTH + 1} characters"):
        validate_collection_name(too_long)
    assert validate_dataset_type_name("d" * MAX_DATASET_TYPE_NAME_LENGTH)
    with pytest.raises(InvalidNameError, match=f"{MAX_DATASET_TYPE_NAME_LENGTH + 1} characters"):
        validate_dataset_type_name("d" * (MAX_DATASET_TYPE_NAME_LENGTH + 1))


def test_ingest_raws_refuses_hostile_runs(repo: Repo) -> None:
    before = repo.snapshot()
    for name in HOSTILE_COLLECTION_NAMES:
        result = run_cli("ingest-raws", repo.root, repo.raws, "--run", name, "--transfer", "copy")
        refused(result, "invalid run name", _shown(name))
    assert repo.snapshot() == before  # a refusal is never undone, so one comparison sees them all


def test_butler_refuses_hostile_runs(repo: Repo) -> None:
    with Butler(repo.root, writeable=True) as butler:
        butler.registry.register_dataset_type(
            DatasetType("summary", ["instrument"], "StructuredDataDict", butler.registry.universe)
        )
    before = repo.snapshot()
    outside_before = _outside_entries(repo)
    for name in HOSTILE_COLLECTION_NAMES:
        with pytest.raises(InvalidNameError, match="invalid run name"):
            Butler(repo.root, run=name)
    with Butler(repo.root, writeable=True) as butler:
        for name in HOSTILE_COLLECTION_NAMES:
            with pytest.raises(InvalidNameError, match="invalid run name"):
                butler.registry.register_run(name)
            # put into a run that cannot exist: refused, one line, naming the run
            with pytest.raises(ChamberlainError) as info:
                butler.put({"a": 1}, "summary", instrument="SimCam", run=name)
            assert repr(name)[:40] in str(info.value) or not name  # '' means "no run given"
            assert "\n" not in str(info.value)
    assert repo.snapshot() == before
    assert _outside_entries(repo) == outside_before


def test_register_collection_refuses_hostile_names_of_every_type(repo: Repo) -> None:
    before = repo.snapshot()
    with Butler(repo.root, writeable=True) as butler:
        for kind in CollectionType:
            for name in HOSTILE_COLLECTION_NAMES:
                with pytest.raises(InvalidNameError) as info:
                    butler.registry.register_collection(name, kind)
                message = str(info.value)
                assert message.startswith("invalid run name" if kind is CollectionType.RUN else "invalid ")
                assert kind is CollectionType.RUN or kind.name.lower() in message
                assert _shown(name) in message
    assert repo.snapshot() == before


def test_cli_commands_that_create_collections_refuse_hostile_names(repo: Repo) -> None:
    before = repo.snapshot()
    for name in ["../escaped", "a/../../b", "/abs", "a\x00b", "x" * 300, "%2e%2e/x", ""]:
        refused(run_cli("collection-chain", repo.root, name, RAW_RUN), "invalid", _shown(name))
    assert repo.snapshot() == before


def test_nul_in_a_run_name_is_a_name_error_not_a_database_error(repo: Repo) -> None:
    # On PostgreSQL a NUL used to reach the driver (psycopg DataError); now the name rules stop it.
    with (
        Butler(repo.root, writeable=True) as butler,
        pytest.raises(InvalidNameError, match=r"'\\x00' at position 3"),
    ):
        butler.registry.register_run("run\x00x")


def test_a_valid_nested_run_gets_its_own_directories(repo: Repo) -> None:
    run = "HSC/runs/RC2/w_2024_10/DM-12345"
    result = run_cli("ingest-raws", repo.root, repo.raws, "--run", run, "--transfer", "copy")
    assert result.exit_code == 0, result.output
    files = [p for p in (repo.root / "HSC/runs/RC2/w_2024_10/DM-12345").rglob("*.fits")]
    assert len(files) == 4


HOSTILE_DATASET_TYPE_NAMES = [
    "..",
    ".",
    "../escaped",
    "a/b",
    "/abs",
    "a\\b",
    "%2e%2e",
    "a\x00b",
    "raw\n",
    "a..b",
    "a.",
    ".a",
    "9lives",
    "d" * 5000,
    "",
    "calexp*",
    "caf\u00e9",
]


@pytest.mark.parametrize("name", HOSTILE_DATASET_TYPE_NAMES)
def test_dataset_type_names_are_checked(name: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        validate_dataset_type_name(name)
    message = str(info.value)
    assert message.startswith(f"invalid dataset type name {_shown(name)}")
    assert "\n" not in message


def test_dataset_type_names_are_checked_by_the_api_and_the_cli(repo: Repo) -> None:
    before = repo.snapshot()
    with Butler(repo.root, writeable=True) as butler:
        universe = butler.registry.universe
        for name in HOSTILE_DATASET_TYPE_NAMES:
            with pytest.raises(InvalidNameError, match="invalid dataset type name"):
                DatasetType(name, ["instrument"], "StructuredDataDict", universe)
    for name in ["../escaped", "a/b", "a\x00b", "raw\n", "d" * 5000, "%2e%2e", ""]:
        result = run_cli("register-dataset-type", repo.root, name, "StructuredDataDict", "instrument")
        refused(result, "invalid dataset type name", _shown(name))
    assert repo.snapshot() == before
    assert validate_dataset_type_name("calexp.wcs") == "calexp.wcs"


@pytest.mark.parametrize(
    "name",
    [
        "chamberlain.sqlite3-journal",
        "chamberlain.sqlite3-wal",
        "chamberlain.yaml",
        "Chamberlain.YAML",
        "datastore.yaml",
        "chamberlain-preexisting.json",
        ".chamberlain-demo",
        ".x.tmp-1/y",
    ],
)
def test_run_named_after_a_repository_file_refused(repo: Repo, name: str) -> None:
    """A run's first folder sits beside the repository's own files: one named like them would break it."""
    before = repo.snapshot()
    refused(run_cli("ingest-raws", repo.root, repo.raws, "--run", name), repr(name), "reserved")
    assert repo.snapshot() == before
    with Butler(repo.root, writeable=True) as butler, pytest.raises(InvalidNameError, match="reserved"):
        butler.registry.register_run(name)
    assert repo.snapshot() == before
