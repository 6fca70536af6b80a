"""Public registry calls behind the Butler's data IDs and file templates, and the shared query options."""

from __future__ import annotations

import inspect

import pytest

from chamberlain.butler import Butler
from chamberlain.dimensions import DataCoordinate
from chamberlain.errors import DimensionRecordError
from chamberlain.registry import Registry
from chamberlain.registry.queries import QueryOptions


def test_fetch_dimension_records_by_fields(populated_registry: Registry) -> None:
    reg = populated_registry
    night = reg.fetch_dimension_records("exposure", [("Cam", 20240302)], fields=["instrument", "day_obs"])
    assert sorted(r.id for r in night) == [5, 6]
    one = reg.fetch_dimension_records(
        "exposure", [("Cam", 20240301, "Cam-r")], fields=["instrument", "day_obs", "physical_filter"]
    )
    assert sorted(r.id for r in one) == [1, 3]
    assert (
        reg.fetch_dimension_records("exposure", [("Cam", 19990101)], fields=["instrument", "day_obs"]) == []
    )
    with pytest.raises(DimensionRecordError, match="shoe_size"):
        reg.fetch_dimension_records("exposure", [("x",)], fields=["shoe_size"])


def test_lookup_dimension_record_is_cached_until_refresh(populated_registry: Registry) -> None:
    reg = populated_registry
    group = reg.universe.conform(["instrument", "visit", "detector"])
    coord = DataCoordinate.standardize({"instrument": "Cam", "visit": 5, "detector": 1}, dimensions=group)
    record = reg.lookup_dimension_record("visit", coord)
    assert (record.visit, record.day_obs, record.physical_filter) == (5, 20240302, "Cam-r")
    assert reg.lookup_dimension_record("visit", coord) is record  # fetched once
    reg.refresh()
    again = reg.lookup_dimension_record("visit", coord)
    assert again is not record and again.day_obs == 20240302


def test_query_options_are_declared_once() -> None:
    keys = set(QueryOptions.__annotations__)
    assert keys == {"where", "bind", "data_id", "order_by", "limit"}
    for method in (
        Registry.query_data_ids,
        Registry.query_datasets,
        Registry.query_dimension_records,
        Butler.query_data_ids,
        Butler.query_datasets,
        Butler.query_dimension_records,
    ):
        params = inspect.signature(method).parameters
        assert params["options"].kind is inspect.Parameter.VAR_KEYWORD, method
        assert params["options"].annotation == "Unpack[QueryOptions]", method
        assert not keys & set(params), method  # no option written out a second time


def test_data_id_values_as_keywords_still_work(populated_registry: Registry) -> None:
    reg = populated_registry
    by_keyword = reg.query_data_ids(
        ["exposure"], where="exposure.day_obs = 20240301", instrument="Cam", limit=3
    )
    by_data_id = reg.query_data_ids(
        ["exposure"], where="exposure.day_obs = 20240301", data_id={"instrument": "Cam"}, limit=3
    )
    assert [d["exposure"] for d in by_keyword] == [d["exposure"] for d in by_data_id]
    records = reg.query_dimension_records("exposure", instrument="Cam", order_by="-exposure", limit=2)
    assert [r.id for r in records] == [6, 5]
    refs = reg.query_datasets(
        "raw", ["run1", "run2"], data_id={"instrument": "Cam"}, detector=1, find_first=False
    )
    assert all(r.data_id["detector"] == 1 for r in refs)
