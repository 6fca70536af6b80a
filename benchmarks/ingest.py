#!/usr/bin/env python
"""Raw ingest benchmark: files per second of `ingest_raws` on SQLite, and the cost of reading headers.

Simulates N SimCam raws (small 16 x 16 images with full headers, so the file
system and the database dominate, as for real raws whose pixels ingest never
reads), then

1. times header reading alone, per file, in one process: Chamberlain's block
   reader (`chamberlain.tasks._ingest_read.read_primary_header`),
   ``fitsio.read_header`` for comparison, and read + translate (what each
   worker does per file);
2. ingests all files into a fresh SQLite repository with ``transfer=direct``
   and ``transfer=symlink``, with 1 and 2 processes, and prints files/s.

The goal is >= 1,500 files/s with 2 processes; the per-file header cost shows
how far the header reading alone would let it go.

Usage::

    .venv/bin/python benchmarks/ingest.py [--files 2000] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import fmt_number, log, machine_summary, print_table

from chamberlain.butler import Butler
from chamberlain.instrument import simulate_raws
from chamberlain.tasks._ingest_read import read_primary_header, translate_raw_file
from chamberlain.tasks.ingest_raws import ingest_raws

GOAL = 1500.0


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children (the pool workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def per_file_ms(function: object, files: list[str]) -> float:
    """Milliseconds per file of calling ``function(path)`` over all files (best of 3 passes)."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for path in files:
            function(path)  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best / len(files) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="number of raw files (default 2000)")
    parser.add_argument("--batch-size", type=int, default=1000, help="files per transaction (default 1000)")
    args = parser.parse_args()

    import fitsio

    print(f"Machine: {machine_summary()}")
    print(f"Load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        log(f"simulating {args.files} raws")
        exposures = -(-args.files // 9)
        files = [str(p) for p in simulate_raws(os.path.join(tmp, "raws"), exposures, 1, image_size=16)]
        files = files[: args.files]
        for path in files[args.files :]:
            os.remove(path)
        print(f"{len(files)} simulated SimCam raw files, {os.path.getsize(files[0]):,} bytes each.\n")

        log("timing header reading")
        reader_ms = per_file_ms(read_primary_header, files)
        fitsio_ms = per_file_ms(lambda p: fitsio.read_header(p, 0), files)
        translate_ms = per_file_ms(translate_raw_file, files)
        print("Header cost per file (one process)")
        print_table(
            ["step", "ms/file", "files/s limit (1 proc)", "files/s limit (2 procs)"],
            [
                [name, f"{ms:.3f}", fmt_number(1e3 / ms), fmt_number(2e3 / ms)]
                for name, ms in [
                    ("read header (Chamberlain block reader)", reader_ms),
                    ("read header (fitsio.read_header)", fitsio_ms),
                    ("read + translate (per-worker work)", translate_ms),
                ]
            ],
        )
        print()

        rows = []
        for transfer in ("direct", "symlink"):
            for processes in (1, 2):
                root = os.path.join(tmp, f"repo-{transfer}-{processes}")
                butler = Butler.create(root)
                log(f"ingest transfer={transfer} processes={processes}")
                cpu0 = _cpu_seconds()
                t0 = time.perf_counter()
                summary = ingest_raws(
                    butler, files, transfer=transfer, processes=processes, batch_size=args.batch_size
                )
                seconds = time.perf_counter() - t0
                cpu = _cpu_seconds() - cpu0
                t0 = time.perf_counter()
                again = ingest_raws(butler, files, transfer=transfer, processes=processes)
                rerun = time.perf_counter() - t0
                butler.close()
                assert summary.ingested == len(files) and not summary.failed, summary
                assert again.already_present == len(files), again
                rate = len(files) / seconds
                rows.append(
                    [
                        transfer,
                        str(processes),
                        f"{seconds:.2f}",
                        fmt_number(rate),
                        f"{seconds / len(files) * 1e3:.3f}",
                        f"{cpu / len(files) * 1e3:.3f}",
                        fmt_number(len(files) / rerun),
                        "—" if processes != 2 else "yes" if rate >= GOAL else "NO",
                    ]
                )
        print(f"ingest_raws on SQLite, {len(files)} files, batch size {args.batch_size}")
        print_table(
            [
                "transfer",
                "procs",
                "seconds",
                "files/s",
                "ms/file",
                "CPU ms/file",
                "re-run files/s",
                "goal ok",
            ],
            rows,
        )
        print(f"\nGoal: >= {GOAL:,.0f} files/s with 2 processes (the 'goal ok' column checks those rows).")
        print(
            "CPU ms/file is the CPU time of this process and its header-reading workers per file: with "
            f"{os.cpu_count()} cores, {os.cpu_count()} / that is the rate an otherwise idle machine allows."
        )
        print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
