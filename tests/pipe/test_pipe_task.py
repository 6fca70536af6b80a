"""Tests for Task: naming, the task dictionary, subtasks, metadata and timers."""

from __future__ import annotations

import logging
import pickle

import pytest

from chamberlain.errors import ConfigError, TaskError
from chamberlain.pipe import (
    Config,
    ConfigurableField,
    Task,
    TaskMetadata,
    field,
    range_field,
    time_method,
)
from chamberlain.pipe.timing import USAGE_FIELDS


class LeafConfig(Config):
    scale: float = range_field(1.0, "Scale factor.", min=0.0)


class LeafTask(Task):
    ConfigClass = LeafConfig

    @time_method
    def run(self, value: float) -> float:
        self.metadata["scaled"] = value * self.config.scale
        return value * self.config.scale


class OtherLeafTask(LeafTask):
    """A drop-in replacement for LeafTask."""

    @time_method
    def run(self, value: float) -> float:
        return -value


class MiddleConfig(Config):
    leaf: ConfigurableField = LeafTask.make_field("The leaf subtask.")
    offset: float = field(0.0, "Added after the leaf.")


class MiddleTask(Task):
    ConfigClass = MiddleConfig

    def __init__(self, config: Config | None = None, **kwargs: object) -> None:
        super().__init__(config, **kwargs)  # type: ignore[arg-type]
        self.make_subtask("leaf")

    @time_method
    def run(self, value: float) -> float:
        return self.leaf.run(value) + self.config.offset


class TopConfig(Config):
    middle: ConfigurableField = MiddleTask.make_field("The middle subtask.")
    label: str = field("x", "A plain field.")


class TopTask(Task):
    ConfigClass = TopConfig
    default_name = "top"

    def __init__(self, config: Config | None = None, **kwargs: object) -> None:
        super().__init__(config, **kwargs)  # type: ignore[arg-type]
        self.make_subtask("middle")

    @time_method
    def run(self, value: float) -> float:
        with self.timer("inner"):
            result = self.middle.run(value)
        self.metadata["result"] = result
        return result


def test_names_and_task_dict() -> None:
    top = TopTask()
    assert top.get_name() == "top"
    assert top.get_full_name() == "top"
    assert top.middle.get_name() == "middle"
    assert top.middle.get_full_name() == "top.middle"
    assert top.middle.leaf.get_name() == "leaf"
    assert top.middle.leaf.get_full_name() == "top.middle.leaf"
    expected = {"top": top, "top.middle": top.middle, "top.middle.leaf": top.middle.leaf}
    assert top.get_task_dict() == expected
    assert top.middle.leaf.get_task_dict() == expected  # same from any member
    assert top.middle.parent_task is top
    # A copy: changing it does not change the hierarchy.
    copy = top.get_task_dict()
    copy.clear()
    assert len(top.get_task_dict()) == 3


def test_explicit_name_and_loggers() -> None:
    top = TopTask(name="label")
    assert top.middle.leaf.get_full_name() == "label.middle.leaf"
    assert top.log.name == "label"
    assert top.middle.leaf.log.name == "label.middle.leaf"
    nested = TopTask(log=logging.getLogger("pipeline"))
    assert nested.log.name == "pipeline.top"
    assert nested.middle.log.name == "pipeline.top.middle"


def test_name_required() -> None:
    class Nameless(Task):
        pass

    with pytest.raises(TaskError, match="needs a name"):
        Nameless()
    top = TopTask()
    with pytest.raises(TaskError, match="needs a name"):
        LeafTask(parent_task=top)


def test_subtask_config_comes_from_parent() -> None:
    config = TopConfig()
    config.middle.leaf.scale = 3.0
    top = TopTask(config=config)
    assert top.middle.leaf.config is config.middle.leaf.value
    assert top.run(2.0) == 6.0


def test_wrong_config_class_rejected() -> None:
    with pytest.raises(TaskError, match="needs a TopConfig, not LeafConfig"):
        TopTask(config=LeafConfig())


def test_retarget_changes_built_class() -> None:
    config = TopConfig()
    config.middle.leaf.retarget(OtherLeafTask)
    top = TopTask(config=config)
    assert type(top.middle.leaf) is OtherLeafTask
    assert top.run(2.0) == -2.0
    assert type(TopTask().middle.leaf) is LeafTask  # the class default is untouched


def test_make_subtask_errors() -> None:
    top = TopTask()
    with pytest.raises(ConfigError, match="has no field 'nope'"):
        top.make_subtask("nope")
    with pytest.raises(ConfigError, match="field 'label' is a str, not a subtask"):
        top.make_subtask("label")


def test_full_metadata_keys() -> None:
    top = TopTask()
    top.run(1.5)
    full = top.get_full_metadata()
    assert isinstance(full, TaskMetadata)
    assert set(full.keys()) == {"top", "top:middle", "top:middle:leaf"}
    assert full["top.result"] == 1.5
    assert full["top:middle:leaf.scaled"] == 1.5
    names = full.names()
    assert "top:middle:leaf.runStartCpuTime" in names
    assert "top:middle.runEndUtc" in names
    assert "top.innerStartMaxResidentSetSize" in names
    # Snapshot, not a live view.
    top.metadata["later"] = 1
    assert "top.later" not in full


def test_empty_metadata_clears_hierarchy() -> None:
    top = TopTask()
    top.run(1.0)
    assert len(top.middle.leaf.metadata) > 0
    top.middle.empty_metadata()  # from any member
    assert all(len(task.metadata) == 0 for task in top.get_task_dict().values())


def test_timer_keys_and_order() -> None:
    top = TopTask()
    top.run(1.0)
    md = top.metadata
    for prefix in ("runStart", "runEnd", "innerStart", "innerEnd"):
        for suffix in USAGE_FIELDS:
            assert f"{prefix}{suffix}" in md, f"{prefix}{suffix}"
    assert md["__version__"] == 1
    assert md["runStartUtc"] <= md["innerStartUtc"] <= md["innerEndUtc"] <= md["runEndUtc"]
    assert md["runStartCpuTime"] <= md["innerStartCpuTime"] <= md["innerEndCpuTime"] <= md["runEndCpuTime"]
    assert md["runStartUserTime"] <= md["runEndUserTime"]
    assert md["runStartMaxResidentSetSize"] > 0
    assert md["runStartMaxResidentSetSize"] <= md["runEndMaxResidentSetSize"]
    # Repeated calls accumulate arrays.
    top.run(2.0)
    assert len(md.get_array("runStartCpuTime")) == 2
    assert len(md.get_array("runEndUtc")) == 2


def test_timer_records_end_on_error() -> None:
    leaf = LeafTask(name="leaf")
    with pytest.raises(ZeroDivisionError), leaf.timer("failing"):
        1 / 0  # noqa: B018
    assert "failingEndCpuTime" in leaf.metadata


def test_timer_logs(caplog: pytest.LogCaptureFixture) -> None:
    top = TopTask()
    with caplog.at_level(logging.DEBUG, logger="timer.top"), top.timer("block"):
        pass
    messages = [r.getMessage() for r in caplog.records if r.name == "timer.top"]
    assert any("blockStartCpuTime=" in m for m in messages)
    assert any("blockEndUtc=" in m for m in messages)


def test_can_multiprocess_default_and_override() -> None:
    class Serial(LeafTask):
        can_multiprocess = False

    assert LeafTask.can_multiprocess is True
    assert Serial.can_multiprocess is False


def test_pickle_round_trip() -> None:
    config = TopConfig()
    config.middle.leaf.scale = 2.5
    top = TopTask(config=config, name="label")
    clone = pickle.loads(pickle.dumps(top))
    assert clone.get_full_name() == "label"
    assert clone.middle.leaf.get_full_name() == "label.middle.leaf"
    assert clone.config == top.config
    assert clone.run(2.0) == 5.0


def test_invalid_config_rejected_at_construction() -> None:
    class RequiredConfig(Config):
        path: str | None = field(None, "Must be set.", optional=False)

    class Needs(Task):
        ConfigClass = RequiredConfig
        default_name = "needs"

    with pytest.raises(ConfigError, match=r"config\.path is required"):
        Needs()
    config = RequiredConfig()
    config.path = "/data"
    assert Needs(config=config).config.path == "/data"
