"""The collector pause around bulk work always restores the collector's state."""

from __future__ import annotations

import gc

import pytest

from chamberlain._gc import collector_paused
from chamberlain.errors import DimensionRecordError
from chamberlain.registry import Registry


def test_pause_restores_state_nested_and_on_error() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block leaves the outer pause alone
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()


def test_registry_bulk_calls_leave_the_collector_running(tmp_path) -> None:
    reg = Registry.create(f"sqlite:///{tmp_path}/r.sqlite3")
    try:
        reg.insert_dimension_records("instrument", [{"name": "Cam", "detector_max": 10}])
        assert gc.isenabled()
        with pytest.raises(DimensionRecordError):
            reg.insert_dimension_records("detector", [{"instrument": "Cam", "id": "not-an-int"}])
        assert gc.isenabled()
        reg.insert_dimension_records(
            "detector",
            [{"instrument": "Cam", "id": i, "full_name": f"D{i}", "purpose": "SCIENCE"} for i in range(3)],
        )
        results = iter(reg.query_data_ids(["detector"]))
        next(results)
        assert gc.isenabled()  # between pages (and after a partial read) the collector runs
        assert sorted(d["detector"] for d in reg.query_data_ids(["detector"])) == [0, 1, 2]
        assert gc.isenabled()
    finally:
        reg.close()
