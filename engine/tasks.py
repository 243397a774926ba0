"""What a human task looks like to the rest of Traceflow: a frozen, plain description."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from SpiffWorkflow.bpmn.specs.mixins import ManualTaskMixin
from SpiffWorkflow.spiff.specs.defaults import UserTask

from .roles import lane_to_role

if TYPE_CHECKING:
    from SpiffWorkflow.specs.base import TaskSpec
    from SpiffWorkflow.task import Task

_JINJA = ImmutableSandboxedEnvironment(autoescape=False)


@dataclass(frozen=True)
class HumanTask:
    """A READY user or manual task, with everything the inbox and the form page need."""

    id: str
    bpmn_id: str
    title: str
    type: str
    lane: str | None
    role: str | None
    instructions: str
    form: dict[str, Any] | None = field(default=None, repr=False)  # {"schema": …, "ui_schema": …}
    due_in_days: int | None = None
    properties: dict[str, str] = field(default_factory=dict, repr=False)
    assign_to: str | None = None  # username the process assigns the task to (`assignTo`)
    due_date: date | None = None  # explicit due date (`dueDate`), wins over due_in_days
    escalate_to: str | None = None  # role told as well when the task is overdue (`escalateTo`)


def is_human(task_spec: TaskSpec) -> bool:
    """True for user and manual tasks, the ones a person completes."""
    return isinstance(task_spec, (UserTask, ManualTaskMixin))


@lru_cache(maxsize=1024)
def _template(text: str) -> Template:
    return _JINJA.from_string(text)


def render_instructions(text: str | None, data: Mapping[str, Any]) -> str:
    """Render instructionsForEndUser (Jinja, sandboxed) against task data; raw text on any error."""
    if not text:
        return ""
    try:
        return _template(text).render(**data)
    except (TemplateError, TypeError, ValueError, AttributeError, KeyError):
        return text


@lru_cache(maxsize=1024)
def _parsed(text: str) -> Any:
    return json.loads(text)


def _form(properties: Mapping[str, str], files: Mapping[str, str]) -> dict[str, Any] | None:
    """The task's form; parsed JSON is cached by text and deep-copied so callers may change it."""
    schema_name = properties.get("formJsonSchemaFilename")
    if not schema_name or schema_name not in files:
        return None
    ui_name = properties.get("formUiSchemaFilename")
    return copy.deepcopy(
        {
            "schema": _parsed(files[schema_name]),
            "ui_schema": _parsed(files[ui_name]) if ui_name is not None and ui_name in files else {},
        }
    )


def _rendered(properties: Mapping[str, str], name: str, data: Mapping[str, Any]) -> str | None:
    """A property's value with Jinja (`{{ owner }}`) rendered against the task data; None when empty
    or when the template cannot be rendered (a missing variable leaves the property unset)."""
    value = properties.get(name)
    if not value:
        return None
    value = str(value)
    if "{" in value:
        try:
            value = _template(value).render(**data)
        except (TemplateError, TypeError, ValueError, AttributeError, KeyError):
            return None
    return value.strip() or None


def _due_days(properties: Mapping[str, str], data: Mapping[str, Any]) -> int | None:
    value = _rendered(properties, "dueInDays", data)
    return int(value) if value and value.isdigit() else None


def _due_date(properties: Mapping[str, str], data: Mapping[str, Any]) -> date | None:
    value = _rendered(properties, "dueDate", data)
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def describe_spec(spec: TaskSpec, files: Mapping[str, str]) -> HumanTask:
    """A HumanTask for a task spec not yet reached (no task, no data): what its form will ask."""
    extensions = getattr(spec, "extensions", None) or {}
    properties = dict(extensions.get("properties") or {})
    return HumanTask(
        id="",
        bpmn_id=spec.bpmn_id,
        title=spec.bpmn_name or spec.bpmn_id,
        type="userTask" if isinstance(spec, UserTask) else "manualTask",
        lane=spec.lane,
        role=lane_to_role(spec.lane),
        instructions=render_instructions(extensions.get("instructionsForEndUser"), {}),
        form=_form(properties, files),
        properties=properties,
    )


def describe(task: Task, files: Mapping[str, str]) -> HumanTask:
    """A HumanTask for the SpiffWorkflow `task`; `files` maps form file names to their text."""
    spec = task.task_spec
    extensions = getattr(spec, "extensions", None) or {}
    properties = dict(extensions.get("properties") or {})
    return HumanTask(
        id=str(task.id),
        bpmn_id=spec.bpmn_id,
        title=spec.bpmn_name or spec.bpmn_id,
        type="userTask" if isinstance(spec, UserTask) else "manualTask",
        lane=spec.lane,
        role=lane_to_role(spec.lane),
        instructions=render_instructions(extensions.get("instructionsForEndUser"), task.data),
        form=_form(properties, files),
        due_in_days=_due_days(properties, task.data),
        properties=properties,
        assign_to=_rendered(properties, "assignTo", task.data),
        due_date=_due_date(properties, task.data),
        escalate_to=(properties.get("escalateTo") or "").strip() or None,
    )
