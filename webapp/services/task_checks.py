"""Checks a process package adds to one of its task forms, beyond what JSON Schema can say.

A form's schema checks each field on its own; some rules need the records (a lot must belong to the
product, a serial must have been shipped) or the time (an awareness date not in the future, a report
completed after its deadline needs a reason). A process package names such checks per task
(`ProcessPackage.task_checks`, {bpmn_id: check}); create_app registers them here by process key, and
task completion runs them with the schema's own validation, inside the completion's transaction and
before anything is written, so every field error is reported at once and nothing changes.

A check is `check(submitted, task_data, instance) -> {field path: message}`: `submitted` the data
being submitted (possibly invalid per the schema: a check must tolerate missing or mistyped values),
`task_data` what the task sees (a multi-instance task's item included), `instance` the instance row.
Messages are catalogue msgids (the task page translates them)."""

from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app

Check = Callable[[Mapping[str, Any], Mapping[str, Any], Any], dict[str, str]]
_KEY = "traceflow_task_checks"


def register(app, process_key: str, checks: Mapping[str, Check]) -> None:
    """Register `checks` ({bpmn_id: check}) of process `process_key` on `app`."""
    registry = app.extensions.setdefault(_KEY, {})
    for bpmn_id, check in checks.items():
        registry[(process_key, bpmn_id)] = check


def errors(instance, bpmn_id: str, submitted, task_data) -> dict[str, str]:
    """The field errors the registered check of `bpmn_id` in `instance`'s process finds (empty: none)."""
    check = current_app.extensions.get(_KEY, {}).get((instance.version.key, bpmn_id))
    if check is None or not isinstance(submitted, dict):
        return {}
    return dict(check(submitted, task_data, instance) or {})
