"""remove-runs, prune-datasets and verify, run through click's CliRunner."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).parents[1] / "butler"))

from _butler_setup import make_repo

from chamberlain.butler import Butler
from chamberlain.cli import cli
from chamberlain.registry import CollectionType


def run(*args: Any, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="chamberlain", input=input)


def ok(*args: Any, input: str | None = None) -> Result:
    result = run(*args, input=input)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def fails(*args: Any, naming: tuple[str, ...] = ()) -> str:
    result = run(*args)
    assert result.exit_code == 1, f"{args}: exit {result.exit_code}: {result.output}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in naming:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """run1: dicts for detectors 1, 2; run2: one dict; TAGGED 'tagged' holds run1's; chain 'c' = [run2]."""
    root = tmp_path / "repo"
    with make_repo(root) as butler:
        refs = [butler.put({"v": d}, "t_StructuredDataDict", instrument="Cam", detector=d) for d in (1, 2)]
        butler.registry.register_run("run2")
        butler.put({"v": 9}, "t_StructuredDataDict", instrument="Cam", detector=3, run="run2")
        butler.registry.register_collection("tagged", CollectionType.TAGGED)
        butler.registry.associate("tagged", refs)
        butler.registry.register_collection("c", CollectionType.CHAINED)
        butler.registry.set_collection_chain("c", ["run2"])
    return root


def files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.json"))


def collections(root: Path) -> list[str]:
    with Butler(root) as butler:
        return butler.registry.query_collections()


def test_remove_runs_lists_then_asks(repo: Path) -> None:
    result = ok("remove-runs", repo, "run1", input="n\n")
    assert "run1" in result.stdout and "2" in result.stdout.splitlines()[3]
    assert "nothing was removed" in result.stdout
    assert "run1" in collections(repo) and len(files(repo)) == 3
    result = ok("remove-runs", repo, "run1", input="y\n")
    assert "Removed 1 run(s) and 2 dataset(s)" in result.stdout
    assert "run1" not in collections(repo) and len(files(repo)) == 1


def test_remove_runs_chains_and_bad_patterns(repo: Path) -> None:
    fails("remove-runs", repo, "run2", "--no-confirm", naming=("'run2'", "'c'", "--unlink-from-chains"))
    assert len(files(repo)) == 3
    fails("remove-runs", repo, "nope*", "--no-confirm", naming=("'nope*'", "'run1'", "'run2'"))
    fails("remove-runs", repo, "tagged", "--no-confirm", naming=("'tagged'", "TAGGED"))
    ok("remove-runs", repo, "run*", "--unlink-from-chains", "--no-confirm")
    assert files(repo) == []
    with Butler(repo) as butler:
        assert butler.registry.get_collection_chain("c") == []


def test_prune_datasets_unstore_purge_and_disassociate(repo: Path) -> None:
    result = ok("prune-datasets", repo, "t_StructuredDataDict", "--collections", "run1", "--where", "detector = 1",
                "--unstore", "--no-confirm")  # fmt: skip
    assert "Removed 1 dataset(s)" in result.stdout and len(files(repo)) == 2
    with Butler(repo, collections="run1") as butler:
        assert butler.find_dataset("t_StructuredDataDict", instrument="Cam", detector=1) is not None
    ok(
        "prune-datasets",
        repo,
        "--disassociate",
        "--tags",
        "tagged",
        "--where",
        "detector = 2",
        "--no-confirm",
    )
    with Butler(repo) as butler:
        assert [r.data_id["detector"] for r in butler.query_datasets("t_StructuredDataDict", "tagged")] == [1]
    ok("prune-datasets", repo, "--collections", "run2", "--purge", "--no-confirm")
    with Butler(repo) as butler:
        assert list(butler.query_datasets("t_StructuredDataDict", "run2")) == []
    assert len(files(repo)) == 1


def test_prune_datasets_bad_input(repo: Path) -> None:
    fails("prune-datasets", repo, "--collections", "run1", "--no-confirm", naming=("--purge", "--unstore"))
    fails("prune-datasets", repo, "--purge", "--no-confirm", naming=("--collections",))
    fails("prune-datasets", repo, "--collections", "run1", "--disassociate", naming=("--tags",))
    fails("prune-datasets", repo, "t_Nope", "--collections", "run1", "--purge", naming=("'t_Nope'",))
    fails(
        "prune-datasets",
        repo,
        "--collections",
        "run1",
        "--where",
        "detector ==",
        "--purge",
        naming=("position",),
    )
    assert (
        "No datasets match"
        in ok("prune-datasets", repo, "--collections", "run1", "--where", "detector = 0", "--purge").stdout
    )
    assert (
        "nothing was removed"
        in ok("prune-datasets", repo, "--collections", "run1", "--purge", input="n\n").stdout
    )
    assert len(files(repo)) == 3


def test_verify_reports_and_fixes(repo: Path) -> None:
    assert ok("verify", repo).stdout.strip() == "OK"
    (repo / "run1" / "stray.json").write_text("{}")
    next(p for p in files(repo) if p.name != "stray.json").unlink()
    result = run("verify", repo, "--no-checksums")
    assert result.exit_code == 1
    assert "files with no record" in result.stdout and "stray.json" in result.stdout
    assert "records whose file is missing" in result.stdout
    assert result.stderr.startswith("error: ") and "--fix" in result.stderr
    fixed = ok("verify", repo, "--fix")
    assert "After fixing: OK" in fixed.stdout
    assert not (repo / "run1" / "stray.json").exists()
    assert ok("verify", repo).stdout.strip() == "OK"
