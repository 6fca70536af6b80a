"""Finding instruments by name: entry points, built-ins, class paths."""

from __future__ import annotations

import importlib.metadata

import pytest

from chamberlain.errors import InstrumentError
from chamberlain.instrument import ENTRY_POINT_GROUP, SimCam, get_instrument, known_instruments
from chamberlain.instrument import lookup as lookup_module


def _fake_entry_points(*eps: tuple[str, str]):  # type: ignore[no-untyped-def]
    def entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
        assert group == ENTRY_POINT_GROUP
        return [importlib.metadata.EntryPoint(name=n, value=v, group=group) for n, v in eps]

    return entry_points


def test_builtin_simcam() -> None:
    inst = get_instrument("SimCam")
    assert isinstance(inst, SimCam)
    assert inst.name == "SimCam"
    assert "SimCam" in known_instruments()


def test_class_path() -> None:
    assert isinstance(get_instrument("chamberlain.instrument.simcam.SimCam"), SimCam)


def test_unknown_name_lists_known() -> None:
    with pytest.raises(InstrumentError, match=r"'NoSuchCam'.*'SimCam'"):
        get_instrument("NoSuchCam")
    with pytest.raises(InstrumentError):
        get_instrument("")


def test_bad_class_paths() -> None:
    with pytest.raises(InstrumentError, match="no_such_module"):
        get_instrument("no_such_module.Cam")
    with pytest.raises(InstrumentError, match="not a subclass"):
        get_instrument("chamberlain.geometry.timespan.Timespan")


def test_entry_point_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        lookup_module.importlib.metadata,
        "entry_points",
        _fake_entry_points(("AliasCam", "chamberlain.instrument.simcam:SimCam"), ("Broken", "nowhere.mod:X")),
    )
    assert isinstance(get_instrument("AliasCam"), SimCam)
    assert known_instruments() == ["AliasCam", "Broken", "SimCam"]
    with pytest.raises(InstrumentError, match=r"'Broken'.*nowhere\.mod:X"):
        get_instrument("Broken")
