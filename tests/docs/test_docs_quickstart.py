"""The Python example in docs/quickstart.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_quickstart_registry_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b for b in python_blocks(DOCS / "quickstart.md") if 'Registry.create("sqlite' in b]
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(blocks[0], "quickstart.md", "exec"), namespace)
    ref = namespace["ref"]
    assert ref is not None and ref.run == "HSC/raw/all"
    assert str(ref.id) == str(namespace["refs"][2].id)
    assert namespace["data_id"]["band"] == "r"
    namespace["registry"].close()
    assert (tmp_path / "my-repo.sqlite3").exists()


def test_quickstart_repository_example_opens_with_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from chamberlain.cli import cli

    blocks = [b for b in python_blocks(DOCS / "quickstart.md") if 'Butler.create("my-butler-repo")' in b]
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "quickstart.md", "exec"), {})
    result = CliRunner().invoke(cli, ["query-collections", "my-butler-repo", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == ["HSC/raw/all,RUN,"]
    # The bare registry file of the first example is not a repository the CLI opens.
    exec(compile(python_blocks(DOCS / "quickstart.md")[0], "quickstart.md", "exec"), {})
    bare = CliRunner().invoke(cli, ["query-collections", "my-repo.sqlite3"])
    assert bare.exit_code != 0
