"""Starting and cancelling process instances (through the instance driver)."""

from sqlalchemy import select

from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..models import ProcessInstance, ProcessVersion
from .acting import acting_as
from .deployments import get_version, latest_version
from .driver import AuditEntry, Drive, NewInstance, drive
from .engine_access import engine
from .numbering import next_number
from .refusals import audit_refusal


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

    def start(step: Drive) -> AuditEntry:
        step.business_key = _next_business_key(step.session, version)
        with acting_as(actor, version.key, step.business_key):
            # Scripts, instructions and message payloads may name the instance by `business_key`.
            seeded = {**(data or {}), "business_key": step.business_key}
            step.workflow = engine().start(step.ref, seeded, message=message)
            step.snapshot = engine().snapshot(step.workflow, step.ref)
        return AuditEntry(
            "instance.start",
            "process_instance",
            None,  # the new instance's id
            after={
                "process_key": process_key,
                "version": version.version,
                "business_key": step.business_key,
                "data": data or {},
                **({"message": message["name"]} if message else {}),
            },
        )

    return drive(actor, NewInstance(version), start).instance


def _next_business_key(session, version):
    """The next business key for the version's prefix (its initials when it declares none)."""
    prefix = version.business_key_prefix or "".join(p[0] for p in version.key.split("_") if p).upper()
    return next_number(session, prefix)


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
    if not (reason or "").strip():
        raise InvalidInput("a reason is required to cancel a process", {"reason": "required"})
    if get_instance(instance_id) is None:
        raise NotFound(f"no process instance {instance_id}")

    def cancel(step: Drive) -> AuditEntry:
        if step.instance.status != "running":
            raise Conflict(f"the process is {step.instance.status}, not running")
        step.workflow.cancel()
        step.status = "cancelled"
        return AuditEntry(
            "instance.cancel",
            "process_instance",
            step.instance.id,
            before={"status": "running"},
            after={"status": "cancelled"},
            reason=reason.strip(),
        )

    return drive(actor, instance_id, cancel).instance
