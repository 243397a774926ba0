"""Moving a running instance to another version of its process (SpiffWorkflow's spec diff).

A migration is safe when nothing the instance has completed or is working on (completed, ready,
started, waiting or failed tasks) was removed or changed in the new version. Changes of a task's
connections alone (its `inputs`/`outputs`, e.g. when a task is inserted after it) do not count:
finished tasks keep their history, and ready or waiting branches are re-predicted on migration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
    from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
    from SpiffWorkflow.specs.base import TaskSpec

    from .workflow import TraceflowWorkflow

CONNECTION_KEYS = {"inputs", "outputs"}
TOUCHED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


@dataclass(frozen=True)
class MigrationCheck:
    """Whether an instance can move to a version, why not, and what differs (BPMN ids)."""

    safe: bool
    reasons: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]


def _bpmn_id(spec: TaskSpec) -> str | None:
    return getattr(spec, "bpmn_id", None)


def _significant(changes: Iterable[str]) -> list[str]:
    return sorted(set(changes) - CONNECTION_KEYS)


def check(
    registry: DefaultRegistry,
    workflow: TraceflowWorkflow,
    new_spec: BpmnProcessSpec,
    new_subprocess_specs: dict[str, BpmnProcessSpec],
) -> MigrationCheck:
    """Compare the instance with the new spec and decide whether migrating it is safe."""
    diff = SpecDiff(registry, workflow.spec, new_spec)
    removed = set(diff.removed)
    changed = {spec: _significant(keys) for spec, keys in diff.changed.items() if _significant(keys)}
    reasons: list[str] = []
    for task in workflow.tasks.values():
        if not task.state & TOUCHED or _bpmn_id(task.task_spec) is None:
            continue
        name = task.task_spec.bpmn_name or task.task_spec.bpmn_id
        if task.task_spec in removed:
            reasons.append(f"'{name}' was {TaskState.get_name(task.state).lower()} and no longer exists")
        elif task.task_spec in changed:
            reasons.append(
                f"'{name}' was {TaskState.get_name(task.state).lower()} and changed "
                f"({', '.join(changed[task.task_spec])})"
            )
    for sub in workflow.subprocesses.values():
        if not sub.completed and sub.spec.name in new_subprocess_specs:
            sub_diff = SpecDiff(registry, sub.spec, new_subprocess_specs[sub.spec.name])
            if sub_diff.removed or any(_significant(k) for k in sub_diff.changed.values()):
                reasons.append(f"called process '{sub.spec.name}' is running and changed")
    return MigrationCheck(
        safe=not reasons,
        reasons=tuple(dict.fromkeys(reasons)),
        added=tuple(sorted(filter(None, (_bpmn_id(s) for s in diff.added)))),
        removed=tuple(sorted(filter(None, (_bpmn_id(s) for s in removed)))),
        changed=tuple(sorted(filter(None, (_bpmn_id(s) for s in changed)))),
    )


def migrate(
    registry: DefaultRegistry,
    workflow: TraceflowWorkflow,
    new_spec: BpmnProcessSpec,
    new_subprocess_specs: dict[str, BpmnProcessSpec],
) -> None:
    """Re-point the workflow (and its running subprocesses) at the new specs."""
    top_diff, sub_diffs = diff_workflow(registry, workflow, new_spec, new_subprocess_specs)
    migrate_workflow(top_diff, workflow, new_spec)
    for sub_id, sub_diff in sub_diffs.items():
        if sub_diff is not None:
            sub = workflow.subprocesses[sub_id]
            migrate_workflow(sub_diff, sub, new_subprocess_specs[sub.spec.name])
    workflow.subprocess_specs = new_subprocess_specs
