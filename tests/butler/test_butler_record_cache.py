"""The Butler uses the registry's dimension-record cache: `Registry.refresh` reaches it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _butler_setup import EXPOSURE_10, make_repo

from chamberlain.butler import Butler
from chamberlain.dimensions import DataCoordinate
from chamberlain.errors import DataIdValueError


@pytest.fixture
def butler(tmp_path: Path, database: Any) -> Any:
    b = make_repo(tmp_path / "repo", database)
    yield b
    b.close()


def _predicted(butler: Butler, exposure: int) -> str:
    # The default template names {exposure.obs_id}: the path comes from the exposure's record.
    return butler.get_uri("t_NumpyArray", instrument="Cam", exposure=exposure, detector=0, predict=True)


def test_refresh_shows_a_record_changed_by_another_butler(butler: Butler) -> None:
    assert "_OBS10_" in _predicted(butler, 10)
    with Butler(butler.config.root, writeable=True) as other:
        changed = other.registry.sync_dimension_record(
            "exposure", EXPOSURE_10 | {"obs_id": "NEW10"}, update=True
        )
        assert changed == {"obs_id": "OBS10"}
    butler.registry.refresh()
    path = _predicted(butler, 10)
    assert "_NEW10_" in path and "OBS10" not in path


def test_refresh_shows_a_record_inserted_by_another_butler(butler: Butler) -> None:
    assert "OBS11" not in _predicted(butler, 11)  # no record yet: the optional field is left out
    with Butler(butler.config.root, writeable=True) as other:
        other.registry.insert_dimension_records("exposure", [EXPOSURE_10 | {"id": 11, "obs_id": "OBS11"}])
    butler.registry.refresh()
    assert "_OBS11_" in _predicted(butler, 11)
    ref = butler.put(np.arange(3), "t_NumpyArray", instrument="Cam", exposure=11, detector=0)
    assert "_OBS11_" in butler.get_uri(ref)


def test_rolled_back_record_is_not_used_for_paths(butler: Butler) -> None:
    with pytest.raises(RuntimeError, match="undo"), butler.transaction():
        butler.registry.insert_dimension_records("exposure", [EXPOSURE_10 | {"id": 12, "obs_id": "GONE12"}])
        assert "_GONE12_" in _predicted(butler, 12)
        raise RuntimeError("undo")
    assert "GONE12" not in _predicted(butler, 12)


def test_friendly_data_id_sees_records_of_another_butler(butler: Butler) -> None:
    with pytest.raises(DataIdValueError, match="OBS13"):
        butler.find_dataset("t_NumpyArray", instrument="Cam", exposure="OBS13", detector=0)
    with Butler(butler.config.root, writeable=True) as other:
        other.registry.insert_dimension_records("exposure", [EXPOSURE_10 | {"id": 13, "obs_id": "OBS13"}])
        other.put(np.ones(1), "t_NumpyArray", instrument="Cam", exposure=13, detector=0, run="run1")
    butler.registry.refresh()
    ref = butler.find_dataset("t_NumpyArray", instrument="Cam", exposure="OBS13", detector=0)
    assert ref is not None and ref.data_id["exposure"] == 13


def test_lookup_dimension_record_finds_implied_keys_without_expansion(butler: Butler) -> None:
    registry = butler.registry
    group = registry.universe.conform(["instrument", "exposure", "detector"])
    coord = DataCoordinate.standardize({"instrument": "Cam", "exposure": 10, "detector": 0}, dimensions=group)
    assert not coord.has_full()
    record = registry.lookup_dimension_record("exposure", coord)
    assert (record.obs_id, record.exposure, record.day_obs) == ("OBS10", 10, 20240301)
    assert registry.lookup_dimension_record("detector", coord).full_name == "S00"
    # day_obs is implied by the exposure: its record is reached through the exposure's.
    assert registry.lookup_dimension_record("day_obs", coord).id == 20240301
    missing = DataCoordinate.standardize(
        {"instrument": "Cam", "exposure": 99, "detector": 0}, dimensions=group
    )
    assert registry.lookup_dimension_record("exposure", missing) is None
