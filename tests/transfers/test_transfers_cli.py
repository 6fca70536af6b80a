"""The export and import commands."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from _transfers_setup import make_source

from chamberlain.butler import Butler
from chamberlain.cli import cli


def test_export_and_import_commands(tmp_path: Path) -> None:
    source, refs = make_source(tmp_path / "src")
    source.close()
    runner = CliRunner()
    out = tmp_path / "out.yaml"
    result = runner.invoke(
        cli,
        [
            "export",
            str(tmp_path / "src"),
            str(out),
            "--collections",
            "run*",
            "--dataset-type",
            "meta",
            "--where",
            "visit = 2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Exported 2 dataset(s) (2 file(s))" in result.output
    doc = yaml.safe_load(out.read_text())
    assert {r["data_id"]["detector"] for b in doc["datasets"] for r in b["records"]} == {0, 1}
    assert runner.invoke(cli, ["create", str(tmp_path / "dst")]).exit_code == 0
    result = runner.invoke(cli, ["import", str(tmp_path / "dst"), str(out), "--transfer", "copy"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 dataset(s) (2 file(s)" in result.output
    with Butler(tmp_path / "dst") as target:
        assert target.get(refs["meta"][2]) == {"visit": 2, "detector": 0}
    # Importing again skips what is already there.
    result = runner.invoke(cli, ["import", str(tmp_path / "dst"), str(out)])
    assert result.exit_code == 0, result.output
    assert "Imported 0 dataset(s) (0 file(s); 2 already present)" in result.output


def test_import_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["create", str(tmp_path / "dst")]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("description: nope\n")
    result = runner.invoke(cli, ["import", str(tmp_path / "dst"), str(bad)])
    assert result.exit_code == 1
    assert "error:" in result.output and "'nope'" in result.output
    result = runner.invoke(
        cli, ["export", str(tmp_path / "dst"), str(tmp_path / "x.yaml"), "--collections", "nosuch"]
    )
    assert result.exit_code == 1 and "'nosuch'" in result.output
