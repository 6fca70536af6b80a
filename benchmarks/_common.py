"""Shared helpers for the Chamberlain benchmark scripts.

Nothing here imports Chamberlain or the Rubin butler, so the helpers also work
inside a separate interpreter that runs only the Rubin half of a benchmark
(see `peer_available` and `run_peer_worker`).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _pkg_version
from typing import Any

#: PostgreSQL server every benchmark uses unless told otherwise (trust auth).
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


# --- timing ------------------------------------------------------------------------------


@contextlib.contextmanager
def timed(out: list[float]) -> Iterator[None]:
    """Append the wall-clock seconds spent in the block to ``out``."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        out.append(time.perf_counter() - t0)


def time_call(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Call ``fn()`` once; return (seconds, result)."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence (NaN if empty)."""
    return statistics.median(values) if values else float("nan")


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean of a non-empty sequence (NaN if empty)."""
    return statistics.fmean(values) if values else float("nan")


def log(msg: str) -> None:
    """Progress line on stderr, with the time, so stdout stays a clean report."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- printing ----------------------------------------------------------------------------


def fmt_number(value: float | None, digits: int = 0) -> str:
    """Thousands-separated number, or an em dash for missing/NaN values."""
    if value is None or value != value:
        return "—"
    return f"{value:,.{digits}f}"


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None, file: Any = None
) -> None:
    """Print a plain-text table with a header rule.

    Parameters
    ----------
    headers
        Column titles.
    rows
        Cell strings, one sequence per row.
    align
        One character per column, ``"l"`` or ``"r"``; left for the first
        column and right for the others by default.
    file
        Where to print (stdout by default).
    """
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [str(c).ljust(w) if a == "l" else str(c).rjust(w) for c, w, a in zip(cells, widths, align)]
        return "  ".join(parts).rstrip()

    print(line(headers), file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for row in rows:
        print(line(row), file=file)


# --- files -------------------------------------------------------------------------------


def ensure_workdir(path: str | None) -> str | None:
    """Create the directory a benchmark was given with ``--workdir`` if it is missing.

    Parameters
    ----------
    path
        The directory, or None (then the benchmark uses the system's temporary directory).

    Returns
    -------
    path
        ``path``, now an existing directory (or None).
    """
    if path is not None:
        os.makedirs(path, exist_ok=True)
    return path


# --- environment -------------------------------------------------------------------------


def package_versions(names: Sequence[str]) -> dict[str, str]:
    """Installed distribution versions ("not installed" for missing ones)."""
    out = {}
    for name in names:
        try:
            out[name] = _pkg_version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine_summary() -> str:
    """One line describing the machine: nproc, CPU model, Python."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for text in f:
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    return f"nproc={os.cpu_count()}, cpu={cpu}, python={platform.python_version()} ({sys.executable})"


def peer_available(peer_python: str | None = None) -> bool:
    """True if the Rubin butler (``lsst.daf.butler``) can be imported.

    Parameters
    ----------
    peer_python
        Interpreter to check instead of the current one.
    """
    if peer_python is None:
        try:
            import lsst.daf.butler  # noqa: F401
        except ImportError:
            return False
        return True
    proc = subprocess.run([peer_python, "-c", "import lsst.daf.butler"], capture_output=True, check=False)
    return proc.returncode == 0


def run_peer_worker(peer_python: str, script: str, args: Sequence[str], timeout: float = 1800) -> Any:
    """Run ``script`` in another interpreter and parse the JSON it prints last on stdout.

    Progress on the worker's stderr is passed through.
    """
    proc = subprocess.run(
        [peer_python, script, *args], stdout=subprocess.PIPE, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"Peer worker {peer_python} {script} failed with exit status {proc.returncode}.")
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return json.loads(lines[-1])


# --- PostgreSQL --------------------------------------------------------------------------


def new_namespace(prefix: str = "bench") -> str:
    """A fresh PostgreSQL schema name such as ``bench_3f9a1c``."""
    return f"{prefix}_{secrets.token_hex(4)}"


def _admin_engine(pg_url: str) -> Any:
    import sqlalchemy as sa

    url = sa.make_url(pg_url)
    if url.drivername in ("postgresql", "postgres"):
        try:
            import psycopg  # noqa: F401

            url = url.set(drivername="postgresql+psycopg")
        except ImportError:
            url = url.set(drivername="postgresql+psycopg2")
    return sa.create_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")


def drop_schema(pg_url: str, namespace: str) -> None:
    """``DROP SCHEMA IF EXISTS <namespace> CASCADE`` (the name is checked to be an identifier)."""
    import sqlalchemy as sa

    if not namespace.replace("_", "").isalnum():
        raise ValueError(f"Refusing to drop schema with unusual name {namespace!r}.")
    engine = _admin_engine(pg_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE'))
    finally:
        engine.dispose()


def pg_reachable(pg_url: str) -> str | None:
    """The server's version string, or None if it cannot be reached."""
    import sqlalchemy as sa

    try:
        engine = _admin_engine(pg_url)
        try:
            with engine.connect() as conn:
                return str(conn.execute(sa.text("SHOW server_version")).scalar_one())
        finally:
            engine.dispose()
    except Exception:
        return None
