"""Tests for connections, PipelineTask.run_quantum and the in-memory QuantumContext."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import pytest

from chamberlain.errors import (
    ConflictingDefinitionError,
    DatasetNotFoundError,
    NoWorkFound,
    TaskError,
)
from chamberlain.pipe import (
    DeferredRef,
    InitOutput,
    InMemoryDeferredHandle,
    InMemoryQuantumContext,
    Input,
    InputRefs,
    Output,
    OutputRefs,
    PipelineTask,
    PipelineTaskConfig,
    PipelineTaskConnections,
    PrerequisiteInput,
    Struct,
    field,
)


@dataclass(frozen=True)
class Ref:
    """A stand-in for a DatasetRef: dataset type name and data ID."""

    dataset_type: str
    data_id: tuple[tuple[str, int], ...]


class SumConnections(
    PipelineTaskConnections,
    dimensions=("instrument", "visit"),
    default_templates={"prefix": "calexp"},
):
    images = Input(
        name="{prefix}_image",
        storage_class="NumberList",
        dimensions=("instrument", "visit", "detector"),
        multiple=True,
        doc="Per-detector values.",
    )
    scale = PrerequisiteInput(
        name="scale", storage_class="Number", dimensions=("instrument",), is_calibration=True
    )
    extra = Input(
        name="extra", storage_class="Number", dimensions=("instrument",), minimum=0, defer_load=True
    )
    total = Output(name="{prefix}_total", storage_class="Number", dimensions=("instrument", "visit"))
    parts = Output(
        name="parts", storage_class="Number", dimensions=("instrument", "visit", "detector"), multiple=True
    )
    sum_schema = InitOutput(name="sum_schema", storage_class="Schema")


class SumConfig(PipelineTaskConfig, pipeline_connections=SumConnections):
    raise_no_work: bool = field(False, "Raise NoWorkFound from run.")


class SumTask(PipelineTask):
    ConfigClass = SumConfig
    default_name = "sum"

    def run(self, images: list[float], scale: float, extra: InMemoryDeferredHandle | None = None) -> Struct:
        if self.config.raise_no_work:
            raise NoWorkFound("nothing to sum")
        added = extra.get() if extra is not None else 0.0
        return Struct(total=scale * sum(images) + added, parts=[scale * v for v in images])


def _refs(n: int, conn: SumConnections, with_extra: bool = False) -> tuple[InputRefs, OutputRefs, dict]:
    images = [Ref("calexp_image", (("visit", 1), ("detector", d))) for d in range(n)]
    scale = Ref("scale", ())
    extra = Ref("extra", ())
    store: dict = {ref: float(i + 1) for i, ref in enumerate(images)}
    store[scale] = 10.0
    store[extra] = 0.5
    inputs = {"images": images, "scale": scale}
    if with_extra:
        inputs["extra"] = extra
    outputs = {
        "total": Ref("calexp_total", (("visit", 1),)),
        "parts": [Ref("parts", (("visit", 1), ("detector", d))) for d in range(n)],
    }
    input_refs, output_refs = conn.make_quantum_refs(inputs, outputs)
    return input_refs, output_refs, store


def test_connection_declarations() -> None:
    assert SumConnections.images.name == "{prefix}_image"  # class access: the declaration
    conn = SumConnections(config=SumConfig())
    assert conn.images.name == "calexp_image"
    assert conn.total.name == "calexp_total"
    assert conn.images.dimensions == ("instrument", "visit", "detector")
    assert conn.dimensions == {"instrument", "visit"}
    assert conn.inputs == {"images", "extra"}
    assert conn.prerequisite_inputs == {"scale"}
    assert conn.outputs == {"total", "parts"}
    assert conn.init_outputs == {"sum_schema"}
    with pytest.raises(FrozenInstanceError):
        conn.images.name = "x"  # type: ignore[misc]
    with pytest.raises(TaskError, match="frozen after construction"):
        conn.dimensions = {"visit"}


def test_connection_names_from_config() -> None:
    config = SumConfig()
    assert config.connections.images == "{prefix}_image"
    config.connections.prefix = "pvi"
    config.connections.total = "grand_total"
    conn = SumConnections(config=config)
    assert conn.images.name == "pvi_image"
    assert conn.total.name == "grand_total"


def test_connection_removal_in_init() -> None:
    class Optional(SumConnections):
        def __init__(self, *, config: SumConfig | None = None) -> None:
            super().__init__(config=config)
            del self.extra
            self.outputs.discard("parts")

    conn = Optional(config=SumConfig())
    assert conn.inputs == {"images"}
    assert conn.outputs == {"total"}
    with pytest.raises(AttributeError, match="'extra' was removed"):
        conn.extra  # noqa: B018
    assert set(conn.all_connections()) == {"images", "scale", "total", "sum_schema"}
    with pytest.raises(TaskError, match="frozen"):
        del conn.images


def test_connection_definition_errors() -> None:
    with pytest.raises(TaskError, match=r"uses template\(s\) \['missing'\]"):

        class Bad(PipelineTaskConnections, dimensions=()):
            x = Input(name="{missing}_x", storage_class="N")

    with pytest.raises(TaskError, match="not the string 'visit'"):

        class BadDims(PipelineTaskConnections, dimensions="visit"):  # type: ignore[arg-type]
            pass

    with pytest.raises(TaskError, match="not the string 'visit'"):
        Input(name="x", storage_class="N", dimensions="visit")  # type: ignore[arg-type]
    with pytest.raises(TaskError, match="minimum=2 but multiple=False"):
        Input(name="x", storage_class="N", minimum=2)
    with pytest.raises(TaskError, match="needs a config whose 'connections' field has the fields"):
        SumConnections(config=PipelineTaskConfig())


def test_run_quantum_reads_and_writes() -> None:
    task = SumTask()
    conn = task.get_connections()
    input_refs, output_refs, store = _refs(3, conn, with_extra=True)
    assert isinstance(input_refs.extra, DeferredRef)
    qc = InMemoryQuantumContext(store, input_refs=input_refs, output_refs=output_refs)
    task.run_quantum(qc, input_refs, output_refs)
    assert store[output_refs.total] == 10.0 * (1 + 2 + 3) + 0.5
    assert [store[r] for r in output_refs.parts] == [10.0, 20.0, 30.0]
    assert set(qc.written_refs) == {output_refs.total, *output_refs.parts}
    assert set(qc.read_refs) == set(input_refs.all_refs())


def test_optional_input_absent() -> None:
    task = SumTask()
    input_refs, output_refs, store = _refs(2, task.get_connections())
    assert input_refs.extra is None
    task.run_quantum(InMemoryQuantumContext(store), input_refs, output_refs)
    assert store[output_refs.total] == 30.0


def test_no_work_found_propagates() -> None:
    config = SumConfig()
    config.raise_no_work = True
    task = SumTask(config=config)
    input_refs, output_refs, store = _refs(2, task.get_connections())
    before = dict(store)
    with pytest.raises(NoWorkFound, match="nothing to sum"):
        task.run_quantum(InMemoryQuantumContext(store), input_refs, output_refs)
    assert store == before  # nothing written


def test_make_quantum_refs_rules() -> None:
    conn = SumConnections(config=SumConfig())
    scale = Ref("scale", ())
    with pytest.raises(NoWorkFound, match=r"'images' \(calexp_image\) has 0 dataset\(s\); at least 1"):
        conn.make_quantum_refs({"images": [], "scale": scale}, {})
    with pytest.raises(DatasetNotFoundError, match=r"'scale' \(scale\) has 0 dataset"):
        conn.make_quantum_refs({"images": [Ref("calexp_image", ())]}, {})
    with pytest.raises(TaskError, match=r"'scale' .* is not multiple but has 2 refs"):
        conn.make_quantum_refs({"images": [Ref("calexp_image", ())], "scale": [scale, scale]}, {})
    with pytest.raises(TaskError, match=r"Unknown input connection\(s\) \['bogus'\]"):
        conn.make_quantum_refs({"bogus": scale}, {})


def test_quantum_context_checks() -> None:
    task = SumTask()
    input_refs, output_refs, store = _refs(2, task.get_connections())
    qc = InMemoryQuantumContext(store, input_refs=input_refs, output_refs=output_refs)
    stranger = Ref("other", ())
    store[stranger] = 1.0
    with pytest.raises(TaskError, match=r"Ref .*'other'.* is not an input of this quantum"):
        qc.get(stranger)
    assert qc.get(None) is None
    assert qc.get(input_refs.images) == [1.0, 2.0]
    with pytest.raises(TaskError, match="output 'parts' has 2 refs but the value has 1 items"):
        qc.put(Struct(parts=[1.0]), output_refs)
    with pytest.raises(TaskError, match="needs a Struct"):
        qc.put({"total": 1.0}, output_refs)
    with pytest.raises(TaskError, match="is not an output of this quantum"):
        qc.put(1.0, stranger)
    qc.put(Struct(total=1.0, ignored=5), output_refs)  # None/missing parts: not written
    assert qc.written_refs == [output_refs.total]
    with pytest.raises(ConflictingDefinitionError, match="already exists"):
        qc.put(Struct(total=2.0), output_refs)
    unchecked = InMemoryQuantumContext({})
    with pytest.raises(DatasetNotFoundError, match="No dataset for ref"):
        unchecked.get(stranger)


def test_run_must_return_struct() -> None:
    class Bad(SumTask):
        def run(self, **kwargs: object) -> Struct:
            return {"total": 1}  # type: ignore[return-value]

    task = Bad()
    input_refs, output_refs, store = _refs(1, task.get_connections())
    with pytest.raises(TaskError, match="must return a Struct, not dict"):
        task.run_quantum(InMemoryQuantumContext(store), input_refs, output_refs)


def test_pipeline_config_save_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = SumConfig()
    config.connections.prefix = "pvi"
    config.save_log_output = False
    path = tmp_path / "sum.py"
    config.save(path)
    loaded = SumConfig()
    loaded.load(path)
    assert loaded == config
    assert "config.connections.prefix = 'pvi'" in path.read_text()


def test_pipeline_task_pickles() -> None:
    import pickle

    config = SumConfig()
    config.connections.prefix = "pvi"
    task = SumTask(config=config, name="label", init_inputs={"a": 1})
    clone = pickle.loads(pickle.dumps(task))
    assert clone.get_full_name() == "label"
    assert clone.config == config
    assert clone.init_inputs == {"a": 1}
    assert clone.get_connections().images.name == "pvi_image"
