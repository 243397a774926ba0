"""Routing messages and signals between instances through the outbox.

The thrown events are written to `outbox_messages` in the transaction that threw them. Delivery
takes one pending row at a time (`FOR UPDATE SKIP LOCKED`), each in its own transaction: a message
goes to the first running instance that waits for its name (or starts a process with a matching
message start event), a signal to every waiting instance and signal-started process, each receiver
driven by the instance driver, with the receivers' new state and the audit events.

Two ways a row stays pending, both kept on the row, shown on the throwing instance and audited when
the reason changes:
- nobody takes it (no waiting instance, no process the thrower's initiator may start): tried again
  at every sweep, since a receiver may appear at any time;
- the delivery failed (the receiver's script or operation, a start that failed): the row counts the
  attempt and waits a back-off (1 minute doubling to a day) before the next try, an incident is
  recorded on the receiving instance where one exists, and the sweep goes on with the other rows.
  `retry(message_id)` tries it again at once (after the receiver was fixed).
"""

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from engine import EngineError

from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..models import MessageSubscription, OutboxMessage, ProcessInstance, ProcessVersion
from ..models._types import utcnow
from . import audit
from .driver import AuditEntry, Drive, Outcome, after_commit, drive, failure
from .engine_access import engine
from .uow import independent_transaction, transaction

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(days=1)


def _receivers(session, message, source):
    return session.scalars(
        select(MessageSubscription.instance_id)
        .where(MessageSubscription.name == message.name, MessageSubscription.instance_id != source.id)
        .order_by(MessageSubscription.instance_id)
    ).all()


def _deliver_to(instance_id, message, actor):
    """Drive the waiting instance with the message; True when one of its events caught it."""

    def receive(step: Drive) -> AuditEntry | None:
        if step.instance.status != "running" or not engine().deliver(step.workflow, {"event": message.event}):
            return None
        return AuditEntry(
            f"{message.kind}.received",
            "process_instance",
            step.instance.id,
            after={"name": message.name, "from": message.source_instance_id},
        )

    return drive(actor, instance_id, receive).advanced


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


@after_commit
def _deliver_what_was_thrown(outcome: Outcome) -> None:
    """After a committed step that threw messages or signals: deliver them (their own transactions)."""
    if outcome.thrown:
        deliver_pending()


def _next_row(session, now, seen):
    return session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.delivered_at.is_(None),
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            OutboxMessage.id.not_in(seen or [0]),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()


def deliver_pending(limit=100, now=None):
    """Deliver pending messages and signals that are due; the ids of the outbox rows delivered.
    A row that fails is recorded and skipped; it never stops the rows after it."""
    now = now or utcnow()
    delivered, seen = [], []
    while len(seen) < limit:
        message_id = None
        try:
            with transaction() as session:
                message = _next_row(session, now, seen)
                if message is None:
                    break
                message_id = message.id
                seen.append(message_id)
                if _deliver(session, message):
                    delivered.append(message_id)
        except Exception as exc:  # recorded on the row and skipped: one bad row never blocks the rest
            if not isinstance(exc, EngineError | DomainError):
                log.exception("delivering outbox row %s failed unexpectedly", message_id)
            if message_id is None:
                raise
            _failed(message_id, exc, now)
    return delivered


def _deliver(session, message):
    """Hand `message` to its receivers (in the caller's transaction); True when someone took it."""
    source = session.get(ProcessInstance, message.source_instance_id)
    actor = source.initiator
    targets = []
    for instance_id in _receivers(session, message, source):
        if _deliver_to(instance_id, message, actor):
            targets.append(instance_id)
            if message.kind == "message":
                break
    if message.kind == "signal" or not targets:
        targets += _start_by(session, message, actor)
    if not targets:
        _note(message, source, actor, _why_not(session, message, actor))
        return False
    message.delivered_at, message.delivered_to = utcnow(), targets
    message.next_attempt_at = None
    audit.record(
        actor,
        f"{message.kind}.delivered",
        "process_instance",
        source.id,
        after={"name": message.name, "to": targets, "attempts": message.attempts + 1},
    )
    return True


def _failed(message_id, exc, now):
    """After the rolled-back delivery of row `message_id`: an incident on the receiving instance
    (where the failure happened in one), the attempt and the reason on the row, the next attempt
    after the back-off."""
    source_actor = None
    with independent_transaction() as session:
        message = session.get(OutboxMessage, message_id)
        source_actor = session.get(ProcessInstance, message.source_instance_id).initiator
    receiver = getattr(exc, "instance_id", None)
    if isinstance(exc, EngineError) and receiver is not None:
        failure(source_actor, receiver, None, exc, {"message": message.name})
    with independent_transaction() as session:
        message = session.get(OutboxMessage, message_id)
        source = session.get(ProcessInstance, message.source_instance_id)
        message.attempts += 1
        message.next_attempt_at = now + min(FIRST_RETRY * 2 ** (message.attempts - 1), LAST_RETRY)
        where = f" in instance {receiver}" if receiver is not None else ""
        _note(message, source, source.initiator, f"delivery failed{where}: {getattr(exc, 'message', None) or exc}")


def retry(actor, message_id):
    """Try to deliver a pending outbox row now (its receiver was fixed); the row afterwards."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    if message.delivered_at is not None:
        raise Conflict("the message was delivered already")
    with transaction():
        message.next_attempt_at = None
        audit.record(
            actor,
            f"{message.kind}.retry",
            "process_instance",
            message.source_instance_id,
            after={"name": message.name, "message": message.id, "attempts": message.attempts},
        )
    deliver_pending()
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


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
