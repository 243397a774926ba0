"""Routing messages and signals between instances through the outbox.

The thrown events are written to `outbox_messages` in the transaction that threw them. Delivery
claims one pending row at a time (`FOR UPDATE SKIP LOCKED`), hands a message to the first running
instance that waits for its name (or starts a process with a matching message start event) and a
signal to every waiting instance and signal-started process, all in one transaction with the
receivers' new state and an audit event. A message nobody takes stays pending for a later run, with
the reason (no waiting instance, no process the thrower's initiator may start, a start that failed)
on the outbox row, shown on the throwing instance and audited whenever it changes.
"""

from sqlalchemy import select

from engine import EngineError

from ..extensions import db
from ..models import MessageSubscription, OutboxMessage, ProcessInstance, ProcessVersion
from ..models._types import utcnow
from . import audit
from .acting import acting_as
from .deployments import version_ref
from .engine_access import engine
from .uow import independent_transaction, transaction
from .workflow_state import apply_snapshot


def _receivers(session, message, source):
    ids = session.scalars(
        select(MessageSubscription.instance_id)
        .where(MessageSubscription.name == message.name, MessageSubscription.instance_id != source.id)
        .order_by(MessageSubscription.instance_id)
    ).all()
    return ids


def _deliver_to(session, instance_id, message, actor):
    from .tasks import _lock_instance

    instance = _lock_instance(session, instance_id)
    if instance.status != "running":
        return False
    ref = version_ref(instance.version)
    workflow = engine().load(ref, instance.state_json)
    with acting_as(actor, instance=instance):
        caught = engine().deliver(workflow, {"event": message.event})
    if caught:
        apply_snapshot(session, instance, engine().snapshot(workflow, ref))
    return bool(caught)


def _starters(session, name):
    """The newest active version of each process with a start event that takes `name`."""
    versions = session.scalars(
        select(ProcessVersion)
        .where(ProcessVersion.status == "active")
        .order_by(ProcessVersion.key, ProcessVersion.version.desc())
    ).all()
    newest = {}
    for version in versions:
        newest.setdefault(version.key, version)
    return [v for v in newest.values() if name in (v.start_messages or [])]


def _start_by(session, message, actor):
    """Start the newest active version of each process whose start event takes this name."""
    from .instances import may_start, start_instance

    started = []
    for version in _starters(session, message.name):
        if may_start(actor, version):
            event = {"name": message.name, "kind": message.kind, "event": message.event}
            started.append(start_instance(actor, version.key, version_number=version.version, message=event).id)
            if message.kind == "message" and started:
                break
    return started


def deliver_pending(limit=100):
    """Deliver pending messages and signals; the ids of the outbox rows delivered."""
    delivered, skip = [], [0]
    while len(delivered) + len(skip) <= limit:
        try:
            with transaction() as session:
                message = session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.id.not_in(skip + delivered))
                    .order_by(OutboxMessage.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if message is None:
                    break
                message_id = message.id
                source = session.get(ProcessInstance, message.source_instance_id)
                actor = source.initiator
                targets = []
                for instance_id in _receivers(session, message, source):
                    if _deliver_to(session, instance_id, message, actor):
                        targets.append(instance_id)
                        if message.kind == "message":
                            break
                if message.kind == "signal" or not targets:
                    targets += _start_by(session, message, actor)
                if not targets:
                    _note(message, source, actor, _why_not(session, message, actor))
                    skip.append(message_id)
                    continue
                message.delivered_at, message.delivered_to = utcnow(), targets
                audit.record(
                    actor,
                    f"{message.kind}.delivered",
                    "process_instance",
                    source.id,
                    after={"name": message.name, "to": targets},
                )
            delivered.append(message_id)
        except EngineError as exc:
            with independent_transaction() as session:
                message = session.get(OutboxMessage, message_id)
                source = session.get(ProcessInstance, message.source_instance_id)
                _note(message, source, source.initiator, f"delivery failed: {exc}")
            skip.append(message_id)
    return delivered


def _why_not(session, message, actor):
    """Why nobody took `message`: no instance waits for it, and no process it may start takes it."""
    nobody = f"no running instance waits for '{message.name}'"
    starters = _starters(session, message.name)
    if not starters:
        return f"{nobody} and no active process starts with it"
    return (
        nobody
        + "; "
        + "; ".join(
            f"{actor.username} may not start {v.key} (start roles: {', '.join(v.start_roles) or '-'})" for v in starters
        )
    )


def _note(message, source, actor, reason):
    """Keep the reason on the outbox row; audit it when it is new (not on every sweep)."""
    if message.last_error != reason:
        message.last_error = reason
        audit.record(
            actor,
            f"{message.kind}.undeliverable",
            "process_instance",
            source.id,
            after={"name": message.name, "reason": reason},
        )


def pending_from(instance_id):
    """The messages and signals an instance threw that are not delivered yet, oldest first."""
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.source_instance_id == instance_id, OutboxMessage.delivered_at.is_(None))
        .order_by(OutboxMessage.id)
    ).all()
