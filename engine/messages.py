"""Messages and signals between instances: what a workflow threw, what it waits for, delivery.

Thrown events leave the engine as plain dicts (SpiffWorkflow's own event serialization), so the
web layer can keep them in an outbox table in the same transaction as the state that threw them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypedDict

from SpiffWorkflow.bpmn.specs.event_definitions import MessageEventDefinition, SignalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from .serializer import spec_serializer

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

    from .workflow import TraceflowWorkflow

ROUTED = (MessageEventDefinition, SignalEventDefinition)
ROUTED_NAMES = {"MessageEventDefinition", "SignalEventDefinition"}


class ThrownEvent(TypedDict):
    """A message or signal on its way between instances: its name, its kind and SpiffWorkflow's
    serialization of the event (BpmnEvent with its payload)."""

    name: str
    kind: Literal["message", "signal"]
    event: dict[str, Any]


def thrown(workflow: TraceflowWorkflow) -> list[ThrownEvent]:
    """The messages and signals the workflow threw that nothing inside it caught (drains them). An
    unnamed one (deployment warns of it) keeps the name "": nothing subscribes to that."""
    return [
        {
            "name": event.event_definition.name or "",
            "kind": "signal" if isinstance(event.event_definition, SignalEventDefinition) else "message",
            "event": spec_serializer.registry.convert(event),
        }
        for event in workflow.get_events()
        if isinstance(event.event_definition, ROUTED)
    ]


def waiting_for(workflow: TraceflowWorkflow) -> list[str]:
    """The names of the messages and signals the workflow is waiting for. An unnamed event can only
    be triggered inside its own instance, so it is not a subscription."""
    return sorted({p.name for p in workflow.waiting_events() if p.event_type in ROUTED_NAMES and p.name})


def start_names(spec: BpmnProcessSpec) -> list[str]:
    """Message/signal names that start the process (message or signal start events)."""
    return sorted(
        {
            ts.event_definition.name
            for ts in spec.task_specs.values()
            if isinstance(ts, StartEvent)
            and isinstance(getattr(ts, "event_definition", None), ROUTED)
            and ts.event_definition.name
        }
    )


def start_with(workflow: TraceflowWorkflow, message: ThrownEvent) -> int:
    """Open only the start events that catch `message` and hand it to them; the number that caught it.

    SpiffWorkflow readies every start event of a new workflow; a plain start event would run at
    once. Run the workflow's own start tasks, cancel the start events that do not catch this
    event's kind and name, then deliver it."""
    from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent as StartEventMixin
    from SpiffWorkflow.util.task import TaskState

    kind = SignalEventDefinition if message.get("kind") == "signal" else MessageEventDefinition
    while True:
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if not isinstance(t.task_spec, StartEventMixin)]
        if not ready:
            break
        for task in ready:
            task.run()
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(task.task_spec, StartEventMixin) and not (
            isinstance(definition, kind) and definition.name == message.get("name")
        ):
            task.cancel()
    return deliver(workflow, message)


def deliver(workflow: TraceflowWorkflow, message: ThrownEvent) -> int:
    """Hand a thrown event (as produced by `thrown`) to the workflow; how many tasks caught it."""
    event = spec_serializer.registry.restore(message["event"])
    caught: int = workflow.event_manager.catch(event, internal=False)
    return caught


def message_from_outside(name: str, payload: Any) -> ThrownEvent:
    """A message with `payload` thrown by no workflow (a scheduled job), in the shape `thrown` returns,
    for starting a process through its message start event (`Engine.start(..., message=...)`)."""
    from SpiffWorkflow.bpmn.util.event import BpmnEvent
    from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessage

    event = BpmnEvent(SpiffMessage(name), payload)
    return {"name": name, "kind": "message", "event": spec_serializer.registry.convert(event)}
