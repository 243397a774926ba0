"""Timer events on a clock the caller controls.

SpiffWorkflow computes a duration timer's due time from the wall clock the first time it checks it
and fires a timer only when the wall clock passes it. Traceflow persists instances and wakes them
from a scheduler (or `traceflow timers run-due --now …`), so here due times are computed from the
caller's `now` and stored on the task, and firing at a given instant marks the due timers fired
before SpiffWorkflow re-checks them. Cycle timers (`R3/P1D`) likewise: their next occurrence is
computed from the caller's clock (a start date in the expression is kept) and advanced by one
interval per firing; a wake-up long overdue fires one occurrence, the next sweep the next.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task

    from .workflow import TraceflowWorkflow

_BASED = "traceflow_timer_based"


class CycleValue(TypedDict):
    """A cycle timer's state as SpiffWorkflow keeps it in the task's internal data."""

    cycles: int  # occurrences left, -1: unbounded
    next: str  # ISO date-time of the next occurrence
    duration: float  # seconds between occurrences


def waiting_timers(workflow: TraceflowWorkflow) -> list[Task]:
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


def _cycle(task: Task, now: datetime) -> CycleValue:
    """The cycle timer's state {cycles left (-1: unbounded), next (ISO), duration (s)}, based on `now`
    the first time; the same structure SpiffWorkflow keeps, so its own cycle logic reads it."""
    value: CycleValue | None = task._get_internal_data("event_value")
    if value is None or not task._get_internal_data(_BASED):
        expression = task.workflow.script_engine.evaluate(task, task.task_spec.event_definition.expression)
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
        if len(expression.strip().split("/")) == 2 and expression.split("/")[1].upper().startswith("P"):
            start = now + duration  # "R3/P1D": the first occurrence one interval from now, not from the wall clock
        value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        task._set_internal_data(event_value=value, **{_BASED: True})
    return value


def _due(task: Task, now: datetime) -> datetime | None:
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
    due_at: datetime = (
        TimerEventDefinition.parse_time_or_duration(value)
        if isinstance(definition, TimeDateEventDefinition)
        else TimerEventDefinition.get_datetime(value)
    )
    return due_at


def next_due(workflow: TraceflowWorkflow, now: datetime | None = None) -> datetime | None:
    """The earliest due time among waiting timers (UTC), or None."""
    now = now or datetime.now(UTC)
    times = [due for due in (_due(task, now) for task in waiting_timers(workflow)) if due is not None]
    return min(times) if times else None


def fire_due(workflow: TraceflowWorkflow, now: datetime) -> int:
    """Mark every timer due at `now` fired and let SpiffWorkflow act on it; the number fired."""
    fired = 0
    cycles: list[tuple[Task, datetime]] = []
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


def _fire_cycle(task: Task, due: datetime) -> tuple[Task, datetime]:
    """Make SpiffWorkflow's wall-clock check see the occurrence as passed; (task, the occurrence after it)."""
    value = task._get_internal_data("event_value")
    value["next"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    return task, due + timedelta(seconds=value["duration"])
