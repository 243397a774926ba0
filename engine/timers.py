"""Timer events on a clock the caller controls.

SpiffWorkflow computes a duration timer's due time from the wall clock the first time it checks it
and fires a timer only when the wall clock passes it. Traceflow persists instances and wakes them
from a scheduler (or `traceflow timers run-due --now …`), so here due times are computed from the
caller's `now` and stored on the task, and firing at a given instant marks the due timers fired
before SpiffWorkflow re-checks them. Cycle timers (`R3/P1D`) likewise: their next occurrence is
computed from the caller's clock (a start date in the expression is kept) and advanced by one
interval per firing; a wake-up long overdue fires one occurrence, the next sweep the next.
"""

from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

_BASED = "traceflow_timer_based"


def waiting_timers(workflow):
    """WAITING duration, date and cycle timer tasks of the workflow and its subprocesses."""
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.tasks.values())
    return [
        t
        for t in tasks
        if t.state == TaskState.WAITING
        and isinstance(
            getattr(t.task_spec, "event_definition", None),
            (DurationTimerEventDefinition, TimeDateEventDefinition, CycleTimerEventDefinition),
        )
    ]


def _cycle(task, now):
    """The cycle timer's state {cycles left (-1: unbounded), next (ISO), duration (s)}, based on `now`
    the first time; the same structure SpiffWorkflow keeps, so its own cycle logic reads it."""
    value = task._get_internal_data("event_value")
    if value is None or not task._get_internal_data(_BASED):
        expression = task.workflow.script_engine.evaluate(task, task.task_spec.event_definition.expression)
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
        if len(expression.strip().split("/")) == 2 and expression.split("/")[1].upper().startswith("P"):
            start = now + duration  # "R3/P1D": the first occurrence one interval from now, not from the wall clock
        value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        task._set_internal_data(event_value=value, **{_BASED: True})
    return value


def _due(task, now):
    """The task's due time, computing (and storing) it from `now` the first time; None for a cycle
    timer with no occurrence left."""
    definition = task.task_spec.event_definition
    if isinstance(definition, CycleTimerEventDefinition):
        cycle = _cycle(task, now)
        return datetime.fromisoformat(cycle["next"]) if cycle["cycles"] != 0 else None
    if isinstance(definition, DurationTimerEventDefinition) and not task._get_internal_data(_BASED):
        expression = task.workflow.script_engine.evaluate(task, definition.expression)
        parsed = TimerEventDefinition.parse_iso_duration(expression)
        due = now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
        task._set_internal_data(event_value=due.isoformat(), **{_BASED: True})
    value = task._get_internal_data("event_value")
    if value is None:
        value = task.workflow.script_engine.evaluate(task, definition.expression)
        task._set_internal_data(event_value=value)
    return (
        TimerEventDefinition.parse_time_or_duration(value)
        if isinstance(definition, TimeDateEventDefinition)
        else TimerEventDefinition.get_datetime(value)
    )


def next_due(workflow, now=None):
    """The earliest due time among waiting timers (UTC), or None."""
    now = now or datetime.now(UTC)
    times = [due for due in (_due(task, now) for task in waiting_timers(workflow)) if due is not None]
    return min(times) if times else None


def fire_due(workflow, now):
    """Mark every timer due at `now` fired and let SpiffWorkflow act on it; the number fired."""
    fired, cycles = 0, []
    for task in waiting_timers(workflow):
        due = _due(task, now)
        if due is None or due > now:
            continue
        if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
            cycles.append(_fire_cycle(task, due))
        else:
            task._set_internal_data(event_fired=True)
        fired += 1
    if fired:
        workflow.refresh_timers()
        for task, following in cycles:
            value = task._get_internal_data("event_value")
            if value is not None:
                value["next"] = following.isoformat()
    return fired


def _fire_cycle(task, due):
    """Make SpiffWorkflow's wall-clock check see the occurrence as passed; (task, the occurrence after it)."""
    value = task._get_internal_data("event_value")
    value["next"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    return task, due + timedelta(seconds=value["duration"])
