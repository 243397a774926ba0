"""Messages and signals between instances: what a workflow threw, what it waits for, delivery.

Thrown events leave the engine as plain dicts (SpiffWorkflow's own event serialization), so the
web layer can keep them in an outbox table in the same transaction as the state that threw them.
"""
from SpiffWorkflow.bpmn.specs.event_definitions import MessageEventDefinition, SignalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from .serializer import spec_serializer

ROUTED = (MessageEventDefinition, SignalEventDefinition)
ROUTED_NAMES = {"MessageEventDefinition", "SignalEventDefinition"}


def thrown(workflow):
    """The messages and signals the workflow threw that nothing inside it caught (drains them)."""
    return [{"name": event.event_definition.name,
             "kind": "signal" if isinstance(event.event_definition, SignalEventDefinition) else "message",
             "event": spec_serializer.registry.convert(event)}
            for event in workflow.get_events() if isinstance(event.event_definition, ROUTED)]


def waiting_for(workflow):
    """The names of the messages and signals the workflow is waiting for."""
    return sorted({p.name for p in workflow.waiting_events() if p.event_type in ROUTED_NAMES})


def start_names(spec):
    """Message/signal names that start the process (message or signal start events)."""
    return sorted({ts.event_definition.name for ts in spec.task_specs.values()
                   if isinstance(ts, StartEvent) and isinstance(getattr(ts, "event_definition", None), ROUTED)})


def deliver(workflow, message):
    """Hand a thrown event (as produced by `thrown`) to the workflow; how many tasks caught it."""
    event = spec_serializer.registry.restore(message["event"])
    return workflow.event_manager.catch(event, internal=False)
