"""Every chamberlain command has help text and a section in docs/cli.md, and vice versa."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from chamberlain.cli import COMMANDS, cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
SECTION = re.compile(r"^## chamberlain (\S+)\s*$", re.MULTILINE)


def _commands() -> dict[str, click.Command]:
    ctx = click.Context(cli, info_name="chamberlain")
    names = cli.list_commands(ctx)
    commands = {}
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None, f"{name!r} is listed but cannot be loaded"
        commands[name] = command
    return commands


def _sections() -> dict[str, str]:
    text = DOC.read_text()
    matches = list(SECTION.finditer(text))
    out = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        assert m.group(1) not in out, f"docs/cli.md has two sections for {m.group(1)!r}"
        out[m.group(1)] = text[m.end() : end]
    return out


def test_registered_commands_are_loadable() -> None:
    commands = _commands()
    assert set(COMMANDS) <= set(commands)
    for name, command in commands.items():
        assert command.name == name, f"{name!r} loads a command named {command.name!r}"


@pytest.mark.parametrize("name", sorted(_commands()))
def test_command_has_help_and_docs(name: str) -> None:
    command = _commands()[name]
    assert command.help and command.help.strip(), f"chamberlain {name} has no help text"
    assert command.get_short_help_str(), f"chamberlain {name} has no short help"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help and param.help.strip(), f"chamberlain {name} {param.opts[0]} has no help text"
    sections = _sections()
    assert name in sections, f"docs/cli.md has no '## chamberlain {name}' section"
    body = sections[name]
    assert len(body.split()) >= 20, f"The docs/cli.md section for {name!r} is too short to explain it"
    assert f"chamberlain {name}" in body, f"The docs/cli.md section for {name!r} shows no usage line"
    for param in command.params:
        if isinstance(param, click.Option):
            assert any(opt in body for opt in param.opts), (
                f"The docs/cli.md section for {name!r} does not mention {param.opts[0]}"
            )


def test_every_docs_section_names_a_real_command() -> None:
    unknown = set(_sections()) - set(_commands())
    assert not unknown, f"docs/cli.md documents commands that do not exist: {sorted(unknown)}"


def test_group_options_have_help() -> None:
    assert cli.help and cli.help.strip()
    for param in cli.params:
        if isinstance(param, click.Option) and param.name not in ("help", "version"):
            assert param.help, f"chamberlain {param.opts[0]} has no help text"
