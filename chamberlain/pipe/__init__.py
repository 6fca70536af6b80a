"""The task framework: `Task`, `Config`, `Struct`, `PipelineTask`, connections, pipelines, and quantum execution.

`run_quantum`, `make_quantum_refs` and `ButlerQuantumContext` run a quantum
against a `~chamberlain.butler.Butler`.
"""

from __future__ import annotations

from . import connection_types
from ._execution import ButlerQuantumContext, make_quantum_refs, run_quantum
from .config import Config, HistoryEntry, choice_field, config_field, field, range_field
from .configurable import (
    ConfigurableField,
    ConfigurableRegistry,
    RegistryField,
    configurable_field,
    import_object,
    import_path,
    register_configurable,
)
from .connection_types import InitInput, InitOutput, Input, Output, PrerequisiteInput
from .connections import PipelineTaskConnections
from .metadata import TaskMetadata, TaskMetadataError
from .pipeline import Pipeline, find_pipeline, shipped_pipelines
from .pipeline_file import PipelineError, PipelineGraphError
from .pipeline_graph import PipelineGraph
from .pipeline_task import PipelineTask, PipelineTaskConfig
from .quantum_context import (
    ExecutionResources,
    InMemoryDeferredHandle,
    InMemoryQuantumContext,
    QuantumContext,
)
from .refs import DeferredRef, InputRefs, OutputRefs, QuantizedConnection
from .struct import Struct
from .task import Task
from .timing import time_method

__all__ = [
    "ButlerQuantumContext",
    "Config",
    "ConfigurableField",
    "DeferredRef",
    "ExecutionResources",
    "HistoryEntry",
    "InMemoryDeferredHandle",
    "InMemoryQuantumContext",
    "InitInput",
    "InitOutput",
    "Input",
    "InputRefs",
    "Output",
    "OutputRefs",
    "Pipeline",
    "PipelineError",
    "PipelineGraph",
    "PipelineGraphError",
    "PipelineTask",
    "PipelineTaskConfig",
    "PipelineTaskConnections",
    "PrerequisiteInput",
    "QuantizedConnection",
    "QuantumContext",
    "ConfigurableRegistry",
    "RegistryField",
    "Struct",
    "Task",
    "TaskMetadata",
    "TaskMetadataError",
    "choice_field",
    "config_field",
    "configurable_field",
    "connection_types",
    "field",
    "find_pipeline",
    "import_object",
    "import_path",
    "make_quantum_refs",
    "range_field",
    "register_configurable",
    "run_quantum",
    "shipped_pipelines",
    "time_method",
]
