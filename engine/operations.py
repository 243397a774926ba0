"""Service-task operations: named handlers the BPMN calls through `spiffworkflow:serviceTaskOperator`.

The web layer registers the handlers (ERP actions, notifications); the engine only looks them up,
checks their parameters at deploy time (`Operation`, below) and calls them while running the
task. A handler runs inside the caller's transaction, so its changes commit or roll back together
with the workflow state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import EngineError


@dataclass(frozen=True)
class Operation:
    """A service-task operation: its name, the parameters it requires or accepts and, for typed ones,
    their types as the BPMN spells them (`str`, `int`, `float`, `bool`, `list`, `dict`)."""

    name: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    types: tuple[tuple[str, str], ...] = ()  # ((parameter, type), ...): a tuple, so the dataclass stays hashable


class ServiceError(EngineError):
    """A service-task operation failed; `operation` names it."""

    def __init__(self, operation: str | None, message: str) -> None:
        super().__init__(f"service operation {operation} failed: {message}")
        self.operation = operation
        self.reason = message


# How a parameter's value is checked before the handler runs (bool is not an int here).
TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
}


# A handler takes the evaluated parameters and returns a JSON-serializable result.
Handler = Callable[[dict[str, Any]], Any]
# Parameters are declared as names, or as {name: type}.
Parameters = Iterable[str] | dict[str, str]


def _split(spec: Parameters) -> tuple[tuple[str, ...], dict[str, str]]:
    """(names, {name: type}) of a parameter spec: a tuple of names, or a dict of name → type."""
    if isinstance(spec, dict):
        unknown = sorted(t for t in spec.values() if t not in TYPE_CHECKS)
        if unknown:
            raise ValueError(f"unknown parameter types {unknown}; use {sorted(TYPE_CHECKS)}")
        return tuple(spec), dict(spec)
    return tuple(spec), {}


@dataclass(frozen=True)
class Registered:
    """A handler with its parameter declaration."""

    operation: Operation
    handler: Handler


class OperationRegistry:
    """Operations by name."""

    def __init__(self) -> None:
        self._items: dict[str, Registered] = {}

    def register(self, name: str, handler: Handler, required: Parameters = (), optional: Parameters = ()) -> None:
        """Register `handler(params: dict) -> JSON-serializable result` under `name`. `required` and
        `optional` name the parameters; as dicts ({name: "str" | "int" | "float" | "bool" | "list" |
        "dict"}) they type them too: the BPMN's declared type is checked at deploy time and the
        evaluated value before the handler runs."""
        required, required_types = _split(required)
        optional, optional_types = _split(optional)
        types = tuple(sorted({**required_types, **optional_types}.items()))
        self._items[name] = Registered(Operation(name, required, optional, types), handler)

    def definitions(self) -> dict[str, Operation]:
        """{name: Operation}, for bundle validation."""
        return {name: item.operation for name, item in self._items.items()}

    def call(self, name: str | None, params: Mapping[str, Any]) -> str:
        """Run the operation; its result as JSON text (what SpiffWorkflow stores in the result variable).
        No name (the sandbox's call_service defaults to none) is not registered either."""
        item = self._items.get(name) if name is not None else None
        if item is None:
            raise ServiceError(name, "not registered")
        values = {key: param.get("value") if isinstance(param, dict) else param for key, param in params.items()}
        _check_types(name, item.operation, values)
        try:
            result = item.handler(values)
        except EngineError:
            raise
        except Exception as exc:  # the handler's own error, named for the incident
            raise ServiceError(name, getattr(exc, "message", None) or str(exc)) from exc
        return json.dumps(result, default=str, ensure_ascii=False)


def _check_types(name: str | None, operation: Operation, values: Mapping[str, Any]) -> None:
    """ServiceError naming the first parameter whose value is not of its declared type (None passes
    for an optional parameter)."""
    for param, wanted in operation.types:
        value = values.get(param)
        if value is None and param in operation.optional:
            continue
        if not TYPE_CHECKS[wanted](value):
            raise ServiceError(name, f"parameter '{param}' must be {wanted}, not {type(value).__name__}: {value!r:.60}")
