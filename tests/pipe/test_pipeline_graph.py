"""The pipeline graph: edges from dataset type names, order, and every graph error."""

from __future__ import annotations

import pytest

from chamberlain.pipe import Pipeline, PipelineGraphError
from chamberlain.pipe.connection_types import InitInput, InitOutput, Input, Output, PrerequisiteInput
from chamberlain.pipe.connections import PipelineTaskConnections
from chamberlain.pipe.pipeline_task import PipelineTask, PipelineTaskConfig

HERE = __name__
VISIT = ("instrument", "visit")


class CopyConnections(PipelineTaskConnections, dimensions=VISIT):
    source = Input(name="in", storage_class="ArrowTable", dimensions=VISIT)
    result = Output(name="out", storage_class="ArrowTable", dimensions=VISIT)


class CopyConfig(PipelineTaskConfig, pipeline_connections=CopyConnections):  # type: ignore[call-arg]
    pass


class Copy(PipelineTask):
    """Reads ``in`` and writes ``out`` (both renamed through config in the tests)."""

    ConfigClass = CopyConfig


class DetectorConnections(PipelineTaskConnections, dimensions=(*VISIT, "detector")):
    source = Input(name="in", storage_class="ArrowTable", dimensions=(*VISIT, "detector"))
    result = Output(name="det_out", storage_class="ArrowTable", dimensions=(*VISIT, "detector"))


class DetectorConfig(PipelineTaskConfig, pipeline_connections=DetectorConnections):  # type: ignore[call-arg]
    pass


class PerDetector(PipelineTask):
    """Like `Copy` but per detector."""

    ConfigClass = DetectorConfig


class ImageConnections(PipelineTaskConnections, dimensions=VISIT):
    source = Input(name="in", storage_class="ExposureF", dimensions=VISIT)
    result = Output(name="image_out", storage_class="ExposureF", dimensions=VISIT)


class ImageConfig(PipelineTaskConfig, pipeline_connections=ImageConnections):  # type: ignore[call-arg]
    pass


class ImageTask(PipelineTask):
    """Like `Copy` with another storage class."""

    ConfigClass = ImageConfig


class CalibratedConnections(PipelineTaskConnections, dimensions=VISIT):
    calib = PrerequisiteInput(name="flat", storage_class="ArrowTable", dimensions=VISIT)
    result = Output(name="calibrated", storage_class="ArrowTable", dimensions=VISIT)
    schema_in = InitInput(name="schema_in", storage_class="ArrowSchema")
    schema_out = InitOutput(name="schema_out", storage_class="ArrowSchema")


class CalibratedConfig(PipelineTaskConfig, pipeline_connections=CalibratedConnections):  # type: ignore[call-arg]
    pass


class Calibrated(PipelineTask):
    """Has a prerequisite input, an init-input and an init-output."""

    ConfigClass = CalibratedConfig


def pipeline(*tasks: tuple[str, str, dict[str, str]]) -> Pipeline:
    """Build a pipeline of ``(label, class name, connection renames)``."""
    lines = ["description: graph test", "tasks:"]
    for label, cls, connections in tasks:
        lines += [f"  {label}:", f"    class: {HERE}.{cls}", "    config:"]
        lines += [f"      connections.{k}: {v!r}" for k, v in connections.items()] or ["      {}"]
    text = "\n".join(lines).replace("    config:\n      {}", "    config: {}") + "\n"
    return Pipeline.from_text(text)


def test_chain_is_ordered_whatever_the_file_order() -> None:
    graph = pipeline(
        ("third", "Copy", {"source": "b", "result": "c"}),
        ("first", "Copy", {"source": "raw", "result": "a"}),
        ("second", "Copy", {"source": "a", "result": "b"}),
        ("side", "Copy", {"source": "raw", "result": "z"}),
    ).resolve()
    assert list(graph.tasks) == ["first", "side", "second", "third"]
    assert graph.upstream_tasks("third") == ["second"]
    assert graph.upstream_tasks("first") == []
    assert graph.dataset_types["b"].producer == "second"
    assert graph.dataset_types["b"].consumers == ("third",)
    assert graph.dataset_types["raw"].consumers == ("first", "side")
    assert graph.overall_inputs() == ["raw"]
    assert graph.dataset_types["first_metadata"].automatic
    assert graph.dataset_types["first_config"].is_init


def test_order_is_deterministic() -> None:
    tasks = [("t" + str(i), "Copy", {"source": "raw", "result": f"o{i}"}) for i in (3, 1, 2)]
    first = list(pipeline(*tasks).resolve().tasks)
    again = list(pipeline(*reversed(tasks)).resolve().tasks)
    assert first == again == ["t1", "t2", "t3"]


def test_cycle_names_the_tasks_and_dataset_types() -> None:
    cyclic = pipeline(
        ("a", "Copy", {"source": "y", "result": "x"}),
        ("b", "Copy", {"source": "x", "result": "y"}),
    )
    with pytest.raises(PipelineGraphError, match="cycle") as info:
        cyclic.resolve()
    message = str(info.value)
    for name in ("task 'a'", "task 'b'", "dataset type 'x'", "dataset type 'y'"):
        assert name in message
    selfish = pipeline(("loop", "Copy", {"source": "x", "result": "x"}))
    with pytest.raises(PipelineGraphError, match="cycle: .*task 'loop' -> dataset type 'x'"):
        selfish.resolve()


def test_two_producers() -> None:
    two = pipeline(
        ("a", "Copy", {"source": "raw", "result": "same"}),
        ("b", "Copy", {"source": "raw2", "result": "same"}),
    )
    with pytest.raises(PipelineGraphError, match="Dataset type 'same' is produced by two tasks, 'a' and 'b'"):
        two.resolve()
    # A task output may not take the name of another task's automatic dataset either.
    clash = pipeline(
        ("a", "Copy", {"source": "raw", "result": "x"}), ("b", "Copy", {"source": "x", "result": "a_log"})
    )
    with pytest.raises(PipelineGraphError, match="'a_log' is produced by two tasks"):
        clash.resolve()


def test_storage_class_mismatch() -> None:
    mismatched = pipeline(
        ("table", "Copy", {"source": "raw", "result": "shared"}),
        ("image", "ImageTask", {"source": "shared"}),
    )
    with pytest.raises(
        PipelineGraphError,
        match="Dataset type 'shared': task 'table' produces it with storage class 'ArrowTable' "
        "but task 'image' reads it as 'ExposureF'",
    ):
        mismatched.resolve()


def test_dimension_mismatch_between_producer_and_consumer_and_between_consumers() -> None:
    produced = pipeline(
        ("visit_level", "Copy", {"source": "raw", "result": "shared"}),
        ("detector_level", "PerDetector", {"source": "shared"}),
    )
    with pytest.raises(
        PipelineGraphError,
        match=r"'shared': task 'visit_level' produces it with dimensions .* but task 'detector_level' reads it with",
    ):
        produced.resolve()
    unproduced = pipeline(
        ("visit_level", "Copy", {"source": "raw", "result": "x"}),
        ("detector_level", "PerDetector", {"source": "raw"}),
    )
    with pytest.raises(PipelineGraphError, match=r"'raw': task 'detector_level' reads it with dimensions"):
        unproduced.resolve()


def test_prerequisites_and_init_datasets() -> None:
    graph = pipeline(
        (
            "maker",
            "Calibrated",
            {"schema_in": "schema_root", "result": "calibrated", "schema_out": "schema_a"},
        ),
        ("user", "Calibrated", {"schema_in": "schema_a", "result": "calibrated2", "schema_out": "schema_b"}),
    ).resolve()
    assert list(graph.tasks) == ["maker", "user"]
    assert graph.dataset_types["schema_a"].is_init and graph.dataset_types["schema_a"].producer == "maker"
    assert graph.dataset_types["flat"].is_prerequisite and graph.dataset_types["flat"].producer is None
    produced_prereq = pipeline(
        ("flats", "Copy", {"source": "raw", "result": "flat"}),
        ("user", "Calibrated", {}),
    )
    with pytest.raises(
        PipelineGraphError, match="'flat' is a prerequisite input of task 'user' but task 'flats' produces it"
    ):
        produced_prereq.resolve()
    mixed = pipeline(
        ("maker", "Calibrated", {"schema_out": "thing"}),
        ("reader", "Copy", {"source": "thing", "result": "y"}),
    )
    with pytest.raises(PipelineGraphError, match="init and regular datasets cannot be mixed"):
        mixed.resolve()


def test_components_attach_to_their_parent() -> None:
    graph = pipeline(
        ("make", "ImageTask", {"source": "raw", "result": "calexp"}),
        ("use_wcs", "Copy", {"source": "calexp.wcs", "result": "done"}),
    ).resolve()
    assert graph.upstream_tasks("use_wcs") == ["make"]
    assert graph.dataset_types["calexp"].consumers == ("use_wcs",)
    assert graph.dataset_types["calexp"].storage_class == "ExposureF"
    assert "calexp.wcs" not in graph.dataset_types
    component_output = pipeline(("bad", "Copy", {"source": "raw", "result": "calexp.wcs"}))
    with pytest.raises(PipelineGraphError, match="writes 'calexp.wcs'.*a component"):
        component_output.resolve()


def test_reading_another_tasks_metadata_orders_after_it() -> None:
    graph = pipeline(
        ("watcher", "Copy", {"source": "worker_metadata", "result": "report"}),
        ("worker", "Copy", {"source": "raw", "result": "work"}),
    )
    # worker_metadata is written with TaskMetadata; the watcher reads it as ArrowTable: a mismatch.
    with pytest.raises(
        PipelineGraphError,
        match="'worker_metadata': task 'worker' produces it with storage class 'TaskMetadata'",
    ):
        graph.resolve()


def test_to_dict_lists_tasks_in_order_with_connections() -> None:
    graph = pipeline(
        ("second", "Copy", {"source": "a", "result": "b"}),
        ("first", "Copy", {"source": "raw", "result": "a"}),
    ).resolve()
    data = graph.to_dict()
    assert [t["label"] for t in data["tasks"]] == ["first", "second"]
    second = data["tasks"][1]
    assert second["class"] == f"{HERE}.Copy"
    assert second["upstream"] == ["first"]
    assert {
        "name": "source",
        "kind": "inputs",
        "dataset_type": "a",
        "storage_class": "ArrowTable",
        "dimensions": ["instrument", "visit"],
        "multiple": False,
    } in second["connections"]
    names = [d["name"] for d in data["dataset_types"]]
    assert names == sorted(names) and {"a", "b", "raw", "first_log", "second_config"} <= set(names)
