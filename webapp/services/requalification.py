"""Re-qualification of a supplier blocked by the daily certificate check.

When the check blocks a supplier because a required certificate expired, it also starts the
process named in `rules/erp_guards.json` (REC-SUPPLIER-CERTIFICATE → requalification: process and
message) through that process's message start event, with the payload {supplier, reason}, in the
same transaction as the block — unless a qualification of that supplier is already under way.

Who starts it: the scheduler acts for no person, but an instance needs an initiator row. The
scheduler therefore has an account of its own, `system:scheduler`, created on first use (audited):
inactive (it can never log in or hold a token), with no usable password and only the role
`system`, which holds no permission in rules/access_policy.json. It may start a process only where
the process owner lists `system` among the process's startRoles, as supplier_qualification does —
the ordinary start-role check, no exception in code; removing `system` there stops automatic starts.
"""

from sqlalchemy import select

from engine.messages import message_from_outside

from ..extensions import db
from ..models import HumanTaskRow, ProcessInstance, ProcessVersion, User
from . import audit
from .acting import SCHEDULER
from .erp.rules import rule
from .instances import cancel_instance, may_start, start_instance

SYSTEM_ROLE = "system"


def system_user():
    """The scheduler's account (inactive, role `system`), created and audited on first use."""
    from .users import ensure_roles

    user = db.session.scalar(select(User).where(User.username == SCHEDULER.username))
    if user is None:
        user = User(
            username=SCHEDULER.username,
            full_name=SCHEDULER.display_name,
            password_hash="!",
            active=False,
            roles=ensure_roles([SYSTEM_ROLE]),
        )
        db.session.add(user)
        db.session.flush()
        audit.record(
            SCHEDULER,
            "user.create",
            "user",
            user.id,
            after={"username": user.username, "roles": [SYSTEM_ROLE], "active": False},
        )
    return user


def settings():
    """(process key, message name) of the re-qualification, from the certificate rule."""
    conf = rule("REC-SUPPLIER-CERTIFICATE").get("requalification") or {}
    return conf.get("process", "supplier_qualification"), conf.get("message", "requalify_supplier")


def running_for(process_key, supplier_code):
    """Running instances of `process_key` whose data names the supplier, oldest first."""
    rows = db.session.scalars(
        select(ProcessInstance)
        .join(ProcessVersion)
        .where(ProcessVersion.key == process_key, ProcessInstance.status == "running")
        .order_by(ProcessInstance.id)
    )
    return [i for i in rows if (i.data or {}).get("supplier") == supplier_code]


def _has_open_tasks(instance):
    return (
        db.session.scalar(
            select(HumanTaskRow.id)
            .where(HumanTaskRow.instance_id == instance.id, HumanTaskRow.completed_at.is_(None))
            .limit(1)
        )
        is not None
    )


def start_requalification(supplier, reason):
    """Start the re-qualification of `supplier` (inside the caller's transaction).

    Returns ('started', business key), ('running', business key) when a qualification of the
    supplier already has open tasks, or ('not_started', why) when the process is not active or does
    not let the scheduler start it. An earlier qualification only waiting for its re-evaluation
    timer is superseded: cancelled with a reason naming the new instance."""
    process_key, message = settings()
    running = running_for(process_key, supplier.code)
    busy = [i for i in running if _has_open_tasks(i)]
    if busy:
        return "running", busy[0].business_key
    version = db.session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.key == process_key, ProcessVersion.status == "active")
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    actor = system_user()
    if version is None or message not in (version.start_messages or []) or not may_start(actor, version):
        return "not_started", f"{process_key} is not active or may not be started by {actor.username} via {message}"
    instance = start_instance(
        actor,
        process_key,
        version_number=version.version,
        message=message_from_outside(message, {"supplier": supplier.code, "reason": reason}),
    )
    for parked in running:
        cancel_instance(actor, parked.id, f"superseded by re-qualification {instance.business_key}: {reason}")
    return "started", instance.business_key
