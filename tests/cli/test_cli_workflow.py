"""The whole command-line workflow on SQLite and PostgreSQL (``create --db URL --namespace NS``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from chamberlain.cli import cli
from chamberlain.registry import Registry
from chamberlain.repository import RepositoryConfig


def run(*args: Any) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="chamberlain")


def ok(*args: Any) -> str:
    result = run(*args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    assert result.stderr == ""
    return result.stdout


def error(*args: Any) -> str:
    result = run(*args)
    assert result.exit_code == 1, f"{args}: {result.output}"
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")
    return result.stderr


def test_workflow(database: Any, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    create = ["create", repo, "--db", database.url]
    if database.namespace:
        create += ["--namespace", database.namespace]
    out = ok(*create)
    assert str(repo) in out
    if database.namespace:
        assert database.namespace in out
    config = RepositoryConfig.load(repo)
    assert (config.db, config.namespace) == (database.url, database.namespace)
    # The same database (or namespace) cannot hold a second repository.
    assert "already holds a Chamberlain repository" in error("create", tmp_path / "second", *create[2:])
    assert not (tmp_path / "second").exists()
    assert "already exists" in error(*create)

    assert "inserted 1 instrument" in ok("register-instrument", repo, "SimCam")
    assert "unchanged 1 instrument" in ok("register-instrument", repo, "SimCam")
    assert "'Nope'" in error("register-instrument", repo, "Nope")

    ok("simulate-raws", tmp_path / "raws", "-n", 1, "--image-size", 16, "--detector", 0, "--detector", 8)
    assert len(list((tmp_path / "raws").glob("*.fits"))) == 2

    ok("register-dataset-type", repo, "raw", "Exposure", "instrument", "exposure", "detector")
    ok("register-dataset-type", repo, "bias", "ExposureF", "instrument", "detector", "--is-calibration")
    assert "'exposur'" in error("register-dataset-type", repo, "x", "Exposure", "exposur")

    types = json.loads(ok("query-dataset-types", repo, "--format", "json"))
    assert [(t["name"], t["is_calibration"]) for t in types] == [("bias", True), ("raw", False)]
    csv_rows = list(csv.DictReader(io.StringIO(ok("query-dataset-types", repo, "--format", "csv"))))
    assert csv_rows[1] == {
        "name": "raw",
        "dimensions": "instrument,detector,exposure",
        "storage_class": "Exposure",
        "is_calibration": "false",
    }
    assert ok("query-dataset-types", repo, "r*").splitlines()[2].split() == [
        "raw",
        "instrument,detector,exposure",
        "Exposure",
        "false",
    ]

    with Registry.open(config.url, namespace=config.namespace) as registry:
        registry.register_run("SimCam/calib/run")
        registry.register_run("SimCam/raw/all")
        registry.insert_datasets(
            "bias", [{"instrument": "SimCam", "detector": d} for d in (1, 2)], "SimCam/calib/run"
        )
    assert ok("collection-chain", repo, "SimCam/defaults", "SimCam/raw/all", "SimCam/calib/run").split() == [
        "SimCam/raw/all",
        "SimCam/calib/run",
    ]
    assert "'loop' cannot contain itself" in error(
        "collection-chain", repo, "loop", "SimCam/defaults", "loop"
    )
    ok("collection-chain", repo, "outer", "SimCam/defaults")
    assert "cycle" in error("collection-chain", repo, "SimCam/defaults", "outer", "--mode", "extend")

    out = ok(
        "certify-calibrations",
        repo,
        "SimCam/calib/run",
        "SimCam/calib",
        "bias",
        "--begin-date",
        "2025-01-01",
        "--end-date",
        "2026-01-01",
    )
    assert "Certified 2 'bias'" in out
    assert "'2025-99-01'" in error(
        "certify-calibrations", repo, "SimCam/calib/run", "SimCam/calib", "bias", "--end-date", "2025-99-01"
    )

    table = ok("query-collections", repo).splitlines()
    assert [line.split()[:2] for line in table[2:]] == [
        ["SimCam/calib", "CALIBRATION"],
        ["SimCam/calib/run", "RUN"],
        ["SimCam/defaults", "CHAINED"],
        ["SimCam/raw/all", "RUN"],
        ["outer", "CHAINED"],
    ]
    chains = json.loads(ok("query-collections", repo, "--type", "CHAINED", "--format", "json"))
    assert chains == [
        {"name": "SimCam/defaults", "type": "CHAINED", "children": ["SimCam/raw/all", "SimCam/calib/run"]},
        {"name": "outer", "type": "CHAINED", "children": ["SimCam/defaults"]},
    ]
    flat = list(
        csv.reader(io.StringIO(ok("query-collections", repo, "outer", "--flatten", "--format", "csv")))
    )
    assert flat == [
        ["name", "type", "children"],
        ["SimCam/raw/all", "RUN", ""],
        ["SimCam/calib/run", "RUN", ""],
    ]

    assert "already at head" in ok("migrate", repo)
