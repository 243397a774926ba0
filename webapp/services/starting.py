"""Starting a process with its first form: the instance is created by the first submit, not before.

A person starting change control, a complaint or a recall by hand meets the first task's form at
once; `first_form` reads it off the process spec (nothing runs, nothing is stored), so an abandoned
start leaves nothing behind. `start_with_first_task` then starts the instance and completes that
task in one transaction: invalid data (every field error at once) or a failing step creates no
instance and spends no business-key number. Processes whose start runs something before the first
task, or whose first task is signed or is not the starter's, start as before (an instance first).
"""

from dataclasses import dataclass
from typing import Any

from engine import EngineError, HumanTask

from ..errors import InvalidInput
from . import queries, record_choices, tasks
from .deployments import latest_version, version_ref
from .driver import Outcome, failure, run_after_commit
from .engine_access import engine
from .instances import may_start, start_instance
from .uow import transaction


@dataclass(frozen=True)
class FirstForm:
    """The first task a start by hand leads to: its description and form."""

    process_key: str
    task: HumanTask

    @property
    def form(self) -> dict[str, Any]:
        """The form as the task page serves it: record fields list the records valid now."""
        form = self.task.form or {"schema": {}, "ui_schema": {}}
        return {**form, "schema": record_choices.fill(form["schema"])}


def first_form(actor: Any, process_key: str) -> FirstForm | None:
    """The first form of a start by `actor`, or None when the process must start first (something
    runs before its first task, the task is signed, or it belongs to a role `actor` does not hold)."""
    version = latest_version(process_key)
    if version.status != "active" or not may_start(actor, version):
        return None
    task = engine().first_human_task(version_ref(version))
    if task is None or any(k.startswith("signature") for k in task.properties):
        return None
    if task.role is not None and task.role not in actor.role_names:
        return None
    if task.properties.get("assignTo"):  # assigned by the process to someone, maybe not the starter
        return None
    return FirstForm(process_key, task)


def start_with_first_task(actor: Any, process_key: str, data: dict[str, Any]) -> Any:
    """Start `process_key` and complete its first task with `data`, in one transaction; the instance."""
    first = first_form(actor, process_key)
    if first is None:
        raise InvalidInput(f"{process_key} starts without a first form", {"process_key": "starts without a form"})
    try:
        with transaction():
            instance = start_instance(actor, process_key)
            row = next(
                (
                    r
                    for r in queries.open_tasks(actor, process_instance_id=instance.id)
                    if r.bpmn_id == first.task.bpmn_id
                ),
                None,
            )
            if row is None:  # the first task went elsewhere after all (e.g. a package changed it)
                raise InvalidInput("the first task is not yours to complete", {"_form": "not yours"})
            instance = tasks.complete_task(actor, row.task_id, data)
    except EngineError as exc:  # nested drives leave the failure to the outermost unit: this one
        raise failure(actor, None, None, exc, data) from exc
    run_after_commit(Outcome(instance, True, True))  # messages the first step threw
    return instance
