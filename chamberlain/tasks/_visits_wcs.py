"""The raws' WCS for ``single-raw-wcs`` visit regions, read from a butler: `ButlerRawWcs`.

`raw_wcs_from_butler` gives `DefineVisitsTask` (``single-raw-wcs`` regions) a
``raw_wcs(instrument, exposure, detector)`` callable that reads only the
header of each raw; `DefineVisitsTask.run` makes one from its butler and the
collections it is given.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from chamberlain.butler import Butler

__all__ = ["ButlerRawWcs", "raw_wcs_from_butler"]


class ButlerRawWcs:
    """``raw_wcs(instrument, exposure, detector)`` reading the ``wcs`` component of raws (header only).

    Picklable: a copy sent to a worker process opens its own read-only butler
    on the same repository, so ``DefineVisitsTask`` may use ``processes > 1``.

    Parameters
    ----------
    butler
        The repository.
    collections
        Collections holding the raws, searched in order.
    dataset_type
        Name of the raw dataset type.
    """

    def __init__(self, butler: Butler, collections: str | Sequence[str], dataset_type: str = "raw") -> None:
        self._butler: Butler | None = butler
        self.root = os.fspath(butler.config.root)
        self.collections = [collections] if isinstance(collections, str) else list(collections)
        self.dataset_type = dataset_type

    def __getstate__(self) -> dict[str, Any]:
        return {"root": self.root, "collections": self.collections, "dataset_type": self.dataset_type}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._butler = None

    def __call__(self, instrument: str, exposure: int, detector: int) -> Any:
        """The WCS of the raw of this exposure and detector (reads only the file's header).

        Parameters
        ----------
        instrument
            Instrument name.
        exposure
            Exposure ID.
        detector
            Detector ID.

        Returns
        -------
        astropy.wcs.WCS
            The raw's WCS.

        Raises
        ------
        DatasetNotFoundError
            If there is no such raw in the collections.
        """
        if self._butler is None:
            self._butler = Butler(self.root, writeable=False)
        data_id = {"instrument": instrument, "exposure": exposure, "detector": detector}
        return self._butler.get(f"{self.dataset_type}.wcs", data_id, collections=self.collections)


def raw_wcs_from_butler(
    butler: Butler, collections: str | Sequence[str], dataset_type: str = "raw"
) -> ButlerRawWcs:
    """A ``raw_wcs(instrument, exposure, detector) -> WCS`` callable for `DefineVisitsTask`.

    Each call finds the raw in ``collections`` and reads only the ``wcs``
    component (the file's header).

    Parameters
    ----------
    butler, collections, dataset_type
        As for `ButlerRawWcs`.

    Returns
    -------
    ButlerRawWcs
        The picklable callable.
    """
    return ButlerRawWcs(butler, collections, dataset_type)
