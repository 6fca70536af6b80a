"""Every long library call reports progress through one `ProgressCallback(done, total)`."""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path

import pytest

from chamberlain._progress import ProgressCallback
from chamberlain.butler import Butler
from chamberlain.cli._progress import progress_callback
from chamberlain.instrument import simulate_raws
from chamberlain.skymap import registration
from chamberlain.tasks.define_visits import DefineVisitsTask
from chamberlain.tasks.ingest_raws import ingest_raws


def test_one_protocol_everywhere() -> None:
    assert registration.ProgressCallback is ProgressCallback
    for func in (ingest_raws, DefineVisitsTask.run, registration.register_skymap):
        # Annotations are strings (``from __future__ import annotations``); the name is ours.
        assert inspect.signature(func).parameters["progress"].annotation == "ProgressCallback | None", func
        assert func.__globals__["ProgressCallback"] is ProgressCallback, func


def test_ingest_reports_running_count_and_total(tmp_path: Path) -> None:
    simulate_raws(tmp_path / "raws", 3, seed=4, image_size=16, detectors=[0, 4])
    n = len(list((tmp_path / "raws").glob("*.fits")))
    assert n == 6
    calls: list[tuple[int, int]] = []
    with Butler.create(tmp_path / "repo") as butler:
        ingest_raws(
            butler,
            [tmp_path / "raws"],
            transfer="direct",
            batch_size=4,
            progress=lambda d, t: calls.append((d, t)),
        )
    # Once before the first batch, then after the batches of 4 and 2 files.
    assert calls == [(0, 6), (4, 6), (6, 6)]


def test_cli_bar_moves_to_done() -> None:
    updates: list[int] = []

    class FakeBar:
        def __enter__(self) -> FakeBar:
            return self

        def __exit__(self, *exc: object) -> None:
            updates.append(-1)

        def update(self, n: int) -> None:
            updates.append(n)

    with contextlib.ExitStack() as stack:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("chamberlain.cli._progress.progress_bar", lambda total, label: FakeBar())
            progress = progress_callback(stack, "x")
            for done in (0, 3, 3, 7, 10):
                progress(done, 10)
        assert updates == [3, 4, 3]
    assert updates == [3, 4, 3, -1]  # closed with the stack
    assert inspect.signature(progress).parameters.keys() == {"done", "total"}
