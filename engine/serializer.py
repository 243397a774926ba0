"""JSON serialization of specs (once per version) and of instance state (without the spec).

SpiffWorkflow's default serializer writes the whole process spec into every instance. Here the
spec is serialized once per deployed version and instances hold only their task tree and data;
on load the cached spec objects are handed back in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .workflow import TraceflowWorkflow

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
    from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

STATE_FORMAT = "traceflow-lean-1"


class LeanWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]  # SpiffWorkflow ships no type hints: its classes are Any
    """Converts a top-level workflow without its spec; restoring takes the spec as an argument."""

    def to_dict(self, workflow: TraceflowWorkflow) -> dict[str, Any]:
        """Everything BpmnWorkflowConverter writes except `spec` and `subprocess_specs`."""
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self,
        dct: dict[str, Any],
        spec: BpmnProcessSpec | None = None,
        subprocess_specs: dict[str, BpmnProcessSpec] | None = None,
    ) -> TraceflowWorkflow:
        """Rebuild the workflow around the already restored `spec` objects."""
        workflow: TraceflowWorkflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry() -> DefaultRegistry:
    config = dict(SPIFF_CONFIG)
    config[TraceflowWorkflow] = LeanWorkflowConverter
    return BpmnWorkflowSerializer.configure(config)


class SpecSerializer:
    """Serializes a process spec and its subprocess specs to one JSON document."""

    def __init__(self, registry: DefaultRegistry) -> None:
        self.registry = registry

    def dumps(self, spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]) -> str:
        """JSON text for `spec` and the mapping of called-process specs."""
        return json.dumps(
            {
                "spec": self.registry.convert(spec),
                "subprocess_specs": {k: self.registry.convert(v) for k, v in subprocess_specs.items()},
            }
        )

    def loads(self, text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
        """Return (spec, subprocess_specs) restored from `dumps` output."""
        dct = json.loads(text)
        return (
            self.registry.restore(dct["spec"]),
            {k: self.registry.restore(v) for k, v in dct["subprocess_specs"].items()},
        )


class StateSerializer:
    """Serializes instance state (task tree and data) without the spec."""

    def __init__(self, registry: DefaultRegistry) -> None:
        self.serializer = BpmnWorkflowSerializer(registry)

    def dumps(self, workflow: TraceflowWorkflow) -> str:
        """Lean JSON text of `workflow`'s state."""
        text: str = self.serializer.serialize_json(workflow)
        return text

    def loads(
        self, text: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
    ) -> TraceflowWorkflow:
        """Rebuild a workflow from lean JSON and the version's restored specs."""
        dct = json.loads(text)
        self.serializer.migrate(dct)
        workflow: TraceflowWorkflow = self.serializer.registry.restore(
            dct, spec=spec, subprocess_specs=subprocess_specs
        )
        return workflow


_REGISTRY = _registry()
spec_serializer = SpecSerializer(_REGISTRY)
state_serializer = StateSerializer(_REGISTRY)
# SpiffWorkflow's own serializer, which embeds the spec: used only by the benchmark for comparison.
full_serializer = BpmnWorkflowSerializer(
    BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, TraceflowWorkflow: BpmnWorkflowConverter})
)
