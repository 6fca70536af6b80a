"""A toy PipelineTask run through run_quantum against a real (SQLite) Butler repository."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "butler"))

from _butler_setup import make_repo

from chamberlain.butler import Butler, DeferredDatasetHandle
from chamberlain.datasets import DatasetType
from chamberlain.errors import (
    MissingDatasetTypeError,
    NoWorkFound,
    ReadOnlyError,
    TaskError,
)
from chamberlain.pipe import (
    ButlerQuantumContext,
    Input,
    Output,
    PipelineTask,
    PipelineTaskConfig,
    PipelineTaskConnections,
    PrerequisiteInput,
    Struct,
    field,
    make_quantum_refs,
    run_quantum,
)


class SumConnections(PipelineTaskConnections, dimensions=("instrument", "exposure")):
    parts = Input(
        name="toy_part",
        storage_class="StructuredDataDict",
        dimensions=("instrument", "exposure", "detector"),
        multiple=True,
        doc="One dict per detector.",
    )
    total = Output(
        name="toy_total", storage_class="StructuredDataDict", dimensions=("instrument", "exposure")
    )


class SumConfig(PipelineTaskConfig, pipeline_connections=SumConnections):
    skip_when_negative: bool = field(False, "Raise NoWorkFound when the sum is negative.")


class SumTask(PipelineTask):
    """Sums the 'value' of every detector's dict and counts them."""

    ConfigClass = SumConfig
    config: SumConfig
    default_name = "toy_sum"

    def run(self, parts: list[dict[str, Any]]) -> Struct:  # type: ignore[override]
        total = sum(p["value"] for p in parts)
        if self.config.skip_when_negative and total < 0:
            raise NoWorkFound(f"sum {total} is negative")
        return Struct(total={"sum": total, "n": len(parts)})


class PartialWriterTask(SumTask):
    """Writes its output, then fails: the output must not survive."""

    def run_quantum(self, butler_qc: Any, input_refs: Any, output_refs: Any) -> None:
        butler_qc.put(Struct(total={"sum": 0, "n": 0}), output_refs)
        raise NoWorkFound("changed my mind after writing")


@pytest.fixture
def butler(tmp_path: Path) -> Iterator[Butler]:
    """Parts for exposure 1 (detectors 0, 1, 2) and exposure 2 (detector 0, negative) in run 'inputs'."""
    b = make_repo(tmp_path / "repo")
    universe = b.registry.universe
    b.registry.register_dataset_type(
        DatasetType("toy_part", ["instrument", "exposure", "detector"], "StructuredDataDict", universe)
    )
    b.registry.register_dataset_type(
        DatasetType("toy_total", ["instrument", "exposure"], "StructuredDataDict", universe)
    )
    b.registry.register_run("inputs")
    for detector, value in [(0, 1), (1, 10), (2, 100)]:
        b.put({"value": value}, "toy_part", instrument="Cam", exposure=1, detector=detector, run="inputs")
    b.put({"value": -5}, "toy_part", instrument="Cam", exposure=2, detector=0, run="inputs")
    yield b
    b.close()


def totals(butler: Butler, run: str) -> list[Any]:
    return list(butler.query_datasets("toy_total", run, find_first=False))


def test_run_quantum_reads_and_writes_real_datasets(butler: Butler) -> None:
    context = run_quantum(
        SumTask(), butler, {"instrument": "Cam", "exposure": 1}, input_collections="inputs", output_run="out"
    )
    assert isinstance(context, ButlerQuantumContext)
    assert sorted(r.data_id["detector"] for r in context.read_refs) == [0, 1, 2]
    [written] = context.written_refs
    assert written.run == "out" and dict(written.data_id.required) == {"instrument": "Cam", "exposure": 1}
    # Read back through a fresh butler: a real file in the repository.
    with Butler(butler.config.root, collections="out") as reader:
        assert reader.get("toy_total", instrument="Cam", exposure=1) == {"sum": 111, "n": 3}
        path = Path(reader.get_uri("toy_total", instrument="Cam", exposure=1))
        assert path.is_file() and json.loads(path.read_text()) == {"sum": 111, "n": 3}
    assert [r.id for r in totals(butler, "out")] == [written.id]


def test_inputs_found_first_in_collection_order(butler: Butler) -> None:
    butler.registry.register_run("override")
    butler.put({"value": 1000}, "toy_part", instrument="Cam", exposure=1, detector=1, run="override")
    run_quantum(
        SumTask(),
        butler,
        {"instrument": "Cam", "exposure": 1},
        input_collections=["override", "inputs"],
        output_run="out",
    )
    assert butler.get("toy_total", instrument="Cam", exposure=1, collections="out") == {"sum": 1101, "n": 3}


def test_no_inputs_raises_no_work_found_and_writes_nothing(butler: Butler) -> None:
    with pytest.raises(NoWorkFound, match="toy_part"):
        run_quantum(
            SumTask(),
            butler,
            {"instrument": "Cam", "exposure": 3},
            input_collections="inputs",
            output_run="out",
        )
    assert totals(butler, "out") == []


def test_no_work_found_from_the_task_propagates_with_nothing_written(butler: Butler) -> None:
    config = SumConfig()
    config.skip_when_negative = True
    with pytest.raises(NoWorkFound, match="sum -5 is negative"):
        run_quantum(
            SumTask(config),
            butler,
            {"instrument": "Cam", "exposure": 2},
            input_collections="inputs",
            output_run="out",
        )
    assert totals(butler, "out") == []


def test_outputs_written_before_a_failure_are_rolled_back(butler: Butler) -> None:
    with pytest.raises(NoWorkFound, match="changed my mind"):
        run_quantum(
            PartialWriterTask(),
            butler,
            {"instrument": "Cam", "exposure": 1},
            input_collections="inputs",
            output_run="out",
        )
    assert totals(butler, "out") == []
    assert not list((Path(butler.config.root) / "out").rglob("*.json"))


def test_make_quantum_refs_and_context_checks(butler: Butler) -> None:
    quantum_id, inputs, outputs = make_quantum_refs(
        SumTask(), butler, {"instrument": "Cam", "exposure": 1}, input_collections="inputs", output_run="out"
    )
    assert dict(quantum_id.required) == {"instrument": "Cam", "exposure": 1}
    assert [r.data_id["detector"] for r in inputs.parts] == [0, 1, 2]
    assert outputs.total.run == "out" and outputs.total.dataset_type.name == "toy_total"
    context = ButlerQuantumContext(butler, inputs, outputs)
    assert [p["value"] for p in context.get(inputs.parts)] == [1, 10, 100]
    other = butler.find_dataset("toy_part", instrument="Cam", exposure=2, detector=0, collections="inputs")
    with pytest.raises(TaskError, match="not an input"):
        context.get(other)


def test_deferred_inputs_get_butler_handles(butler: Butler) -> None:
    class DeferredConnections(PipelineTaskConnections, dimensions=("instrument", "exposure")):
        parts = Input(
            name="toy_part", storage_class="StructuredDataDict",
            dimensions=("instrument", "exposure", "detector"), multiple=True, defer_load=True,
        )  # fmt: skip

    _, inputs, _ = make_quantum_refs(
        DeferredConnections(),
        butler,
        {"instrument": "Cam", "exposure": 1},
        input_collections="inputs",
        output_run="o",
    )
    handles = ButlerQuantumContext(butler, inputs).get(inputs)["parts"]
    assert all(isinstance(h, DeferredDatasetHandle) for h in handles)
    assert [h.get()["value"] for h in handles] == [1, 10, 100]


def test_missing_or_mismatched_dataset_types(butler: Butler) -> None:
    class Renamed(PipelineTaskConnections, dimensions=("instrument", "exposure")):
        parts = Input(
            name="toy_part",
            storage_class="StructuredDataDict",
            dimensions=("instrument", "exposure", "detector"),
            multiple=True,
        )
        total = Output(
            name="toy_new_total", storage_class="StructuredDataDict", dimensions=("instrument", "exposure")
        )

    with pytest.raises(MissingDatasetTypeError, match="toy_new_total"):
        make_quantum_refs(
            Renamed(),
            butler,
            {"instrument": "Cam", "exposure": 1},
            input_collections="inputs",
            output_run="o",
        )
    _, _, outputs = make_quantum_refs(
        Renamed(), butler, {"instrument": "Cam", "exposure": 1}, input_collections="inputs", output_run="o",
        register_dataset_types=True,
    )  # fmt: skip
    assert (
        butler.registry.get_dataset_type("toy_new_total").dimensions == outputs.total.dataset_type.dimensions
    )

    class WrongDims(PipelineTaskConnections, dimensions=("instrument", "exposure")):
        parts = Input(
            name="toy_part",
            storage_class="StructuredDataDict",
            dimensions=("instrument", "exposure"),
            multiple=True,
        )

    with pytest.raises(TaskError, match="toy_part"):
        make_quantum_refs(
            WrongDims(),
            butler,
            {"instrument": "Cam", "exposure": 1},
            input_collections="inputs",
            output_run="o",
        )


def test_read_only_butler_is_refused(butler: Butler) -> None:
    with Butler(butler.config.root) as reader, pytest.raises(ReadOnlyError, match="read-only"):
        run_quantum(
            SumTask(),
            reader,
            {"instrument": "Cam", "exposure": 1},
            input_collections="inputs",
            output_run="out",
        )


class CalibratedConnections(PipelineTaskConnections, dimensions=("instrument", "exposure", "detector")):
    bias = PrerequisiteInput(
        name="toy_bias",
        storage_class="StructuredDataDict",
        dimensions=("instrument", "detector"),
        doc="Bias.",
    )
    part = Input(
        name="toy_part", storage_class="StructuredDataDict", dimensions=("instrument", "exposure", "detector")
    )
    out = Output(
        name="toy_out", storage_class="StructuredDataDict", dimensions=("instrument", "exposure", "detector")
    )


def test_calibration_inputs_are_found_by_the_quantum_time(butler: Butler) -> None:
    """Exposures 1 and 2 are an hour apart; each gets the bias certified at its own time."""
    from _populate import DAY_SPAN, HOUR

    from chamberlain.geometry import Timespan

    reg = butler.registry
    reg.register_dataset_type(
        DatasetType(
            "toy_bias", ["instrument", "detector"], "StructuredDataDict", reg.universe, is_calibration=True
        )
    )
    for run in ("bias/early", "bias/late"):
        reg.register_run(run)
    early = butler.put({"bias": "early"}, "toy_bias", instrument="Cam", detector=0, run="bias/early")
    late = butler.put({"bias": "late"}, "toy_bias", instrument="Cam", detector=0, run="bias/late")
    reg.register_collection("calib", "CALIBRATION")
    assert DAY_SPAN.begin is not None
    switch = DAY_SPAN.begin + HOUR // 2  # exposure 1 starts at the day's start, exposure 2 an hour later
    reg.certify("calib", [early], Timespan(None, switch))
    reg.certify("calib", [late], Timespan(switch, None))
    found = {}
    for exposure in (1, 2):
        _, inputs, _ = make_quantum_refs(
            CalibratedConnections(config=None),
            butler,
            {"instrument": "Cam", "exposure": exposure, "detector": 0},
            input_collections=["inputs", "calib"],
            output_run="out",
            register_dataset_types=True,
        )
        found[exposure] = inputs["bias"]
    assert found[1] == early and found[2] == late
