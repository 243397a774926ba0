"""Timer events on a clock the caller controls.

SpiffWorkflow computes a duration timer's due time from the wall clock the first time it checks it
and fires a timer only when the wall clock passes it. Traceflow persists instances and wakes them
from a scheduler (or `traceflow timers run-due --now …`), so here due times are computed from the
caller's `now` and stored on the task, and firing at a given instant marks the due timers fired
before SpiffWorkflow re-checks them. Cycle timers keep SpiffWorkflow's own behaviour.
"""
from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (DurationTimerEventDefinition,
                                                              TimeDateEventDefinition, TimerEventDefinition)
from SpiffWorkflow.util.task import TaskState

_BASED = "traceflow_timer_based"


def waiting_timers(workflow):
    """WAITING duration and date timer tasks of the workflow and its subprocesses."""
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.tasks.values())
    return [t for t in tasks if t.state == TaskState.WAITING and isinstance(
        getattr(t.task_spec, "event_definition", None), (DurationTimerEventDefinition, TimeDateEventDefinition))]


def _due(task, now):
    """The task's due time, computing (and storing) it from `now` the first time."""
    definition = task.task_spec.event_definition
    if isinstance(definition, DurationTimerEventDefinition) and not task._get_internal_data(_BASED):
        expression = task.workflow.script_engine.evaluate(task, definition.expression)
        parsed = TimerEventDefinition.parse_iso_duration(expression)
        due = now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
        task._set_internal_data(event_value=due.isoformat(), **{_BASED: True})
    value = task._get_internal_data("event_value")
    if value is None:
        value = task.workflow.script_engine.evaluate(task, definition.expression)
        task._set_internal_data(event_value=value)
    return TimerEventDefinition.parse_time_or_duration(value) if isinstance(definition, TimeDateEventDefinition) \
        else TimerEventDefinition.get_datetime(value)


def next_due(workflow, now=None):
    """The earliest due time among waiting timers (UTC), or None."""
    now = now or datetime.now(timezone.utc)
    times = [_due(task, now) for task in waiting_timers(workflow)]
    return min(times) if times else None


def fire_due(workflow, now):
    """Mark every timer due at `now` fired and let SpiffWorkflow act on it; the number fired."""
    fired = 0
    for task in waiting_timers(workflow):
        if _due(task, now) <= now:
            task._set_internal_data(event_fired=True)
            fired += 1
    if fired:
        workflow.refresh_timers()
    return fired
