"""The audit trail: events written inside the caller's transaction and hash-chained.

Each event stores the hash of its predecessor (by `seq`) and the SHA-256 of its own canonical
content (which includes that predecessor hash). Editing an event breaks its own hash, deleting one
breaks its successor's link, and reordering breaks the links around it, so `verify_chain` finds
the first event whose content, presence or order was tampered with.
"""

import hashlib
import json
from dataclasses import dataclass

from flask import g, has_request_context, request
from sqlalchemy import select

from ..extensions import db
from ..models import AuditEvent
from ..models._types import utcnow
from .uow import serialized

GENESIS = "0" * 64


def canonical_json(value):
    """Deterministic JSON text: sorted keys, no insignificant white space, UTF-8 characters kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _plain(value):
    """The value exactly as the JSON column will give it back (dates become text, tuples lists)."""
    return None if value is None else json.loads(canonical_json(value))


def _content(event):
    return {
        "prev_hash": event.prev_hash,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "request_id": event.request_id,
        "client_addr": event.client_addr,
    }


def event_hash(event):
    """SHA-256 of the event's canonical content."""
    return hashlib.sha256(canonical_json(_content(event)).encode("utf-8")).hexdigest()


def _request_facts():
    if not has_request_context():
        return None, None
    return getattr(g, "request_id", None), request.remote_addr


def _chain_head(session):
    serialized(session, "audit.chain")  # appends to the chain one transaction at a time
    return session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()


def record(actor, action, entity_type, entity_id, before=None, after=None, reason=None):
    """Append an audit event in the current transaction; it commits with the change it describes."""
    session = db.session
    request_id, client_addr = _request_facts()
    head = _chain_head(session)
    event = AuditEvent(
        seq=(head.seq + 1) if head else 1,
        prev_hash=head.hash if head else GENESIS,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", "system"),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=_plain(before),
        after=_plain(after),
        reason=reason,
        request_id=request_id,
        client_addr=client_addr,
    )
    event.hash = event_hash(event)
    session.add(event)  # flushed with the change it describes; the next head query autoflushes it
    return event


def diff(before, after):
    """The keys whose values differ between two dicts, as ({key: old}, {key: new})."""
    before, after = before or {}, after or {}
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys if k in before}, {k: after.get(k) for k in keys if k in after}


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying the chain: intact, or the first tampered event and how."""

    intact: bool
    events: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str | None = None

    def as_dict(self):
        """JSON-ready form."""
        return {
            "intact": self.intact,
            "events": self.events,
            "first_bad_seq": self.first_bad_seq,
            "first_bad_id": self.first_bad_id,
            "problem": self.problem,
        }


def verify_chain(batch=5000):
    """Walk every event in `seq` order and report the first whose content, presence or order is off."""
    previous_hash, previous_seq, count = GENESIS, 0, 0
    last_seq = 0
    while True:
        table = AuditEvent.__table__
        events = db.session.execute(
            select(table).where(table.c.seq > last_seq).order_by(table.c.seq).limit(batch)
        ).all()
        if not events:
            return ChainReport(True, count)
        for event in events:
            count += 1
            if event_hash(event) != event.hash:
                return ChainReport(False, count, event.seq, event.id, "content altered")
            if event.prev_hash != previous_hash:
                problem = "event missing before this one" if event.seq != previous_seq + 1 else "order altered"
                return ChainReport(False, count, event.seq, event.id, problem)
            previous_hash, previous_seq = event.hash, event.seq
        last_seq = events[-1].seq


def record_export(actor, action, entity_type, entity_id, filters):
    """Exports are themselves audited: who took which records out, and when."""
    from .uow import transaction

    with transaction():
        record(actor, action, entity_type, entity_id, after={"filters": filters})
