"""Service-task operations: named handlers the BPMN calls through `spiffworkflow:serviceTaskOperator`.

The web layer registers the handlers (ERP actions, notifications); the engine only looks them up,
checks their parameters at deploy time (validation.Operation) and calls them while running the
task. A handler runs inside the caller's transaction, so its changes commit or roll back together
with the workflow state.
"""
from dataclasses import dataclass
import json

from .errors import EngineError
from .validation import Operation


class ServiceError(EngineError):
    """A service-task operation failed; `operation` names it."""

    def __init__(self, operation, message):
        super().__init__(f"service operation {operation} failed: {message}")
        self.operation = operation
        self.reason = message


@dataclass(frozen=True)
class Registered:
    """A handler with its parameter declaration."""
    operation: Operation
    handler: object


class OperationRegistry:
    """Operations by name."""

    def __init__(self):
        self._items = {}

    def register(self, name, handler, required=(), optional=()):
        """Register `handler(params: dict) -> JSON-serializable result` under `name`."""
        self._items[name] = Registered(Operation(name, tuple(required), tuple(optional)), handler)

    def definitions(self):
        """{name: Operation}, for bundle validation."""
        return {name: item.operation for name, item in self._items.items()}

    def call(self, name, params):
        """Run the operation; its result as JSON text (what SpiffWorkflow stores in the result variable)."""
        item = self._items.get(name)
        if item is None:
            raise ServiceError(name, "not registered")
        values = {key: param.get("value") if isinstance(param, dict) else param for key, param in params.items()}
        try:
            result = item.handler(values)
        except EngineError:
            raise
        except Exception as exc:  # the handler's own error, named for the incident
            raise ServiceError(name, getattr(exc, "message", None) or str(exc)) from exc
        return json.dumps(result, default=str, ensure_ascii=False)
