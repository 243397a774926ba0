"""The BpmnWorkflow subclass Traceflow runs: task lookups are not cut off at depth 1000.

SpiffWorkflow walks the task tree with an iterator that stops descending at depth 1000. A rework
loop adds a few levels per pass, so after ~333 passes READY tasks become invisible: engine steps
stop running them and `is_completed()` reports a finished workflow. Here both look at every task.
"""

import sys

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

UNLIMITED_DEPTH = sys.maxsize


class TraceflowWorkflow(BpmnWorkflow):
    """A BpmnWorkflow whose task iteration and completion check see the whole tree."""

    def get_tasks_iterator(self, first_task=None, **kwargs):
        """Iterate without SpiffWorkflow's default depth limit."""
        kwargs.setdefault("max_depth", UNLIMITED_DEPTH)
        return super().get_tasks_iterator(first_task, **kwargs)

    def is_completed(self):
        """Completed only when no task anywhere in the tree is unfinished."""
        if not self.completed:
            self.completed = not unfinished_tasks(self)
        return self.completed


def unfinished_tasks(workflow):
    """Every unfinished task of the workflow and its subprocesses, found without a tree walk."""
    found = [t for t in workflow.tasks.values() if t.state & TaskState.NOT_FINISHED_MASK]
    for sub in getattr(workflow, "subprocesses", {}).values():
        found.extend(t for t in sub.tasks.values() if t.state & TaskState.NOT_FINISHED_MASK)
    return found
