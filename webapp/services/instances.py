"""Starting process instances."""

from sqlalchemy import select

from engine import EngineError

from ..errors import Conflict, PermissionDenied, ProcessFailure
from ..extensions import db
from ..models import ProcessInstance, ProcessVersion
from . import audit
from .acting import acting_as
from .deployments import get_version, latest_version, version_ref
from .engine_access import engine
from .numbering import next_number
from .uow import independent_transaction, transaction
from .workflow_state import apply_snapshot


def may_start(user, version):
    """True when `user` may start `version`: anyone, unless the process names start roles."""
    return not version.start_roles or bool(user.role_names & set(version.start_roles))


def start_instance(actor, process_key, data=None, version_number=None, message=None):
    """Start the active (or the pinned, if active) version of `process_key` for `actor`, in one transaction.

    `message` (an outbox event) starts it through the start event that catches that message."""
    version = latest_version(process_key) if version_number is None else get_version(process_key, version_number)
    if version.status != "active":
        raise Conflict(f"version {version.version} of {process_key} is {version.status}, not active")
    if not may_start(actor, version):
        audit_refusal(actor, "process.start_refused", "process", process_key, "not in a start role")
        raise PermissionDenied(f"you may not start {process_key}")
    ref = version_ref(version)
    try:
        with transaction() as session:
            business_key = _next_business_key(session, version)
            with acting_as(actor, version.key, business_key):
                # Scripts, instructions and message payloads may name the instance by `business_key`.
                seeded = {**(data or {}), "business_key": business_key}
                snapshot = engine().snapshot(engine().start(ref, seeded, message=message), ref)
            instance = ProcessInstance(
                version_id=version.id,
                business_key=business_key,
                status=snapshot.status,
                initiator_id=actor.id,
                state_json="",
                data={},
            )
            session.add(instance)
            session.flush()
            apply_snapshot(session, instance, snapshot)
            audit.record(
                actor,
                "instance.start",
                "process_instance",
                instance.id,
                after={
                    "process_key": process_key,
                    "version": version.version,
                    "business_key": instance.business_key,
                    "data": data or {},
                    **({"message": message["name"]} if message else {}),
                },
            )
    except EngineError as exc:
        raise ProcessFailure(f"the process failed to start; nothing was saved: {exc}") from exc
    if snapshot.thrown and session_is_outermost():
        from .messages import deliver_pending

        deliver_pending()
    return instance


def session_is_outermost():
    """True outside any service transaction (safe to start the next unit of work)."""
    return db.session.info.get("traceflow_transaction_depth", 0) == 0


def _next_business_key(session, version):
    """The next business key for the version's prefix (its initials when it declares none)."""
    prefix = version.business_key_prefix or "".join(p[0] for p in version.key.split("_") if p).upper()
    return next_number(session, prefix)


def audit_refusal(actor, action, entity_type, entity_id, reason):
    """Record a refused operation in its own transaction (the refused change itself is not made)."""
    db.session.rollback()
    with independent_transaction():
        audit.record(actor, action, entity_type, entity_id, reason=reason)


def get_instance(instance_id):
    """The instance with `id`, or None."""
    return db.session.get(ProcessInstance, instance_id)


def versions_by_key():
    """All active versions grouped by process key, newest first."""
    grouped = {}
    for version in db.session.scalars(
        select(ProcessVersion)
        .where(ProcessVersion.status == "active")
        .order_by(ProcessVersion.key, ProcessVersion.version.desc())
    ):
        grouped.setdefault(version.key, []).append(version)
    return grouped


def cancel_instance(actor, instance_id, reason):
    """Cancel a running instance with a reason (required); open tasks close, all in one transaction."""
    from ..errors import InvalidInput, NotFound
    from .deployments import version_ref
    from .tasks import _lock_instance

    if not (reason or "").strip():
        raise InvalidInput("a reason is required to cancel a process", {"reason": "required"})
    with transaction() as session:
        instance = _lock_instance(session, instance_id) if get_instance(instance_id) else None
        if instance is None:
            raise NotFound(f"no process instance {instance_id}")
        if instance.status != "running":
            raise Conflict(f"the process is {instance.status}, not running")
        workflow = engine().load(version_ref(instance.version), instance.state_json)
        workflow.cancel()
        snapshot = engine().snapshot(workflow, version_ref(instance.version))
        apply_snapshot(session, instance, snapshot)
        instance.status = "cancelled"
        audit.record(
            actor,
            "instance.cancel",
            "process_instance",
            instance.id,
            before={"status": "running"},
            after={"status": "cancelled"},
            reason=reason.strip(),
        )
    return instance
