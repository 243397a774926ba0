"""The BpmnWorkflow subclass Traceflow runs: task lookups are not cut off at depth 1000.

SpiffWorkflow walks the task tree with an iterator that stops descending at depth 1000. A rework
loop adds a few levels per pass, so after ~333 passes READY tasks become invisible: engine steps
stop running them and `is_completed()` reports a finished workflow. Here both look at every task.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

if TYPE_CHECKING:
    from uuid import UUID

    from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
    from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow, BpmnSubWorkflow
    from SpiffWorkflow.task import Task
    from SpiffWorkflow.util.task import TaskIterator

UNLIMITED_DEPTH = sys.maxsize


class TraceflowWorkflow(BpmnWorkflow):  # type: ignore[misc]  # SpiffWorkflow ships no type hints: its classes are Any
    """A BpmnWorkflow whose task iteration and completion check see the whole tree."""

    # What BpmnWorkflow's constructor sets and the engine reads, typed (annotations only).
    completed: bool
    data: dict[str, Any]
    tasks: dict[UUID, Task]
    task_tree: Task
    last_task: Task | None
    subprocesses: dict[UUID, BpmnSubWorkflow]
    subprocess_specs: dict[str, BpmnProcessSpec]

    def get_tasks_iterator(self, first_task: Task | None = None, **kwargs: Any) -> TaskIterator:
        """Iterate without SpiffWorkflow's default depth limit."""
        kwargs.setdefault("max_depth", UNLIMITED_DEPTH)
        return super().get_tasks_iterator(first_task, **kwargs)

    def is_completed(self) -> bool:
        """Completed only when no task anywhere in the tree is unfinished."""
        if not self.completed:
            self.completed = not unfinished_tasks(self)
        return self.completed


def unfinished_tasks(workflow: BpmnBaseWorkflow) -> list[Task]:
    """Every unfinished task of the workflow and its subprocesses, found without a tree walk."""
    found = [t for t in workflow.tasks.values() if t.state & TaskState.NOT_FINISHED_MASK]
    for sub in getattr(workflow, "subprocesses", {}).values():
        found.extend(t for t in sub.tasks.values() if t.state & TaskState.NOT_FINISHED_MASK)
    return found
