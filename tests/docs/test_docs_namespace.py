"""docs/python-api.md lists the top-level ``chamberlain`` names truthfully, and its example runs."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import chamberlain

PAGE = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"


def _section() -> str:
    text = PAGE.read_text()
    match = re.search(r"^## The `chamberlain` namespace\n(.*?)^## ", text, flags=re.S | re.M)
    assert match, "docs/python-api.md has no 'The `chamberlain` namespace' section"
    return match.group(1)


def _table() -> dict[str, str]:
    """Map each name in the section's table to the home module its row gives."""
    homes: dict[str, str] = {}
    for names, module in re.findall(r"^\| (`[A-Z].*?) \| `([a-z_.]+)` \|$", _section(), flags=re.M):
        for name in re.findall(r"`(\w+)`", names):
            homes[name] = module
    return homes


def test_the_table_lists_exactly_the_top_level_names_with_their_home_modules() -> None:
    homes = _table()
    assert sorted(homes) == sorted(chamberlain.__all__)
    for name, module in homes.items():
        assert getattr(importlib.import_module(module), name) is getattr(chamberlain, name), name


def test_the_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", _section(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "python-api.md", "exec"), {})
