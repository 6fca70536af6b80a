"""The chamberlain commands, run in-process through click's CliRunner (the fast majority)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from chamberlain.cli import cli
from chamberlain.errors import CollectionCycleError, InstrumentError
from chamberlain.registry import Registry
from chamberlain.repository import RepositoryConfig
from chamberlain.schema import versioning


def run(*args: Any) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="chamberlain")


def ok(*args: Any) -> Result:
    result = run(*args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    assert result.stderr == ""
    return result


def fails(*args: Any, naming: tuple[str, ...] = ()) -> str:
    """Run a command that must fail; return its single stderr line."""
    result = run(*args)
    assert result.exit_code == 1, f"{args}: exit {result.exit_code}: {result.output}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    for needle in naming:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    out = ok("create", root).stdout
    assert str(root) in out and "SQLite" in out
    return root


def open_registry(root: Path) -> Registry:
    config = RepositoryConfig.load(root)
    return Registry.open(config.url, namespace=config.namespace)


# --- create ------------------------------------------------------------------------------


def test_create_writes_config_and_schema(repo: Path) -> None:
    config = RepositoryConfig.load(repo)
    assert config.db is None and config.namespace is None
    assert (repo / "chamberlain.sqlite3").is_file()
    with open_registry(repo) as registry:
        assert registry.query_collections() == []


def test_create_refuses_existing_repository(repo: Path) -> None:
    before = (repo / "chamberlain.yaml").read_text()
    fails("create", repo, naming=(str(repo), "already exists"))
    assert (repo / "chamberlain.yaml").read_text() == before


def test_create_refuses_existing_sqlite_file(tmp_path: Path) -> None:
    root = tmp_path / "half"
    root.mkdir()
    (root / "chamberlain.sqlite3").write_bytes(b"")
    fails("create", root, naming=("chamberlain.sqlite3",))
    assert not (root / "chamberlain.yaml").exists()


def test_create_namespace_needs_db(tmp_path: Path) -> None:
    fails("create", tmp_path / "r", "--namespace", "ns1", naming=("'ns1'", "--db"))
    assert not (tmp_path / "r").exists()


def test_create_failure_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    fails("create", root, "--db", "mysql://x@localhost/db", naming=("mysql",))
    assert not root.exists()


# --- errors, --debug, logging ----------------------------------------------------------


def test_missing_repository(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    for args in (
        ("query-collections", missing),
        ("query-dataset-types", missing),
        ("register-instrument", missing, "SimCam"),
        ("register-dataset-type", missing, "calexp", "ExposureF", "visit"),
        ("collection-chain", missing, "c", "a"),
        ("migrate", missing),
    ):
        fails(*args, naming=(str(missing), "does not exist"))


def test_directory_that_is_not_a_repository(tmp_path: Path) -> None:
    fails("query-collections", tmp_path, naming=(str(tmp_path), "chamberlain.yaml", "chamberlain create"))


def test_debug_reraises(repo: Path) -> None:
    result = run("--debug", "register-instrument", repo, "NoSuchCam")
    assert result.exit_code == 1
    assert isinstance(result.exception, InstrumentError)
    assert "NoSuchCam" in str(result.exception)
    assert "error:" not in result.stderr


def test_usage_errors_are_clicks(repo: Path) -> None:
    result = run("register-dataset-type", repo)
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr
    result = run("query-collections", repo, "--format", "xml")
    assert result.exit_code == 2
    assert "xml" in result.stderr


def test_bad_log_level(repo: Path) -> None:
    result = run("--log-level", "chamberlain=LOUD", "query-collections", repo)
    assert result.exit_code == 2
    assert "LOUD" in result.stderr


def test_unexpected_exception_is_one_line(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(Registry, "query_dataset_types", boom)
    line = fails("query-dataset-types", repo)
    assert line == "error: RuntimeError: disk on fire second line"


# --- instruments -----------------------------------------------------------------------


def test_register_instrument_idempotent(repo: Path) -> None:
    first = ok("register-instrument", repo, "SimCam").stdout
    assert first.strip() == "SimCam: inserted 1 instrument, 4 physical_filter, 9 detector"
    second = ok("register-instrument", repo, "SimCam").stdout
    assert second.strip() == "SimCam: unchanged 1 instrument, 4 physical_filter, 9 detector"
    with open_registry(repo) as registry:
        assert len(registry.fetch_dimension_records("detector")) == 9
        assert {r.band for r in registry.fetch_dimension_records("physical_filter")} == set("griz")


def test_register_instrument_by_class_path(repo: Path) -> None:
    out = ok("register-instrument", repo, "chamberlain.instrument.simcam.SimCam").stdout
    assert "inserted 1 instrument" in out


def test_register_instrument_conflict_and_update(repo: Path) -> None:
    ok("register-instrument", repo, "SimCam")
    with open_registry(repo) as registry:
        registry.sync_dimension_record(
            "detector",
            {
                "instrument": "SimCam",
                "id": 4,
                "full_name": "R00_XX",
                "name_in_raft": "S11",
                "raft": "R00",
                "purpose": "SCIENCE",
            },
            update=True,
        )
    fails("register-instrument", repo, "SimCam", naming=("full_name", "'R00_XX'", "'R00_S11'", "--update"))
    out = ok("register-instrument", repo, "SimCam", "--update").stdout
    assert "updated 1 detector" in out
    with open_registry(repo) as registry:
        record = registry.get_dimension_record("detector", instrument="SimCam", detector=4)
        assert record is not None and record.full_name == "R00_S11"


def test_register_unknown_instrument(repo: Path) -> None:
    fails("register-instrument", repo, "NoSuchCam", naming=("'NoSuchCam'", "'SimCam'"))
    with open_registry(repo) as registry:
        assert registry.fetch_dimension_records("instrument") == []


def test_register_instrument_all_or_nothing(repo: Path) -> None:
    fails("register-instrument", repo, "SimCam", "NoSuchCam", naming=("'NoSuchCam'",))
    with open_registry(repo) as registry:
        assert registry.fetch_dimension_records("instrument") == []


def test_simulate_raws(tmp_path: Path) -> None:
    out = ok(
        "simulate-raws", tmp_path / "raws", "--exposures", 1, "--image-size", 16, "--detector", 4, "--seed", 3
    ).stdout
    files = sorted((tmp_path / "raws").iterdir())
    assert len(files) == 1 and files[0].name.endswith("_R00_S11.fits")
    assert "Wrote 1 raw file(s)" in out


def test_simulate_raws_bad_values(tmp_path: Path) -> None:
    fails("simulate-raws", tmp_path / "r", "--image-size", 4, naming=("image_size", "4"))
    fails("simulate-raws", tmp_path / "r", "--detector", 42, "-n", 1, "--image-size", 16, naming=("42",))


# --- dataset types -----------------------------------------------------------------------


def test_register_and_query_dataset_types(repo: Path) -> None:
    out = ok("register-dataset-type", repo, "bias", "ExposureF", "instrument", "detector", "--is-calibration")
    assert "Registered dataset type 'bias'" in out.stdout
    ok("register-dataset-type", repo, "calexp", "ExposureF", "visit", "detector")
    again = ok("register-dataset-type", repo, "calexp", "ExposureF", "visit", "detector").stdout
    assert "already registered" in again

    table = ok("query-dataset-types", repo).stdout.splitlines()
    assert table[0].split() == ["name", "dimensions", "storage_class", "is_calibration"]
    assert set(table[1]) <= {"-", " "}
    assert table[2].split() == ["bias", "instrument,detector", "ExposureF", "true"]
    assert table[3].split() == ["calexp", "instrument,detector,visit", "ExposureF", "false"]
    # Columns are aligned: each column starts at the same offset on every line.
    start = table[0].index("storage_class")
    assert all(line[start:].startswith("ExposureF") for line in table[2:])

    data = json.loads(ok("query-dataset-types", repo, "c*", "--format", "json").stdout)
    assert data == [
        {
            "name": "calexp",
            "dimensions": ["instrument", "detector", "visit"],
            "storage_class": "ExposureF",
            "is_calibration": False,
        }
    ]
    rows = list(csv.DictReader(io.StringIO(ok("query-dataset-types", repo, "--format", "csv").stdout)))
    assert [r["name"] for r in rows] == ["bias", "calexp"]
    assert rows[0]["dimensions"] == "instrument,detector"


def test_register_dataset_type_bad_dimension(repo: Path) -> None:
    fails("register-dataset-type", repo, "calexp", "ExposureF", "visitt", naming=("'visitt'", "'visit'"))
    assert json.loads(ok("query-dataset-types", repo, "--format", "json").stdout) == []


def test_register_dataset_type_conflict(repo: Path) -> None:
    ok("register-dataset-type", repo, "calexp", "ExposureF", "visit", "detector")
    fails("register-dataset-type", repo, "calexp", "ExposureF", "visit", naming=("calexp(", "conflicts"))


def test_register_dataset_type_bad_name(repo: Path) -> None:
    fails("register-dataset-type", repo, "9bad", "ExposureF", "visit", naming=("'9bad'",))


# --- collections -----------------------------------------------------------------------


def _add_collections(repo: Path) -> None:
    with open_registry(repo) as registry:
        registry.register_run("raw/all")
        registry.register_run("calib/run")
        registry.register_collection("tagged", "TAGGED")


def test_query_collections_formats(repo: Path) -> None:
    _add_collections(repo)
    ok("collection-chain", repo, "defaults", "tagged", "raw/all")
    lines = ok("query-collections", repo).stdout.splitlines()
    assert lines[0].split() == ["name", "type", "children"]
    assert [line.split() for line in lines[2:]] == [
        ["calib/run", "RUN"],
        ["defaults", "CHAINED", "tagged,raw/all"],
        ["raw/all", "RUN"],
        ["tagged", "TAGGED"],
    ]
    data = json.loads(ok("query-collections", repo, "--format", "json", "--type", "chained").stdout)
    assert data == [{"name": "defaults", "type": "CHAINED", "children": ["tagged", "raw/all"]}]
    rows = list(csv.reader(io.StringIO(ok("query-collections", repo, "*/*", "--format", "csv").stdout)))
    assert rows == [["name", "type", "children"], ["calib/run", "RUN", ""], ["raw/all", "RUN", ""]]
    flat = json.loads(ok("query-collections", repo, "defaults", "--flatten", "--format", "json").stdout)
    assert [r["name"] for r in flat] == ["tagged", "raw/all"]
    runs = json.loads(
        ok(
            "query-collections", repo, "--collection-type", "RUN", "--type", "tagged", "--format", "json"
        ).stdout
    )
    assert [r["name"] for r in runs] == ["calib/run", "raw/all", "tagged"]


def test_query_collections_empty(repo: Path) -> None:
    assert json.loads(ok("query-collections", repo, "--format", "json").stdout) == []
    assert ok("query-collections", repo, "--format", "csv").stdout == "name,type,children\n"


def test_collection_chain_modes(repo: Path) -> None:
    _add_collections(repo)
    assert ok("collection-chain", repo, "c", "raw/all", "--doc", "the chain").stdout.split() == ["raw/all"]
    assert ok("collection-chain", repo, "c", "tagged", "--mode", "extend").stdout.split() == [
        "raw/all",
        "tagged",
    ]
    assert ok("collection-chain", repo, "c", "calib/run", "--mode", "prepend").stdout.split() == [
        "calib/run",
        "raw/all",
        "tagged",
    ]
    assert ok("collection-chain", repo, "c", "raw/all", "--mode", "remove").stdout.split() == [
        "calib/run",
        "tagged",
    ]
    ok("collection-chain", repo, "outer", "c")
    flat = ok("collection-chain", repo, "flat", "outer", "raw/all", "--flatten").stdout.split()
    assert flat == ["calib/run", "tagged", "raw/all"]
    with open_registry(repo) as registry:
        assert registry.get_collection_doc("c") == "the chain"
        assert registry.get_collection_chain("outer") == ["c"]


def test_collection_chain_cycle(repo: Path) -> None:
    _add_collections(repo)
    ok("collection-chain", repo, "a", "raw/all")
    ok("collection-chain", repo, "b", "a")
    fails("collection-chain", repo, "a", "b", naming=("'b'", "'a'", "cycle"))
    fails("collection-chain", repo, "a", "a", naming=("'a'", "itself"))
    with open_registry(repo) as registry:
        assert registry.get_collection_chain("a") == ["raw/all"]


def test_collection_chain_bad_inputs(repo: Path) -> None:
    _add_collections(repo)
    fails("collection-chain", repo, "c", "nope", naming=("'nope'",))
    with open_registry(repo) as registry:  # the new chain was rolled back with the failure
        assert "c" not in registry.query_collections()
    fails("collection-chain", repo, "raw/all", "tagged", naming=("'raw/all'", "RUN"))
    fails("collection-chain", repo, "gone", "tagged", "--mode", "remove", naming=("'gone'",))
    ok("collection-chain", repo, "c", "tagged")
    fails("collection-chain", repo, "c", "raw/all", "--mode", "remove", naming=("raw/all", "'c'"))


def test_collection_chain_cycle_debug_traceback(repo: Path) -> None:
    _add_collections(repo)
    ok("collection-chain", repo, "a", "raw/all")
    ok("collection-chain", repo, "b", "a")
    result = run("--debug", "collection-chain", repo, "a", "b")
    assert result.exit_code == 1
    assert isinstance(result.exception, CollectionCycleError)


# --- certify-calibrations ----------------------------------------------------------------


@pytest.fixture
def calib_repo(repo: Path) -> Path:
    ok("register-instrument", repo, "SimCam")
    ok("register-dataset-type", repo, "bias", "ExposureF", "instrument", "detector", "--is-calibration")
    ok("register-dataset-type", repo, "raw", "Exposure", "instrument", "detector")
    with open_registry(repo) as registry:
        registry.register_run("calib/run")
        registry.insert_datasets(
            "bias", [{"instrument": "SimCam", "detector": d} for d in range(3)], "calib/run"
        )
        registry.insert_datasets("raw", [{"instrument": "SimCam", "detector": 0}], "calib/run")
    return repo


def test_certify_calibrations(calib_repo: Path) -> None:
    out = ok(
        "certify-calibrations",
        calib_repo,
        "calib/run",
        "calib",
        "bias",
        "--begin-date",
        "2025-01-01",
        "--end-date",
        "2025-02-01T12:00:00",
    ).stdout
    assert "Certified 3 'bias' dataset(s)" in out
    assert "2025-01-01T00:00:00" in out and "2025-02-01T12:00:00" in out
    with open_registry(calib_repo) as registry:
        assert registry.get_collection_type("calib").name == "CALIBRATION"
        from chamberlain.geometry import Timespan

        inside = Timespan.from_day_obs(20250115)
        after = Timespan.from_day_obs(20250301)
        ref = registry.find_dataset(
            "bias", instrument="SimCam", detector=2, collections="calib", timespan=inside
        )
        assert ref is not None and ref.run == "calib/run"
        assert (
            registry.find_dataset(
                "bias", instrument="SimCam", detector=2, collections="calib", timespan=after
            )
            is None
        )
    # Overlapping a range already certified fails and certifies nothing more.
    fails(
        "certify-calibrations",
        calib_repo,
        "calib/run",
        "calib",
        "bias",
        "--begin-date",
        "2025-01-20",
        naming=("'bias'", "'calib'", "conflict"),
    )
    # Unbounded on both sides after the existing range is fine elsewhere.
    ok("certify-calibrations", calib_repo, "calib/run", "calib2", "bias")


def test_certify_calibrations_bad_dates(calib_repo: Path) -> None:
    fails(
        "certify-calibrations",
        calib_repo,
        "calib/run",
        "calib",
        "bias",
        "--begin-date",
        "2025-13-45",
        naming=("--begin-date", "'2025-13-45'"),
    )
    fails(
        "certify-calibrations",
        calib_repo,
        "calib/run",
        "calib",
        "bias",
        "--end-date",
        "yesterday",
        naming=("--end-date", "'yesterday'"),
    )
    fails(
        "certify-calibrations",
        calib_repo,
        "calib/run",
        "calib",
        "bias",
        "--begin-date",
        "2025-02-01",
        "--end-date",
        "2025-01-01",
        naming=("'2025-01-01'", "'2025-02-01'"),
    )
    with open_registry(calib_repo) as registry:
        assert "calib" not in registry.query_collections()


def test_certify_calibrations_bad_inputs(calib_repo: Path) -> None:
    fails("certify-calibrations", calib_repo, "calib/run", "calib", "raw", naming=("'raw'", "calibration"))
    fails("certify-calibrations", calib_repo, "calib/run", "calib", "biass", naming=("'biass'", "'bias'"))
    fails("certify-calibrations", calib_repo, "nope", "calib", "bias", naming=("'nope'",))
    ok("collection-chain", calib_repo, "chain", "calib/run")
    fails("certify-calibrations", calib_repo, "chain", "calib", "bias", naming=("'chain'", "CHAINED", "RUN"))
    with open_registry(calib_repo) as registry:
        registry.register_run("empty")
    fails("certify-calibrations", calib_repo, "empty", "calib", "bias", naming=("'empty'", "'bias'"))
    with open_registry(calib_repo) as registry:
        registry.register_collection("tagged", "TAGGED")
    fails("certify-calibrations", calib_repo, "calib/run", "tagged", "bias", naming=("'tagged'", "TAGGED"))


# --- migrate -----------------------------------------------------------------------------


def _set_revision(repo: Path, revision: str | None) -> None:
    engine = sa.create_engine(RepositoryConfig.load(repo).url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
        if revision is not None:
            conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:r)"), {"r": revision})
    engine.dispose()


def test_migrate_at_head(repo: Path) -> None:
    out = ok("migrate", repo).stdout
    head = versioning.head_revision()
    assert f"Current revision: {head}; head revision: {head}." in out
    assert "already at head" in out


def test_migrate_applies_pending(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head = versioning.head_revision()
    _set_revision(repo, "0000_older")
    monkeypatch.setattr(versioning, "known_revisions", lambda: ["0000_older", head])
    calls: list[Any] = []

    def fake_upgrade(connection: sa.Connection, universe: Any, revision: str = "head") -> None:
        calls.append(universe)
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :h"), {"h": head})

    monkeypatch.setattr(versioning, "upgrade", fake_upgrade)
    out = ok("migrate", repo).stdout
    assert f"Current revision: 0000_older; head revision: {head}." in out
    assert f"Applied 1 revision(s) ({head})" in out and f"now at {head}" in out
    monkeypatch.undo()
    with open_registry(repo) as registry:  # opens: the schema is at head again
        assert registry.query_collections() == []
        assert len(calls) == 1 and calls[0] == registry.universe


def test_migrate_unknown_or_missing_revision(repo: Path) -> None:
    _set_revision(repo, "9999_future")
    fails("migrate", repo, naming=("'9999_future'", "newer"))
    fails("query-collections", repo, naming=("9999_future", "newer"))
    _set_revision(repo, None)
    fails("migrate", repo, naming=(str(repo), "no schema revision"))


# --- demo --------------------------------------------------------------------------------


def test_demo(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    out = ok("demo", root).stdout
    assert "Created repository" in out and "Done." in out
    names = json.loads(ok("query-collections", root, "--format", "json").stdout)
    assert sorted(n["name"] for n in names) == ["SimCam/raw/all", "demo/coadds", "demo/templates"]
    fails("demo", root, naming=(str(root), "--replace"))
    ok("demo", root, "--replace")
    other = tmp_path / "precious"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    fails("demo", other, "--replace", naming=(str(other), "Refusing"))
    assert (other / "thesis.tex").exists()


# --- shared options ------------------------------------------------------------------------


def test_transfer_choices_match_the_ingest_task() -> None:
    from chamberlain.cli._repo import TRANSFERS
    from chamberlain.tasks.ingest_raws import TRANSFER_CHOICES

    context = click.Context(cli)

    def params(command: str) -> dict[str, Any]:
        found = cli.get_command(context, command)
        assert found is not None, command
        return {p.name: p for p in found.params}

    assert set(TRANSFERS) == set(TRANSFER_CHOICES)
    for command in ("ingest-raws", "ingest-files", "import"):
        options = params(command)
        assert set(options["transfer"].type.choices) == set(TRANSFER_CHOICES), command
        assert options["transfer"].default == "auto"
    assert "-t" in params("ingest-raws")["transfer"].opts
    assert "-t" not in params("import")["transfer"].opts
    for command in ("query-datasets", "prune-datasets", "associate", "disassociate"):
        options = params(command)
        assert options["find_first"].default is True, command
        assert "--no-find-first" in options["find_first"].secondary_opts, command
