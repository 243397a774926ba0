"""API v1 endpoints: each translates HTTP to one service call and back."""

from flask import current_app, g, jsonify, request, url_for
from marshmallow import ValidationError

from ..errors import DeploymentInvalid, InvalidInput, NotFound
from ..services import deployments, inbox, instances, messages, migrations, tasks
from ..services.audit import verify_chain
from ..services.users import authenticate, issue_token, revoke_token
from . import presenters, schemas
from .blueprint import bp
from .openapi import openapi_document


def _load(schema, payload=None):
    """Validate the JSON body with a marshmallow schema; 400 with per-field errors otherwise."""
    body = request.get_json(silent=True) if payload is None else payload
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise InvalidInput("the request is invalid", exc.messages) from None


@bp.post("/auth/token", endpoint="issue_token")
def issue_token_():
    """Exchange username and password for a bearer token."""
    body = _load(schemas.TokenRequest())
    user = authenticate(body["username"], body["password"])
    return jsonify({"token": issue_token(user, current_app.config["API_TOKEN_HOURS"])})


@bp.delete("/auth/token", endpoint="revoke_token")
def revoke_token_():
    """Revoke the bearer token this request carries."""
    revoke_token(g.user, request.headers.get("Authorization", "").partition(" ")[2].strip())
    return "", 204


@bp.get("/audit/verify", endpoint="audit_verify")
def audit_verify():
    """Verify the audit trail's hash chain: intact, or the first tampered event."""
    return jsonify(verify_chain().as_dict())


@bp.post("/deployments")
def create_deployment():
    """Upload BPMN/DMN/form files or zips (multipart `files`, optional `comment`): 201 or 422 report."""
    uploads = [(f.filename or "", f.read()) for f in request.files.getlist("files")]
    if not uploads:
        raise InvalidInput("no files uploaded", {"files": "required"})
    try:
        outcome = deployments.deploy_uploads(uploads, g.user, request.form.get("comment", ""))
    except DeploymentInvalid as exc:
        return jsonify(
            {
                "code": 422,
                "message": exc.message,
                "errors": exc.errors["errors"],
                "warnings": exc.errors.get("warnings", []),
            }
        ), 422
    return jsonify(
        schemas.DeploymentResponse().dump(
            {
                "id": outcome.id,
                "status": outcome.status,
                "warnings": list(outcome.warnings),
                "processes": [r.__dict__ for r in outcome.results],
            }
        )
    ), 201


@bp.post("/deployments/<int:deployment_id>/decision")
def decide_deployment(deployment_id):
    """QA approves (with a signature) or rejects (with a reason) a pending deployment."""
    body = _load(schemas.DeploymentDecisionRequest())
    deployment = deployments.decide_deployment(
        g.user, deployment_id, body["approve"], body.get("signature"), body["reason"]
    )
    return jsonify({"id": deployment.id, "status": deployment.status})


@bp.post("/process-instances/<int:instance_id>/migrate")
def migrate_instance(instance_id):
    """Move a running instance to another version of its process, when that is safe."""
    body = _load(schemas.MigrateRequest())
    instance = migrations.migrate_instance(g.user, instance_id, body["version"], body["reason"])
    return jsonify(presenters.instance_json(instance))


@bp.post("/incidents/<int:incident_id>/retry")
def retry_incident(incident_id):
    """Run a failed step again with the data that was submitted."""
    return jsonify(presenters.instance_json(tasks.retry_incident(g.user, incident_id)))


@bp.post("/messages/<int:message_id>/retry")
def retry_message(message_id):
    """Try to deliver a pending message or signal again now (after its receiver was fixed)."""
    message = messages.retry(g.user, message_id)
    return jsonify(presenters.instance_json(instances.get_instance(message.source_instance_id)))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of this API."""
    return jsonify(openapi_document())


@bp.get("/process-definitions")
def process_definitions():
    """Deployed processes with their versions."""
    return jsonify(presenters.definitions_json(instances.versions_by_key()))


@bp.post("/process-instances")
def start_instance():
    """Start an instance of a process."""
    body = _load(schemas.StartInstanceRequest())
    instance = instances.start_instance(g.user, body["process_key"], body["data"], body["version"])
    return jsonify(presenters.instance_json(instance)), 201


@bp.get("/process-instances/<int:instance_id>")
def get_instance(instance_id):
    """One instance with its data and ready tasks."""
    instance = instances.get_instance(instance_id)
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    return jsonify(presenters.instance_json(instance))


@bp.post("/process-instances/<int:instance_id>/cancel")
def cancel_instance(instance_id):
    """Cancel a running instance; `reason` is required."""
    body = _load(schemas.CancelRequest())
    return jsonify(presenters.instance_json(instances.cancel_instance(g.user, instance_id, body["reason"])))


@bp.get("/tasks")
def list_tasks():
    """Open tasks the caller may work (`mine=true`: only those claimed by the caller), one page of
    `limit` (default 50) in due order; the next page by `cursor` (X-Next-Cursor, Link rel="next")."""
    args = _load(schemas.TaskListArgs(), request.args.to_dict())
    limit, cursor = args.pop("limit"), args.pop("cursor")
    found = inbox.page(g.user, inbox.InboxQuery(**args), limit=limit, cursor=cursor)
    response = jsonify([presenters.task_json(r) for r in found.rows])
    response.headers["X-Total-Count"] = str(found.total)
    if found.capped:
        response.headers["X-Total-Count-Capped"] = "true"
    if found.next_cursor:
        response.headers["X-Next-Cursor"] = found.next_cursor
        following = {**request.args.to_dict(), "cursor": found.next_cursor}
        response.headers["Link"] = f'<{url_for("api.list_tasks", _external=False, **following)}>; rel="next"'
    return response


@bp.get("/tasks/<task_id>")
def get_task(task_id):
    """One task."""
    return jsonify(presenters.task_json(tasks.get_task(task_id)))


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id):
    """Claim a task."""
    return jsonify(presenters.task_json(tasks.claim_task(g.user, task_id)))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim_task(task_id):
    """Release a claimed task."""
    return jsonify(presenters.task_json(tasks.unclaim_task(g.user, task_id)))


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id):
    """Complete a task with form data."""
    body = _load(schemas.CompleteTaskRequest())
    instance = tasks.complete_task(g.user, task_id, body["data"], body.get("signature"))
    return jsonify({"process_instance": presenters.instance_json(instance)})
