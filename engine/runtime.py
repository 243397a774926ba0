"""Run process instances: start, list human tasks, complete them, detect completion.

The Engine caches restored specs per deployed version (keyed by content hash) and re-attaches the
sandboxed script environment to every workflow it starts or loads, because SpiffWorkflow does not
serialize the script engine.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias
from uuid import UUID

from SpiffWorkflow.bpmn.specs.defaults import ExclusiveGateway, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from . import messages, migration, timers
from .errors import EngineError, ScriptError, TaskNotReady
from .sandbox import script_engine
from .serializer import spec_serializer, state_serializer
from .tasks import HumanTask, describe, describe_spec, is_human
from .workflow import TraceflowWorkflow, unfinished_tasks

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
    from SpiffWorkflow.task import Task

    from .messages import ThrownEvent
    from .migration import MigrationCheck
    from .operations import OperationRegistry

# A deployed version's restored specs: the process and its called processes by name.
Specs: TypeAlias = "tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]"


@dataclass(frozen=True)
class VersionRef:
    """What the engine needs of a deployed version: cache key, serialized spec, form files."""

    content_hash: str
    spec_json: str
    files: dict[str, str]  # file name → text


@dataclass(frozen=True)
class InstanceSnapshot:
    """The plain outcome of an engine step: status, data, ready human tasks, lean state and the
    time the next timer is due (None without waiting timers)."""

    status: str
    data: dict[str, Any]
    ready_tasks: tuple[HumanTask, ...]
    state_json: str
    next_timer_at: datetime | None = None
    thrown: tuple[ThrownEvent, ...] = ()
    waiting_for: tuple[str, ...] = ()


class Engine:
    """Starts, loads and advances workflows; holds a bounded cache of restored specs.

    The cache is shared by every Engine of the process: it is keyed by the content hash of the
    deployed version, and the same hash always restores the same specs (SpiffWorkflow does not
    mutate a spec while running it), so no entry can go stale."""

    _specs: ClassVar[OrderedDict[str, Specs]] = OrderedDict()
    _lock = threading.Lock()

    def __init__(
        self,
        cache_size: int = 64,
        script_globals: dict[str, Any] | None = None,
        operations: OperationRegistry | None = None,
    ) -> None:
        self._cache_size = cache_size
        self._script_globals = script_globals or {}
        self.operations = operations

    def _specs_for(self, version: VersionRef) -> Specs:
        with self._lock:
            if version.content_hash in self._specs:
                self._specs.move_to_end(version.content_hash)
                return self._specs[version.content_hash]
        specs = spec_serializer.loads(version.spec_json)
        with self._lock:
            self._specs[version.content_hash] = specs
            while len(self._specs) > self._cache_size:
                self._specs.popitem(last=False)
        return specs

    def _attach(self, workflow: TraceflowWorkflow) -> TraceflowWorkflow:
        workflow.script_engine = script_engine(self._script_globals, self.operations)
        return workflow

    def start(
        self, version: VersionRef, data: Mapping[str, Any] | None = None, message: ThrownEvent | None = None
    ) -> TraceflowWorkflow:
        """Create a workflow for `version`, seed its data and run it to the first wait state.

        With `message` (a thrown event as `messages.thrown` returns it) the workflow starts through
        the start event that catches it: every other start event is cancelled, so a process that can
        be started by hand and by a message runs only the message path. Raises EngineError when no
        start event catches the message."""
        spec, subprocess_specs = self._specs_for(version)
        workflow = self._attach(TraceflowWorkflow(spec, subprocess_specs))
        if data:
            workflow.task_tree.data.update(data)
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update(data)
        if message is not None:
            try:
                caught = messages.start_with(workflow, message)
            except SpiffWorkflowException as exc:
                raise _unwrap(exc) from exc
            if not caught:
                raise EngineError(f"no start event of {spec.name} catches {message.get('name')}")
        self._advance(workflow)
        return workflow

    def first_human_task(self, version: VersionRef) -> HumanTask | None:
        """The human task a start by hand reaches first when nothing runs before it (the process's
        one plain start event flows straight into a user or manual task), else None. Read off the
        spec: nothing runs, so a page can show the first form before any instance exists."""
        spec, _subprocesses = self._specs_for(version)
        plain = [
            t
            for t in spec.task_specs.values()
            if isinstance(t, StartEvent) and isinstance(t.event_definition, NoneEventDefinition)
        ]
        if len(plain) != 1:
            return None
        node = plain[0]
        for _ in range(10):  # through merge gateways (one way out, nothing evaluated)
            nexts = [o for o in node.outputs if type(o).__name__ != "StartEventJoin"]  # Spiff's own join
            if len(nexts) != 1:
                return None
            node = nexts[0]
            if is_human(node):
                return describe_spec(node, version.files)
            if not (isinstance(node, ExclusiveGateway) and len(node.outputs) == 1):
                return None
        return None

    def load(self, version: VersionRef, state_json: str) -> TraceflowWorkflow:
        """Restore a workflow of `version` from lean state JSON."""
        spec, subprocess_specs = self._specs_for(version)
        return self._attach(state_serializer.loads(state_json, spec, subprocess_specs))

    def dump(self, workflow: TraceflowWorkflow) -> str:
        """Lean state JSON of `workflow` (no spec inside)."""
        return state_serializer.dumps(workflow)

    def ready_human_tasks(self, workflow: TraceflowWorkflow, version: VersionRef) -> list[HumanTask]:
        """The READY user and manual tasks of `workflow`, as HumanTask values."""
        tasks = _ready_human(workflow)
        return [describe(t, version.files) for t in sorted(tasks, key=lambda t: t.last_state_change)]

    def waiting(self, workflow: TraceflowWorkflow) -> tuple[frozenset[str], frozenset[str]]:
        """The ids of the READY human tasks and the message/signal names `workflow` waits for, as it
        is now (cheap: no instructions are rendered), to compare with a snapshot after a step."""
        ready = frozenset(str(t.id) for t in _ready_human(workflow))
        return ready, frozenset(messages.waiting_for(workflow))

    def human_task(self, workflow: TraceflowWorkflow, version: VersionRef, task_id: str | UUID) -> HumanTask:
        """The READY human task `task_id` as a HumanTask; TaskNotReady when it is not ready."""
        return describe(self._ready_human_task(workflow, task_id), version.files)

    def task_data(self, workflow: TraceflowWorkflow, task_id: str | UUID) -> dict[str, Any]:
        """A copy of the data the READY human task `task_id` sees (a multi-instance task's own item
        included); TaskNotReady when it is not ready."""
        return dict(self._ready_human_task(workflow, task_id).data)

    def complete_task(self, workflow: TraceflowWorkflow, task_id: str | UUID, data: Mapping[str, Any] | None) -> None:
        """Merge `data` into the READY human task `task_id`, run it and the engine steps after it."""
        task = self._ready_human_task(workflow, task_id)
        task.data.update(data or {})
        try:
            task.run()
        except (SpiffWorkflowException, ArithmeticError, TypeError, ValueError, MemoryError) as exc:
            raise _unwrap(exc) from exc
        self._advance(workflow)

    def _ready_human_task(self, workflow: TraceflowWorkflow, task_id: str | UUID) -> Task:
        try:
            task = workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, SpiffWorkflowException, KeyError):
            task = None
        if task is None or task.state != TaskState.READY or not is_human(task.task_spec):
            raise TaskNotReady(f"task {task_id} is not ready")
        return task

    def _advance(self, workflow: TraceflowWorkflow) -> None:
        try:
            workflow.do_engine_steps()
        except (SpiffWorkflowException, ArithmeticError, TypeError, ValueError, MemoryError) as exc:
            raise _unwrap(exc) from exc
        check_consistent(workflow)

    def element_states(self, workflow: TraceflowWorkflow) -> tuple[dict[str, str], set[tuple[str, str]]]:
        """BPMN id → 'completed' | 'active' | 'waiting' | 'failed' | 'cancelled' for the diagram, and the
        (source, target) BPMN id pairs of the flows the instance has taken."""
        rank = {"completed": 1, "cancelled": 1, "waiting": 2, "active": 3, "failed": 4}
        states: dict[str, str] = {}
        pairs: set[tuple[str, str]] = set()
        tasks = list(workflow.tasks.values())
        for sub in workflow.subprocesses.values():
            tasks.extend(sub.tasks.values())
        for task in tasks:
            state = _DIAGRAM_STATE.get(task.state)
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if state is None or bpmn_id is None:
                continue
            if rank[state] >= rank.get(states.get(bpmn_id, ""), 0):
                states[bpmn_id] = state
            parent = task.parent
            while parent is not None and getattr(parent.task_spec, "bpmn_id", None) is None:
                parent = parent.parent
            if parent is not None and parent.state == TaskState.COMPLETED:
                pairs.add((parent.task_spec.bpmn_id, bpmn_id))
        return states, pairs

    def migration_check(self, workflow: TraceflowWorkflow, new_version: VersionRef) -> MigrationCheck:
        """Whether `workflow` can safely move to `new_version` (a MigrationCheck)."""
        spec, subprocess_specs = self._specs_for(new_version)
        return migration.check(spec_serializer.registry, workflow, spec, subprocess_specs)

    def migrate(self, workflow: TraceflowWorkflow, new_version: VersionRef) -> None:
        """Move `workflow` to `new_version`'s specs and run the engine steps that follow."""
        spec, subprocess_specs = self._specs_for(new_version)
        migration.migrate(spec_serializer.registry, workflow, spec, subprocess_specs)
        self._advance(workflow)

    def status(self, workflow: TraceflowWorkflow) -> str:
        """'completed' or 'running'."""
        return "completed" if workflow.is_completed() else "running"

    def data(self, workflow: TraceflowWorkflow) -> dict[str, Any]:
        """The instance's current data: final data when completed, else the latest completed task's."""
        if workflow.is_completed():
            return dict(workflow.data)
        last = workflow.last_task
        return dict(last.data) if last is not None else dict(workflow.task_tree.data)

    def snapshot(
        self, workflow: TraceflowWorkflow, version: VersionRef, now: datetime | None = None
    ) -> InstanceSnapshot:
        """Status, data, ready tasks, next timer and lean state of `workflow`, as plain values."""
        next_timer_at = timers.next_due(workflow, now)
        thrown = tuple(messages.thrown(workflow))
        return InstanceSnapshot(
            status=self.status(workflow),
            data=self.data(workflow),
            ready_tasks=tuple(self.ready_human_tasks(workflow, version)),
            state_json=self.dump(workflow),
            next_timer_at=next_timer_at,
            thrown=thrown,
            waiting_for=tuple(messages.waiting_for(workflow)),
        )

    def deliver(self, workflow: TraceflowWorkflow, message: ThrownEvent) -> int:
        """Deliver a thrown message or signal and run the steps it triggers; how many tasks caught it."""
        caught = messages.deliver(workflow, message)
        if caught:
            self._advance(workflow)
        return caught

    def fire_timers(self, workflow: TraceflowWorkflow, now: datetime) -> int:
        """Fire the timers due at `now` and run the engine steps that follow; the number fired."""
        fired = timers.fire_due(workflow, now)
        if fired:
            self._advance(workflow)
        return fired


def _ready_human(workflow: TraceflowWorkflow) -> list[Any]:
    tasks = [t for t in workflow.tasks.values() if t.state == TaskState.READY and is_human(t.task_spec)]
    for sub in workflow.subprocesses.values():
        tasks.extend(t for t in sub.tasks.values() if t.state == TaskState.READY and is_human(t.task_spec))
    return tasks


def _unwrap(exc: Exception) -> EngineError:
    """SpiffWorkflow wraps errors raised in tasks; a service operation's error is kept as it is, any
    other becomes a ScriptError naming the element, the line and the error."""
    cause = exc if isinstance(exc, EngineError) else (exc.__cause__ or exc.__context__)
    while cause is not None and not isinstance(cause, EngineError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None and not isinstance(cause, ScriptError):
        return cause
    task = getattr(exc, "task", None)
    element = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
    line = getattr(exc, "line_number", None) or None
    if cause is not None:  # a sandbox refusal: keep its message, add where it happened
        cause.script, cause.line = cause.script or element, cause.line or line
        return cause
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    where = f" in {element}" + (f", line {line}" if line else "") if element else ""
    source_line = getattr(exc, "error_line", None) or None
    return ScriptError(f"script error{where}: {message}", element, line, getattr(exc, "error_type", None), source_line)


_DIAGRAM_STATE = {
    TaskState.COMPLETED: "completed",
    TaskState.READY: "active",
    TaskState.STARTED: "active",
    TaskState.WAITING: "waiting",
    TaskState.ERROR: "failed",
    TaskState.CANCELLED: "cancelled",
}


def check_consistent(workflow: TraceflowWorkflow) -> None:
    """Raise EngineError when SpiffWorkflow says completed while any task is still unfinished."""
    if workflow.completed or workflow.is_completed():
        pending = [
            t for t in unfinished_tasks(workflow) if t.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED)
        ]
        if pending:
            names = ", ".join(sorted({t.task_spec.name for t in pending}))
            raise EngineError(f"workflow reported completed while tasks are still pending: {names}")
