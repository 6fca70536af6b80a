"""The progress callback every long-running library call accepts."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ProgressCallback"]


class ProgressCallback(Protocol):
    """``progress(done, total)``: called with the units of work done so far and the total.

    Long operations (`chamberlain.tasks.ingest_raws`, `DefineVisitsTask.run`,
    `chamberlain.skymap.register_skymap`) call it once with ``done = 0`` when the total
    is known, then after each step or batch with the running count, ending with
    ``done == total``. ``done`` never decreases.
    """

    def __call__(self, done: int, total: int) -> None:
        """Report progress.

        Parameters
        ----------
        done : `int`
            Units of work finished so far.
        total : `int`
            Units of work in all.
        """
