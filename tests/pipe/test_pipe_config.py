"""Tests for Config: validation, subtask and registry fields, freeze, history, save/load."""

from __future__ import annotations

import math
import pickle
import sys
from pathlib import Path

import pytest

from chamberlain.errors import ConfigError
from chamberlain.pipe import (
    Config,
    ConfigurableField,
    ConfigurableRegistry,
    HistoryEntry,
    RegistryField,
    Task,
    choice_field,
    config_field,
    field,
    range_field,
    register_configurable,
)


class BackgroundConfig(Config):
    bin_size: int = range_field(128, "Bin size in pixels.", min=1, max=4096, inclusive_max=True)
    statistic: str = choice_field("median", "Statistic.", allowed={"mean": "Mean.", "median": "Median."})
    weights: list[float] = field(default_factory=lambda: [1.0, 2.0], doc="Weights.")


class FitConfig(Config):
    order: int = range_field(2, "Polynomial order.", min=0, max=6)  # max exclusive by default
    clip: float = range_field(3.0, "Clip level.", min=0.0, inclusive_min=False)


class FitTask(Task):
    ConfigClass = FitConfig


class RobustFitConfig(FitConfig):
    iterations: int = field(3, "Iterations.", check=lambda n: n % 2 == 1)


class RobustFitTask(FitTask):
    ConfigClass = RobustFitConfig


GROUPERS = ConfigurableRegistry("How to group exposures.")


class GroupConfig(Config):
    tolerance: float = field(1.0, "Tolerance.")


@register_configurable("one-to-one", GROUPERS)
class OneToOneGrouper(Task):
    ConfigClass = GroupConfig


class ByGroupConfig(GroupConfig):
    key: str = field("group", "Header key to group by.")


@register_configurable("by-group", GROUPERS)
class ByGroupGrouper(Task):
    ConfigClass = ByGroupConfig


class DetectConfig(Config):
    threshold: float = field(5.0, "Detection threshold.")
    name_prefix: str | None = field(None, "Optional prefix.")
    flags: dict[str, bool] = field(default_factory=dict, doc="Flags.")
    background: BackgroundConfig = config_field(BackgroundConfig, "Background settings.")
    fit: ConfigurableField = FitTask.make_field("Fitting subtask.")
    grouping: RegistryField = GROUPERS.make_field("Grouping algorithm.", default="one-to-one")


# ---------------------------------------------------------------- defaults and docs


def test_defaults_and_docs() -> None:
    config = DetectConfig()
    assert config.threshold == 5.0
    assert config.background.bin_size == 128
    assert config.fit.order == 2
    assert config.fit.target is FitTask
    assert config.grouping.name == "one-to-one"
    assert config.grouping.tolerance == 1.0
    assert DetectConfig.model_fields["threshold"].description == "Detection threshold."
    # Mutable defaults are not shared between instances.
    other = DetectConfig()
    other.background.weights.append(9.0)
    assert config.background.weights == [1.0, 2.0]


def test_int_accepted_for_float() -> None:
    config = DetectConfig()
    config.threshold = 4
    assert config.threshold == 4


# ---------------------------------------------------------------- validation errors


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("threshold", "high", r"Invalid value 'high' for config\.threshold: Input should be a valid number"),
        (
            "background.bin_size",
            2.5,
            r"2\.5 for config\.background\.bin_size: Input should be a valid integer",
        ),
        ("background.bin_size", 0, r"0 for config\.background\.bin_size: must be in the range \[1, 4096\]"),
        (
            "background.bin_size",
            4097,
            r"4097 for config\.background\.bin_size: must be in the range \[1, 4096\]",
        ),
        (
            "background.statistic",
            "max",
            r"'max' for config\.background\.statistic: must be one of 'mean', 'median'",
        ),
        ("fit.order", 6, r"6 for config\.fit\.order: must be in the range \[0, 6\)"),
        ("fit.clip", 0.0, r"0\.0 for config\.fit\.clip: must be in the range \(0\.0, inf\)"),
        (
            "background.weights",
            [1.0, "x"],
            r"'x' for config\.background\.weights\[1\]: Input should be a valid number",
        ),
    ],
)
def test_invalid_values(path: str, value: object, expected: str) -> None:
    config = DetectConfig()
    with pytest.raises(ConfigError, match=expected):
        config.apply_overrides({path: value})


def test_range_bounds_inclusive_and_exclusive() -> None:
    config = DetectConfig()
    config.background.bin_size = 4096  # inclusive max
    config.background.bin_size = 1  # inclusive min
    config.fit.order = 5
    config.fit.clip = 1e-9
    assert (config.background.bin_size, config.fit.order) == (1, 5)


def test_unknown_field() -> None:
    config = DetectConfig()
    with pytest.raises(
        ConfigError, match=r"config\.background \(BackgroundConfig\) has no field 'bins'.*'bin_size'"
    ):
        config.background.bins = 3


def test_check_callable() -> None:
    config = DetectConfig()
    config.fit.retarget(RobustFitTask)
    config.fit.iterations = 5
    with pytest.raises(ConfigError, match=r"4 for config\.fit\.iterations: failed check"):
        config.fit.iterations = 4


def test_validate_catches_in_place_mutation() -> None:
    config = DetectConfig()
    config.background.weights.append("oops")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"config\.background\.weights\[2\]"):
        config.validate()


def test_cross_field_validate_override() -> None:
    class PairConfig(Config):
        low: float = field(0.0, "Low.")
        high: float = field(1.0, "High.")

        def validate(self) -> None:
            super().validate()
            if self.low >= self.high:
                raise ConfigError(f"{self._path}.low ({self.low}) must be below high ({self.high}).")

    config = PairConfig()
    config.validate()
    config.low = 2.0
    with pytest.raises(ConfigError, match=r"config\.low \(2\.0\) must be below high \(1\.0\)"):
        config.validate()


def test_set_defaults_hook() -> None:
    class CustomConfig(DetectConfig):
        def set_defaults(self) -> None:
            super().set_defaults()
            self.background.statistic = "mean"
            self.fit.order = 3

    config = CustomConfig()
    assert config.background.statistic == "mean"
    assert config.fit.order == 3
    assert DetectConfig().background.statistic == "median"


# ---------------------------------------------------------------- subtasks and registries


def test_retarget() -> None:
    config = DetectConfig()
    config.fit.order = 4
    config.fit.retarget(RobustFitTask)
    assert config.fit.target is RobustFitTask
    assert isinstance(config.fit.value, RobustFitConfig)
    assert config.fit.order == 2  # fresh config for the new target
    assert config.fit.iterations == 3
    config.fit.retarget(f"{__name__}.FitTask")  # by import path
    assert config.fit.target is FitTask
    with pytest.raises(ConfigError, match="not a Config subclass"):
        config.fit.retarget(FitTask, config_class=dict)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"Cannot import 'no\.such\.Thing'"):
        config.fit.retarget("no.such.Thing")


def test_subtask_field_cannot_be_replaced() -> None:
    config = DetectConfig()
    with pytest.raises(ConfigError, match=r"Cannot assign .* to config\.fit: it is a subtask"):
        config.fit = FitConfig()


def test_registry_field() -> None:
    config = DetectConfig()
    assert config.grouping.target is OneToOneGrouper
    config.grouping["by-group"].key = "seq"  # edit a non-selected option
    config.grouping.name = "by-group"
    assert config.grouping.target is ByGroupGrouper
    assert config.grouping.key == "seq"
    assert isinstance(config.grouping.active, ByGroupConfig)
    grouper = config.grouping.apply(name="grouper")
    assert isinstance(grouper, ByGroupGrouper)
    assert grouper.config.key == "seq"
    with pytest.raises(
        ConfigError, match=r"'nearest' for config\.grouping\.name: must be one of 'by-group', 'one-to-one'"
    ):
        config.grouping.name = "nearest"
    with pytest.raises(ConfigError, match=r"config\.grouping has no option 'nearest'"):
        config.grouping["nearest"]


def test_registry_errors() -> None:
    registry = ConfigurableRegistry("test")
    registry.register("a", FitTask)
    with pytest.raises(ConfigError, match="'a' is already used"):
        registry.register("a", RobustFitTask)
    strict = ConfigurableRegistry("strict", base_config=GroupConfig)
    with pytest.raises(ConfigError, match=r"FitConfig .* does not derive from GroupConfig"):
        strict.register("fit", FitTask)

    class BadDefault(Config):
        choice: RegistryField = registry.make_field("x", default="missing")

    with pytest.raises(ConfigError, match="No entry 'missing' in the registry; registered names: 'a'"):
        BadDefault()


def test_registry_option_error_names_path() -> None:
    config = DetectConfig()
    with pytest.raises(ConfigError, match=r"'far' for config\.grouping\['by-group'\]\.tolerance"):
        config.grouping["by-group"].tolerance = "far"


# ---------------------------------------------------------------- freeze and history


def test_freeze() -> None:
    config = DetectConfig()
    config.freeze()
    assert config.is_frozen
    with pytest.raises(ConfigError, match=r"Cannot set config\.threshold = 1\.0: the config is frozen"):
        config.threshold = 1.0
    with pytest.raises(ConfigError, match=r"config\.background\.bin_size = 64: the config is frozen"):
        config.background.bin_size = 64
    with pytest.raises(ConfigError, match=r"config\.fit\.order = 1: the config is frozen"):
        config.fit.order = 1
    with pytest.raises(ConfigError, match=r"Cannot change config\.fit \(retarget"):
        config.fit.retarget(RobustFitTask)
    with pytest.raises(ConfigError, match=r"Cannot change config\.grouping\.name"):
        config.grouping.name = "by-group"
    with pytest.raises(ConfigError, match=r"config\.grouping\['by-group'\]\.key = 'x': the config is frozen"):
        config.grouping["by-group"].key = "x"  # options created after freezing are frozen too
    assert config.threshold == 5.0
    assert config.fit.target is FitTask


def test_history_records_setter() -> None:
    here = f"{__file__}:"
    config = DetectConfig()
    config.threshold = 7.0
    line = sys._getframe().f_lineno - 1
    history = config.get_history("threshold")
    assert [(h.value, h.label) for h in history] == [(5.0, "default"), (7.0, f"{here}{line}")]
    config.background.bin_size = 64
    line = sys._getframe().f_lineno - 1
    assert config.get_history("background.bin_size")[-1] == HistoryEntry(64, f"{here}{line}")
    config.fit.order = 1
    line = sys._getframe().f_lineno - 1
    assert config.get_history("fit.order")[-1] == HistoryEntry(1, f"{here}{line}")
    config.grouping.name = "by-group"
    line = sys._getframe().f_lineno - 1
    assert config.get_history("grouping.name")[-1] == HistoryEntry("by-group", f"{here}{line}")
    config.fit.retarget(RobustFitTask)
    line = sys._getframe().f_lineno - 1
    assert config.get_history("fit")[-1] == HistoryEntry(RobustFitTask, f"{here}{line}")
    with pytest.raises(ConfigError, match=r"No config field 'background\.nope'"):
        config.get_history("background.nope")


def test_history_snapshots_lists() -> None:
    config = DetectConfig()
    config.background.weights = [3.0]
    config.background.weights.append(4.0)
    assert config.get_history("background.weights")[-1].value == [3.0]


# ---------------------------------------------------------------- save / load


def _customised() -> DetectConfig:
    config = DetectConfig()
    config.threshold = 3.25
    config.name_prefix = 'it\'s "quoted"'
    config.flags = {"a": True, "b": False}
    config.background.bin_size = 256
    config.background.weights = [0.5, float("inf"), float("nan")]
    config.fit.retarget(RobustFitTask)
    config.fit.iterations = 7
    config.fit.clip = 2.5
    config.grouping["one-to-one"].tolerance = 0.25
    config.grouping.name = "by-group"
    config.grouping.key = "obs_id"
    return config


def test_save_load_round_trip(tmp_path: Path) -> None:
    config = _customised()
    path = tmp_path / "overrides.py"
    config.save(path)
    loaded = DetectConfig()
    loaded.load(path)
    assert loaded.fit.target is RobustFitTask
    assert isinstance(loaded.fit.value, RobustFitConfig)
    assert loaded.fit.iterations == 7
    assert loaded.grouping.name == "by-group"
    assert loaded.grouping.key == "obs_id"
    assert loaded.grouping["one-to-one"].tolerance == 0.25
    assert loaded.name_prefix == 'it\'s "quoted"'
    weights = loaded.background.weights
    assert weights[:2] == [0.5, math.inf] and math.isnan(weights[2])
    # Equality treats NaN as unequal, so compare the saved text as well.
    again = tmp_path / "again.py"
    loaded.save(again)
    assert again.read_text() == path.read_text()
    config.background.weights = [0.5]
    loaded.background.weights = [0.5]
    assert loaded == config
    assert loaded != DetectConfig()
    # History points into the override file.
    assert loaded.get_history("threshold")[-1].label.startswith(f"{path}:")


def test_load_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text("config.background.bin_size = 0\n")
    with pytest.raises(ConfigError, match=r"0 for config\.background\.bin_size.*while loading"):
        DetectConfig().load(path)
    path.write_text("config.threshold = = 3\n")
    with pytest.raises(ConfigError, match=r"bad\.py' line 1"):
        DetectConfig().load(path)
    with pytest.raises(ConfigError, match="Cannot read config override file"):
        DetectConfig().load(tmp_path / "missing.py")


def test_save_rejects_local_classes(tmp_path: Path) -> None:
    class LocalTask(FitTask):
        pass

    config = DetectConfig()
    config.fit.retarget(LocalTask)
    with pytest.raises(ConfigError, match="defined inside a function"):
        config.save(tmp_path / "x.py")


def test_pickle_and_equality() -> None:
    config = _customised()
    config.background.weights = [1.0]
    clone = pickle.loads(pickle.dumps(config))
    assert clone == config
    clone.grouping["by-group"].key = "other"
    assert clone != config
