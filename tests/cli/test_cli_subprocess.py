"""End-to-end runs of the real ``chamberlain`` entry point in a subprocess, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(sys.executable).with_name("chamberlain")


def chamberlain(*args: Any, script: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "chamberlain.cli"]
    return subprocess.run(
        [*command, *(str(a) for a in args)], capture_output=True, text=True, timeout=120, check=False
    )


def ok(*args: Any, script: bool = False) -> str:
    result = chamberlain(*args, script=script)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    assert result.stderr == ""
    return result.stdout


def test_workflow(tmp_path: Path) -> None:
    """create -> register-instrument -> register-dataset-type -> collection-chain -> query (JSON).

    The full workflow on both backends runs in-process in test_cli_workflow.py;
    this checks the installed entry points themselves with a few runs.
    """
    repo = tmp_path / "repo"
    assert "Created repository" in ok("create", repo, script=True)
    out = ok("register-instrument", repo, "SimCam")
    assert out == "SimCam: inserted 1 instrument, 4 physical_filter, 9 detector\n"
    ok("register-dataset-type", repo, "raw", "Exposure", "instrument", "exposure", "detector")
    assert ok("collection-chain", repo, "defaults", script=True) == ""
    types = json.loads(ok("query-dataset-types", repo, "--format", "json"))
    assert types == [
        {
            "name": "raw",
            "dimensions": ["instrument", "detector", "exposure"],
            "storage_class": "Exposure",
            "is_calibration": False,
        }
    ]


def test_error_line_and_debug_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = chamberlain("query-collections", missing, script=True)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: Repository '{missing}' does not exist (no such directory)."
    ]

    result = chamberlain("--debug", "query-collections", missing)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ConfigError" in result.stderr and str(missing) in result.stderr


def test_verbose_logging_goes_to_stderr(tmp_path: Path) -> None:
    code = (
        "import logging, click\n"
        "from chamberlain.cli import cli, main\n"
        "@cli.command('log-probe')\n"
        "def probe():\n"
        "    '''Log one message per level.'''\n"
        "    log = logging.getLogger('chamberlain.probe')\n"
        "    log.debug('dbg'); log.info('inf'); log.warning('wrn')\n"
        "import sys; main(sys.argv[1:])\n"
    )

    def probe(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", code, *args, "log-probe"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        return result.stderr

    assert probe() == "wrn\n"  # Python's default: warnings only, bare message
    assert probe("-v").splitlines() == ["INFO chamberlain.probe: inf", "WARNING chamberlain.probe: wrn"]
    assert len(probe("-vv").splitlines()) == 3
    assert probe("--log-level", "ERROR") == ""
    assert "dbg" in probe("--log-level", "chamberlain.probe=DEBUG")


def test_help_lists_commands() -> None:
    out = ok("--help")
    assert out.startswith("Usage: chamberlain")
    for name in ("create", "register-instrument", "query-collections", "migrate"):
        assert f"  {name} " in out
