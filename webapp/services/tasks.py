"""Claiming and completing human tasks: the one place a task moves a process forward.

complete_task authorizes, then drives the instance (services/driver.py): lock the row → validate the
form data → sign → run the engine → write state, task rows and the audit event → commit, as one
transaction. Any failure rolls all of it back, so a refused or invalid submission leaves every table
as it was.
"""

import json
from dataclasses import replace

from flask import current_app
from sqlalchemy import select

from ..errors import Conflict, FormInvalid, GuardRefused, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..models import HumanTaskRow
from ..models._types import utcnow
from . import attachments, audit, forms, incidents, metrics, record_choices, signatures, task_checks
from .deployments import version_ref
from .driver import AuditEntry, Drive, drive
from .engine_access import engine
from .refusals import audit_refusal
from .uow import transaction
from .users import reauthenticate


def get_task(task_id):
    """The task row for `task_id`; NotFound when there is none."""
    row = db.session.scalar(select(HumanTaskRow).where(HumanTaskRow.task_id == str(task_id)))
    if row is None:
        raise NotFound(f"no task {task_id}")
    return row


def may_work(user, row):
    """True when `user` may claim or complete `row`: the task is assigned to them (by the process's
    `assignTo` or their own claim), or it is unassigned and they hold its lane's role, or are the
    initiator of a lane-less task."""
    if row.assignee_id is not None:
        return row.assignee_id == user.id
    if row.candidate_role:
        allowed = row.candidate_role in user.role_names
    else:
        allowed = row.instance.initiator_id == user.id
    return allowed


def _authorize(actor, row, action):
    if not may_work(actor, row):
        reason = (
            "task is claimed by another user"
            if row.assignee_id not in (None, actor.id)
            else f"requires role {row.candidate_role}"
            if row.candidate_role
            else "only the initiator"
        )
        audit_refusal(actor, f"task.{action}_refused", "task", row.task_id, reason)
        raise PermissionDenied(f"you may not {action} this task: {reason}")


def _require_open(row):
    if row.completed_at is not None:
        raise Conflict("the task is no longer ready")


def _run_gates(actor, properties, data):
    """Run every task gate; the evidence they return (e.g. the training a task requires), as a list."""
    evidence = []
    for gate in current_app.extensions.get("traceflow_task_gates", ()):
        evidence += gate(actor, dict(properties or {}), dict(data or {})) or []
    return evidence


def gate_refusal(actor, row):
    """Why `actor` may not claim or complete task `row` by its gates (training, released
    documents): the GuardRefused it would get, or None (for the inbox; nothing is audited)."""
    if not row.gate_properties:
        return None
    try:
        _run_gates(actor, row.gate_properties, row.instance.data)
    except GuardRefused as exc:
        return exc
    return None


def _check_gates(actor, row):
    """Run the task gates of `row` for `actor` before a claim; a refusal is audited and raised."""
    refusal = gate_refusal(actor, row)
    if refusal is not None:
        audit_refusal(actor, "task.gate_refused", "task", row.task_id, refusal.message)
        raise refusal


def claim_task(actor, task_id):
    """Assign an open task to `actor`."""
    row = get_task(task_id)
    _require_open(row)
    _authorize(actor, row, "claim")
    _check_gates(actor, row)
    with transaction():
        row.assignee_id = actor.id
        audit.record(actor, "task.claim", "task", row.task_id, after={"assignee": actor.username})
    return row


def unclaim_task(actor, task_id):
    """Release a task `actor` holds back to its role's queue."""
    row = get_task(task_id)
    _require_open(row)
    if row.assignee_id != actor.id:
        audit_refusal(actor, "task.unclaim_refused", "task", row.task_id, "not the assignee")
        raise PermissionDenied("only the assignee may unclaim this task")
    with transaction():
        row.assignee_id = None
        audit.record(actor, "task.unclaim", "task", row.task_id, before={"assignee": actor.username})
    return row


def task_form(row):
    """The form ({schema, ui_schema}) of task `row`, or None, read from its process version."""
    if not row.form_file:
        return None
    version = row.instance.version
    schema = _parsed(version, row.form_file)
    if schema is None:
        return None
    ui = _parsed(version, row.form_ui_file) if row.form_ui_file else None
    return {"schema": record_choices.fill(schema), "ui_schema": ui or {}}


def instance_forms(instance):
    """The forms of every task of `instance` so far (each form file once), to label its data."""
    rows = db.session.scalars(
        select(HumanTaskRow)
        .where(HumanTaskRow.instance_id == instance.id, HumanTaskRow.form_file.is_not(None))
        .order_by(HumanTaskRow.id)
    ).all()
    seen, forms = set(), []
    for row in rows:
        if row.form_file not in seen:
            seen.add(row.form_file)
            forms.append(task_form(row))
    return [f for f in forms if f]


_PARSED: dict = {}


def _parsed(version, name):
    """A version's form file as JSON, parsed once per content hash (versions never change); None when
    the version has no such file. Callers treat it as read-only (record_choices.fill copies)."""
    key = (version.content_hash, name)
    if key not in _PARSED:
        text = version_ref(version).files.get(name)
        _PARSED[key] = json.loads(text) if text is not None else None
    return _PARSED[key]


def complete_task(actor, task_id, data, signature=None, username_required=False, resolving=None):
    """Complete task `task_id` with `data` for `actor`; returns the updated instance.

    A signature step also takes `signature` ({"password", "meaning"[, "username"]}): the password is
    re-checked now (401 when wrong, counted towards lockout), the meaning must be the step's, and
    the segregation-of-duties rules must hold (403). `username_required` is set for the first
    signing of a web session (11.200). A step that needs several signers completes at the last one.
    `resolving` names an incident of this task that the completion resolves (a retry), in the same
    transaction.
    """
    row = get_task(task_id)
    _require_open(row)
    _authorize(actor, row, "complete")
    req = signatures.requirement_of(row)
    if req is not None:
        _reauthenticate(actor, req, signature, username_required)

    completed = []  # the process key, once the step completed (read before the commit expires the row)

    def complete(step: Drive) -> AuditEntry | None:
        # The instance was just locked and loaded fresh: if a concurrent completion got there first,
        # its workflow no longer has this task ready (TaskNotReady → 409), so the task row needs no
        # reload of its own.
        task = engine().human_task(step.workflow, step.ref, row.task_id)
        _validate(step, task, row, data)
        trained = _run_gates(actor, task.properties, step.instance.data)  # training, released documents (403/422)
        if req is not None and not _sign(step.session, actor, step.instance, row, req, data):
            row.assignee_id = None  # open for the next, different signer
            return None
        if task.form:  # the files its x-attachment fields name: bound to the task, immutable from now on
            attachments.claim_form_refs(actor, task.form["schema"], data, "task", row.task_id)
        before = dict(step.instance.data)
        engine().complete_task(step.workflow, row.task_id, data)
        step.snapshot = engine().snapshot(step.workflow, step.ref)
        row.state, row.completed_at, row.completed_by_id = "completed", utcnow(), actor.id
        row.assignee_id, row.submitted_data = actor.id, data
        completed.append(row.process_key)
        step.before = replace(step.before, ready=step.before.ready - {row.task_id})  # closed here, not cancelled
        if resolving is not None:
            incidents.resolve(resolving, actor)
        old, new = audit.diff(before, step.snapshot.data)
        return AuditEntry(
            "task.complete",
            "task",
            row.task_id,
            before={"status": "ready", "data": old},
            after={
                "status": "completed",
                "instance": step.instance.business_key,
                "instance_status": step.snapshot.status,
                "submitted": data,
                "data": new,
                **({"training": trained} if trained else {}),
            },
        )

    try:
        instance = drive(actor, row.instance_id, complete, task_id=row.task_id, data=data).instance
    except GuardRefused as exc:  # a task gate (training, released documents): nothing saved, refusal audited
        audit_refusal(actor, "task.gate_refused", "task", row.task_id, exc.message)
        raise
    except PermissionDenied as exc:
        audit_refusal(actor, "task.sign_refused", "task", row.task_id, exc.message)
        raise
    for process_key in completed:  # committed (a step still waiting for more signers is not completed)
        metrics.count_completion(process_key)
    return instance


def _validate(step, task, row, data):
    """The form's schema and the process package's checks of this task (task_checks), every field
    error of both at once; FormInvalid when any fails."""
    try:
        forms.validate(record_choices.fill(task.form["schema"]) if task.form else None, data)
    except FormInvalid as exc:
        if "_form" in exc.errors or any(m == "not a field of this task's form" for m in exc.errors.values()):
            raise
        more = task_checks.errors(step.instance, row.bpmn_id, data, engine().task_data(step.workflow, row.task_id))
        raise FormInvalid(exc.message, {**more, **exc.errors}) from None
    more = task_checks.errors(step.instance, row.bpmn_id, data, engine().task_data(step.workflow, row.task_id))
    if more:
        raise FormInvalid("the submitted data is invalid", more)


def retry_incident(actor, incident_id):
    """Complete the failed task again with the data that was submitted, resolving the incident in
    the same transaction; a timer step is retried by the scheduler, a signed step from its page."""
    incident = incidents.open_incident(incident_id)
    if incident.task_id is None:
        raise InvalidInput("a timer step is retried by the scheduler's next run (traceflow timers run-due)")
    if signatures.requirement_of(get_task(incident.task_id)) is not None:
        raise InvalidInput("this step is signed: complete it again from the task page", {"signature": "required"})
    return complete_task(actor, incident.task_id, incident.payload.get("data") or {}, resolving=incident.id)


def _reauthenticate(actor, req, signature, username_required):
    signatures.check_request(req, signature)
    username = signature.get("username")
    if username_required and not username:
        raise InvalidInput(
            "the first signature of a session needs the username as well", {"signature.username": "required"}
        )
    reauthenticate(actor, signature["password"], username)


def _sign(session, actor, instance, row, req, data):
    """Record `actor`'s signature; True when the step now has all the signatures it needs."""
    signatures.check_segregation(actor, req, instance, row)
    signature = signatures.sign(session, actor, instance, row, req, data)
    given = len(signatures.signatures_on(row.task_id))
    audit.record(
        actor,
        "task.sign",
        "signature",
        signature.id,
        after={
            "task": row.task_id,
            "instance": instance.business_key,
            "meaning": req.meaning,
            "printed_name": signature.printed_name,
            "content_hash": signature.content_hash,
            "signature": f"{given}/{req.count}",
        },
    )
    return given >= req.count
