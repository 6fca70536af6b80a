"""query-datasets, query-data-ids, query-dimension-records and sql, run through click's CliRunner."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import lsst.sphgeom as sg
import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).parents[1] / "butler"))

from _butler_setup import make_repo

from chamberlain.cli import cli
from chamberlain.cli._butler import abbreviate
from chamberlain.registry import CollectionType


def run(*args: Any) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="chamberlain")


def ok(*args: Any) -> Result:
    result = run(*args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def fails(*args: Any, naming: tuple[str, ...] = ()) -> str:
    result = run(*args)
    assert result.exit_code == 1, f"{args}: exit {result.exit_code}: {result.output}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.output
    for needle in naming:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """run1: dicts for detectors 1, 2; run2: a dict for detector 1; chain 'both' = [run2, run1]."""
    root = tmp_path_factory.mktemp("q") / "repo"
    with make_repo(root) as butler:
        butler.put({"v": 1}, "t_StructuredDataDict", instrument="Cam", detector=1)
        butler.put({"v": 2}, "t_StructuredDataDict", instrument="Cam", detector=2)
        butler.registry.register_run("run2")
        butler.put({"v": 3}, "t_StructuredDataDict", instrument="Cam", detector=1, run="run2")
        butler.registry.register_collection("both", CollectionType.CHAINED)
        butler.registry.set_collection_chain("both", ["run2", "run1"])
    return root


def as_json(result: Result) -> list[dict[str, Any]]:
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


# --- query-datasets ------------------------------------------------------------------------


def test_query_datasets_table_has_type_run_id_dims_and_path(repo: Path) -> None:
    result = ok("query-datasets", repo, "t_StructuredDataDict", "--collections", "run1")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["type", "run", "id", "instrument", "detector", "path"]
    assert set(lines[1]) <= {"-", " "}
    body = [line.split() for line in lines[2:]]
    assert [(r[0], r[1], r[4]) for r in body] == [
        ("t_StructuredDataDict", "run1", "1"),
        ("t_StructuredDataDict", "run1", "2"),
    ]
    for row in body:
        assert Path(row[5]).is_file() and row[5].endswith(".json")
    assert result.stderr == ""


def test_query_datasets_json_and_csv(repo: Path) -> None:
    data = as_json(
        ok("query-datasets", repo, "t_StructuredDataDict", "--collections", "run1", "--format", "json")
    )
    assert [d["detector"] for d in data] == [1, 2]
    assert set(data[0]) == {"type", "run", "id", "instrument", "detector", "path"}
    assert all(d["run"] == "run1" and d["instrument"] == "Cam" for d in data)
    text = ok(
        "query-datasets", repo, "t_StructuredDataDict", "--collections", "run1", "--format", "csv"
    ).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == [d["id"] for d in data]


def test_query_datasets_find_first_is_default(repo: Path) -> None:
    first = as_json(
        ok("query-datasets", repo, "t_StructuredDataDict", "--collections", "both", "--format", "json")
    )
    assert sorted((d["detector"], d["run"]) for d in first) == [(1, "run2"), (2, "run1")]
    every = as_json(
        ok(
            "query-datasets", repo, "t_StructuredDataDict", "--collections", "run2,run1",
            "--no-find-first", "--format", "json",
        )
    )  # fmt: skip
    assert sorted((d["detector"], d["run"]) for d in every) == [(1, "run1"), (1, "run2"), (2, "run1")]


def test_query_datasets_collection_glob_where_order_and_limit(repo: Path) -> None:
    data = as_json(
        ok(
            "query-datasets", repo, "t_*", "--collections", "run*", "--no-find-first",
            "--where", "detector = 1", "--order-by", "run", "--format", "json",
        )
    )  # fmt: skip
    assert [(d["type"], d["run"]) for d in data] == [
        ("t_StructuredDataDict", "run1"),
        ("t_StructuredDataDict", "run2"),
    ]
    limited = ok(
        "query-datasets",
        repo,
        "t_StructuredDataDict",
        "--collections",
        "run1",
        "--limit",
        "1",
        "--format",
        "json",
    )
    assert len(as_json(limited)) == 1
    assert "note: showing the first 1 rows" in limited.stderr
    exact = ok("query-datasets", repo, "t_StructuredDataDict", "--collections", "run1", "--limit", "2")
    assert exact.stderr == ""


def test_query_datasets_empty_result_explains(repo: Path) -> None:
    result = ok(
        "query-datasets", repo, "t_StructuredDataDict", "--collections", "run1", "--where", "detector = 3"
    )
    assert result.stdout.splitlines()[0].split() == ["type", "run", "id", "path"]
    assert result.stderr.startswith("note: no results") and "detector = 3" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_query_datasets_bad_input(repo: Path) -> None:
    fails(
        "query-datasets", repo, "t_StructuredDataDic", "--collections", "run1",
        naming=("'t_StructuredDataDic'", "Did you mean 't_StructuredDataDict'"),
    )  # fmt: skip
    line = fails(
        "query-datasets", repo, "--collections", "run1", "--where", "detector = = 1", naming=("position 11",)
    )
    assert "detector = = 1 ^" in line  # the caret message collapsed to one line
    fails("query-datasets", repo, "--collections", "nope", naming=("'nope'", "'run1'"))
    fails("query-datasets", repo, "--collections", "zz*", naming=("'zz*'", "matches no collection"))
    fails("query-datasets", repo, "--collections", "run1", "--limit", "0", naming=("limit=0",))
    fails("query-datasets", repo, "--collections", "run1", "--limit", "-2", naming=("limit=-2",))
    fails("query-datasets", tmp := repo.parent / "missing", "--collections", "run1", naming=(str(tmp),))
    usage = run("query-datasets", repo)
    assert usage.exit_code == 2 and "--collections" in usage.stderr


# --- query-data-ids and query-dimension-records ---------------------------------------------


def test_query_data_ids_includes_implied_dimensions(repo: Path) -> None:
    data = as_json(
        ok(
            "query-data-ids",
            repo,
            "visit",
            "detector",
            "--where",
            "visit = 2",
            "--order-by",
            "detector",
            "--format",
            "json",
        )
    )
    assert len(data) == 4
    assert [d["detector"] for d in data] == [0, 1, 2, 3]
    assert set(data[0]) == {"instrument", "visit", "detector", "physical_filter", "band", "day_obs"}
    assert {(d["band"], d["visit"]) for d in data} == {("r", 2)}


def test_query_data_ids_with_datasets(repo: Path) -> None:
    data = as_json(
        ok(
            "query-data-ids",
            repo,
            "detector",
            "--datasets",
            "t_StructuredDataDict",
            "--collections",
            "run2",
            "--format",
            "json",
        )
    )
    assert data == [{"instrument": "Cam", "detector": 1}]
    fails("query-data-ids", repo, "detector", "--datasets", "t_StructuredDataDict", naming=("--collections",))
    fails("query-data-ids", repo, "detektor", naming=("'detektor'",))
    fails("query-data-ids", repo, "detector", "--limit", "0", naming=("limit=0",))


def test_query_dimension_records(repo: Path) -> None:
    data = as_json(
        ok("query-dimension-records", repo, "exposure", "--where", "exposure.seq_num = 5 OR exposure < 3",
           "--order-by", "-id", "--format", "json")
    )  # fmt: skip
    assert [d["id"] for d in data] == [10, 2, 1]
    assert data[0]["obs_id"] == "OBS10" and data[0]["seq_num"] == 5
    assert data[1]["timespan"].startswith("[2024-03-01T01:00:00")
    text = ok("query-dimension-records", repo, "detector", "--limit", "2").stdout
    assert text.splitlines()[0].split()[:3] == ["instrument", "id", "full_name"]
    assert len(text.splitlines()) == 4
    fails("query-dimension-records", repo, "detektor", naming=("'detektor'", "'detector'"))
    fails("query-dimension-records", repo, "exposure", "--where", "exposure >", naming=("position",))


def test_regions_are_abbreviated() -> None:
    poly = sg.ConvexPolygon(
        [
            sg.UnitVector3d(sg.LonLat.fromDegrees(ra, dec))
            for ra, dec in [(10, -1), (11, -1), (11, 1), (10, 1)]
        ]
    )
    text = abbreviate(poly)
    assert text.startswith("ConvexPolygon[4]@(10.5") and "+0.0000)" in text
    assert abbreviate(3) == 3 and abbreviate(None) is None


# --- sql -----------------------------------------------------------------------------------


def test_sql_select_in_every_format(repo: Path) -> None:
    table = ok("sql", repo, "SELECT id, name FROM visit ORDER BY id").stdout.splitlines()
    assert table[0].split() == ["id", "name"] and [r.split() for r in table[2:]] == [
        ["1", "v1"],
        ["2", "v2"],
        ["3", "v3"],
    ]
    data = as_json(
        ok(
            "sql",
            repo,
            "SELECT v.id, e.id FROM visit v JOIN exposure e ON e.id = v.id WHERE v.id = 2",
            "--format",
            "json",
        )
    )
    assert data == [{"id": 2, "id_2": 2}]
    assert ok("sql", repo, "SELECT id FROM visit WHERE id > 100", "--format", "csv").stdout == "id\n"


def test_sql_is_read_only_and_reports_errors(repo: Path) -> None:
    fails("sql", repo, "DELETE FROM visit", naming=("read-only",))
    assert ok("sql", repo, "SELECT count(*) AS n FROM visit", "--format", "json").stdout.count('"n": 3') == 1
    fails("sql", repo, "SELECT nope FROM visit", naming=("nope",))
