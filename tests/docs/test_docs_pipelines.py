"""The examples of docs/pipelines.md run as written, and its JSON key list is complete."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from chamberlain.cli import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "pipelines.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def _write_files(directory: Path) -> list[str]:
    names = []
    for block in _blocks("yaml"):
        first, _, _ = block.partition("\n")
        match = re.fullmatch(r"# file: (\S+)", first)
        assert match, f"a yaml block of docs/pipelines.md does not start with '# file: NAME': {first!r}"
        (directory / match.group(1)).write_text(block)
        names.append(match.group(1))
    return names


def test_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _write_files(tmp_path) == ["my_templates.yaml", "my_rename.yaml"]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in _blocks("python"):
        exec(compile(block, "pipelines.md", "exec"), namespace)
    assert namespace["labels"] == ["getTemplate"]
    assert namespace["class_name"] == "chamberlain.tasks.GetTemplateTask"
    assert namespace["overrides"]["templateBorderSize"] == 30
    assert namespace["order"] == ["getTemplate"]
    assert namespace["inputs"] == ["preliminary_visit_image", "template_coadd"]
    assert namespace["border"] == 30
    bigger = namespace["bigger_graph"].tasks["getTemplate"].config
    assert (bigger.template_border_size, bigger.interp_length) == (50, 25)
    assert namespace["pipeline"].parameters["border"] == 30
    assert namespace["renamed_labels"] == ["makeTemplate"]
    renamed = namespace["renamed"].tasks["makeTemplate"].config
    assert (renamed.template_border_size, renamed.interp_length) == (40, 50)
    assert "template_detector" in namespace["renamed"].dataset_types


def test_shell_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    commands = [
        line for block in _blocks("sh") for line in block.splitlines() if line.startswith("chamberlain ")
    ]
    assert len(commands) >= 4
    for command in commands:
        args = shlex.split(command.split("|")[0])[1:]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, (command, result.output)
        assert result.stdout.strip()


def test_every_json_key_is_documented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    result = CliRunner().invoke(cli, ["pipeline", "show", "templates", "--format", "json", "--graph"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    keys = set(data) | set(data["tasks"][0]) | set(data["graph"]) | set(data["graph"]["tasks"][0])
    keys |= set(data["graph"]["tasks"][0]["connections"][0]) | set(data["graph"]["dataset_types"][0])
    keys |= set(data["subsets"][0]) | set(data["contracts"][0])
    text = DOC.read_text()
    missing = sorted(
        k for k in keys if not re.search(rf"\b{re.escape(k)}\b", text.split("`--format json` prints")[1])
    )
    assert not missing, f"docs/pipelines.md does not document the JSON keys {missing}"
