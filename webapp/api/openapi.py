"""The OpenAPI 3 document, generated from the marshmallow schemas."""

from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from ..bounds import MAX_INT
from ..processes import packages
from ..services import inbox
from . import attachment_routes, schemas
from .erp_openapi import add_erp

_BEARER = [{"bearerAuth": []}]


def _op(summary, request=None, response=None, status="200", errors=(400, 401, 403, 404), params=None):
    op = {"summary": summary, "security": _BEARER, "responses": {}}
    if request:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
    if response:
        op["responses"][status] = {"description": "OK", "content": {"application/json": {"schema": response}}}
    for code in errors:
        op["responses"][str(code)] = {
            "description": "error",
            "content": {"application/json": {"schema": "ErrorResponse"}},
        }
    if params:
        op["parameters"] = params
    return op


def _path(name, type_="string"):
    """A path parameter; an integer is an id, 1..MAX_INT (bounds.py: other numbers match no route, 404)."""
    schema = {"type": type_}
    if type_ == "integer":
        schema.update(minimum=1, maximum=MAX_INT)
    return {"name": name, "in": "path", "required": True, "schema": schema}


_INBOX_PARAMS = (
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": inbox.MAX_PAGE}},
    {"name": "cursor", "in": "query", "schema": {"type": "string", "maxLength": 200}},
    {"name": "process", "in": "query", "schema": {"type": "string", "maxLength": 120}},
    {"name": "role", "in": "query", "schema": {"type": "string", "maxLength": 80}},
    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
    {"name": "due", "in": "query", "schema": {"type": "string", "enum": list(inbox.DUE_FILTERS)}},
    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(inbox.SORTS)}},
)


def _paged(op):
    """A listing answered one page at a time: the body is the page's array, the headers the rest."""
    op["responses"]["200"]["headers"] = {
        "X-Total-Count": {
            "description": "open tasks matching, on all pages (counted up to 10,000)",
            "schema": {"type": "integer"},
        },
        "X-Total-Count-Capped": {
            "description": "present (true) when more than 10,000 match: X-Total-Count is then 10,000",
            "schema": {"type": "string", "enum": ["true"]},
        },
        "X-Next-Cursor": {
            "description": "`cursor` of the next page (absent on the last)",
            "schema": {"type": "string"},
        },
        "Link": {"description": 'the next page\'s URL, rel="next"', "schema": {"type": "string"}},
    }
    return op


@lru_cache(maxsize=1)
def openapi_document():
    """Build (once) and return the OpenAPI document as a dict."""
    spec = APISpec(title="Traceflow API", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for name in (
        "TokenRequest",
        "TokenResponse",
        "ErrorResponse",
        "ProcessDefinition",
        "Task",
        "ProcessInstance",
        "StartInstanceRequest",
        "CompleteTaskRequest",
        "CompleteTaskResponse",
        "CancelRequest",
        "DeploymentResponse",
        "DeploymentDecisionRequest",
        "MigrateRequest",
    ):
        spec.components.schema(name, schema=getattr(schemas, name))
    token_op = _op("Issue a bearer token", "TokenRequest", "TokenResponse", errors=(400, 401))
    token_op.pop("security")
    revoke_op = {
        "summary": "Revoke the bearer token of this request",
        "security": _BEARER,
        "responses": {
            "204": {"description": "revoked"},
            "401": {"description": "error", "content": {"application/json": {"schema": "ErrorResponse"}}},
        },
    }
    spec.path("/api/v1/auth/token", operations={"post": token_op, "delete": revoke_op})
    spec.path(
        "/api/v1/audit/verify",
        operations={
            "get": _op(
                "Verify the audit trail's hash chain against its checkpoint (finds edited, missing, "
                "reordered events and events cut off the end)",
                response={
                    "type": "object",
                    "properties": {
                        "intact": {"type": "boolean"},
                        "events": {"type": "integer"},
                        "first_bad_seq": {"type": "integer", "nullable": True},
                        "first_bad_id": {"type": "integer", "nullable": True},
                        "problem": {"type": "string", "nullable": True},
                        "checkpoint": {
                            "type": "object",
                            "nullable": True,
                            "properties": {
                                "seq": {"type": "integer"},
                                "hash": {"type": "string"},
                                "events": {"type": "integer"},
                                "at": {"type": "string", "format": "date-time"},
                            },
                        },
                    },
                },
                errors=(401, 403),
            )
        },
    )
    spec.path(
        "/api/v1/process-definitions",
        operations={
            "get": _op(
                "List process definitions",
                response={"type": "array", "items": {"$ref": "#/components/schemas/ProcessDefinition"}},
            )
        },
    )
    spec.path(
        "/api/v1/process-instances",
        operations={
            "post": _op(
                "Start a process instance (422: a service task failed, nothing saved, an incident recorded)",
                "StartInstanceRequest",
                "ProcessInstance",
                status="201",
                errors=(400, 401, 403, 404, 409, 422),
            )
        },
    )
    spec.path(
        "/api/v1/process-instances/{id}",
        operations={"get": _op("Get a process instance", response="ProcessInstance", params=[_path("id", "integer")])},
    )
    spec.path(
        "/api/v1/process-instances/{id}/cancel",
        operations={
            "post": _op(
                "Cancel a running instance (reason required)",
                "CancelRequest",
                "ProcessInstance",
                params=[_path("id", "integer")],
                errors=(400, 401, 403, 404, 409),
            )
        },
    )
    deploy_op = _op(
        "Deploy BPMN/DMN/form files or zip archives", None, "DeploymentResponse", status="201", errors=(400, 401, 403)
    )
    deploy_op["requestBody"] = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"}},
                        "comment": {"type": "string"},
                    },
                    "required": ["files"],
                }
            }
        },
    }
    deploy_op["responses"]["422"] = {
        "description": "validation report; nothing deployed",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    k: {"type": "string", "nullable": True}
                                    for k in ("file", "line", "element", "message")
                                },
                            },
                        }
                    },
                }
            }
        },
    }
    spec.path("/api/v1/deployments", operations={"post": deploy_op})
    spec.path(
        "/api/v1/deployments/{id}/decision",
        operations={
            "post": _op(
                "Approve (signed) or reject a pending deployment",
                "DeploymentDecisionRequest",
                {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "status": {"type": "string"}},
                    "required": ["id", "status"],
                },
                params=[_path("id", "integer")],
                errors=(400, 401, 403, 404, 409),
            )
        },
    )
    spec.path(
        "/api/v1/process-instances/{id}/migrate",
        operations={
            "post": _op(
                "Migrate a running instance to another version",
                "MigrateRequest",
                "ProcessInstance",
                params=[_path("id", "integer")],
                errors=(400, 401, 403, 404, 409),
            )
        },
    )
    spec.path(
        "/api/v1/incidents/{id}/retry",
        operations={
            "post": _op(
                "Retry the failed step of an incident",
                response="ProcessInstance",
                params=[_path("id", "integer")],
                errors=(400, 401, 403, 404, 409, 422),
            )
        },
    )
    spec.path(
        "/api/v1/messages/{id}/retry",
        operations={
            "post": _op(
                "Deliver a pending message or signal again now",
                response="ProcessInstance",
                params=[_path("id", "integer")],
                errors=(401, 403, 404, 409),
            )
        },
    )
    spec.path(
        "/api/v1/tasks",
        operations={
            "get": _paged(
                _op(
                    "List open tasks",
                    response={"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                    params=[
                        {
                            "name": "process_instance_id",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
                        },
                        {"name": "mine", "in": "query", "schema": {"type": "boolean"}},
                        *_INBOX_PARAMS,
                    ],
                )
            )
        },
    )

    spec.path("/api/v1/tasks/{id}", operations={"get": _op("Get a task", response="Task", params=[_path("id")])})
    for action in ("claim", "unclaim"):
        spec.path(
            f"/api/v1/tasks/{{id}}/{action}",
            operations={
                "post": _op(
                    f"{action.capitalize()} a task", response="Task", params=[_path("id")], errors=(401, 403, 404, 409)
                )
            },
        )
    spec.path(
        "/api/v1/tasks/{id}/complete",
        operations={
            "post": _op(
                "Complete a task (422: a service task failed, nothing saved, an incident recorded)",
                "CompleteTaskRequest",
                "CompleteTaskResponse",
                params=[_path("id")],
                errors=(400, 401, 403, 404, 409, 422),
            )
        },
    )
    add_erp(spec, _op, _path)
    for path, operations in attachment_routes.OPENAPI_PATHS.items():
        spec.path(path, operations=operations)
    for package in packages():  # the process packages' own API routes
        for path, operations in (package.openapi_paths or {}).items():
            spec.path(path, operations=operations)
    return _null_only_where_nullable(spec.to_dict())


# apispec writes a nullable nested schema (allow_none=True) for OpenAPI 3.0 as
# {"anyOf": [{"type": "object", "nullable": true}, {"$ref": …}]}, whose first branch admits any
# object at all; {"enum": [null]} narrows that branch to null (the OpenAPI 3.0.3 spelling of "or null").
_ANY_OBJECT_OR_NULL = {"type": "object", "nullable": True}


def _null_only_where_nullable(node):
    """`node` with every any-object-or-null branch of an anyOf narrowed to null alone."""
    if isinstance(node, list):
        return [_null_only_where_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _null_only_where_nullable(value) for key, value in node.items()}
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = [{**b, "enum": [None]} if b == _ANY_OBJECT_OR_NULL else b for b in out["anyOf"]]
    return out
