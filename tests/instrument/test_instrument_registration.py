"""register_instrument: idempotent instrument, detector and physical_filter records (both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chamberlain.errors import ConflictingRecordError, InstrumentError
from chamberlain.instrument import SimCam
from chamberlain.instrument.registration import InstrumentRegistration, register_instrument
from chamberlain.registry import Registry


@pytest.fixture
def registry(database: Any) -> Iterator[Registry]:
    reg = Registry.create(database.url, namespace=database.namespace)
    yield reg
    reg.close()


def _counts(registry: Registry) -> tuple[int, int, int]:
    return (
        len(registry.fetch_dimension_records("instrument")),
        len(registry.fetch_dimension_records("physical_filter")),
        len(registry.fetch_dimension_records("detector")),
    )


def test_register_by_name_then_again(registry: Registry) -> None:
    summary = register_instrument(registry, "SimCam")
    assert isinstance(summary, InstrumentRegistration)
    assert summary.instrument == "SimCam"
    assert dict(summary.inserted) == {"instrument": 1, "physical_filter": 4, "detector": 9}
    assert summary.changed
    assert _counts(registry) == (1, 4, 9)
    record = registry.get_dimension_record("instrument", instrument="SimCam")
    assert record is not None
    assert record.class_name == "chamberlain.instrument.simcam.SimCam"
    assert record.detector_max == SimCam.detector_max
    detector = registry.get_dimension_record("detector", instrument="SimCam", detector=4)
    assert detector is not None and detector.full_name == "R00_S11"
    filters = {r.name: r.band for r in registry.fetch_dimension_records("physical_filter")}
    assert filters == dict(SimCam().filters)

    again = register_instrument(registry, SimCam())
    assert not again.changed
    assert dict(again.unchanged) == {"instrument": 1, "physical_filter": 4, "detector": 9}
    assert str(again) == "SimCam: unchanged 1 instrument, 4 physical_filter, 9 detector"
    assert _counts(registry) == (1, 4, 9)


def test_fills_in_missing_records(registry: Registry) -> None:
    simcam = SimCam()
    registry.insert_dimension_records("instrument", [simcam.instrument_record()])
    registry.insert_dimension_records("detector", simcam.detector_records()[:3])
    summary = register_instrument(registry, simcam)
    assert dict(summary.inserted) == {"instrument": 0, "physical_filter": 4, "detector": 6}
    assert dict(summary.unchanged) == {"instrument": 1, "physical_filter": 0, "detector": 3}
    assert _counts(registry) == (1, 4, 9)


def test_conflict_and_update(registry: Registry) -> None:
    register_instrument(registry, "SimCam")
    registry.sync_dimension_record(
        "physical_filter", {"instrument": "SimCam", "name": "SimCam-r", "band": "x"}, update=True
    )
    with pytest.raises(ConflictingRecordError) as info:
        register_instrument(registry, "SimCam")
    message = str(info.value)
    assert "physical_filter" in message and "'SimCam-r'" in message
    assert "band" in message and "'x'" in message and "'r'" in message
    record = registry.get_dimension_record("physical_filter", instrument="SimCam", physical_filter="SimCam-r")
    assert record is not None and record.band == "x"  # unchanged by the failed call

    summary = register_instrument(registry, "SimCam", update=True)
    assert dict(summary.updated) == {"instrument": 0, "physical_filter": 1, "detector": 0}
    assert "updated 1 physical_filter" in str(summary)
    record = registry.get_dimension_record("physical_filter", instrument="SimCam", physical_filter="SimCam-r")
    assert record is not None and record.band == "r"


def test_conflict_rolls_back_everything(registry: Registry) -> None:
    simcam = SimCam()
    bad = dict(simcam.detector_records()[0], full_name="WRONG")
    registry.insert_dimension_records("instrument", [simcam.instrument_record()])
    registry.insert_dimension_records("detector", [bad])
    with pytest.raises(ConflictingRecordError, match="WRONG"):
        register_instrument(registry, simcam)
    assert _counts(registry) == (1, 0, 1)  # the filters were not left behind


def test_other_instruments_are_untouched(registry: Registry) -> None:
    registry.insert_dimension_records("instrument", [{"name": "Other", "detector_max": 5, "visit_max": 10}])
    registry.insert_dimension_records("detector", [{"instrument": "Other", "id": 0, "full_name": "X"}])
    summary = register_instrument(registry, "SimCam")
    assert summary.inserted["detector"] == 9
    assert _counts(registry) == (2, 4, 10)


def test_unknown_instrument(registry: Registry) -> None:
    with pytest.raises(InstrumentError, match="'NoCam'.*'SimCam'"):
        register_instrument(registry, "NoCam")
    assert _counts(registry) == (0, 0, 0)
