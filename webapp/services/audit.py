"""The audit trail: events written inside the caller's transaction and hash-chained.

Each event stores the hash of its predecessor (by `seq`) and the SHA-256 of its own canonical
content (which includes that predecessor hash). Editing an event breaks its own hash, deleting one
breaks its successor's link, and reordering breaks the links around it, so `verify_chain` finds
the first event whose content, presence or order was tampered with.

Events cut off the *end* leave a chain that still links up, so the chain is anchored by a
checkpoint kept in a table of its own (`audit_checkpoint`, one row: head seq, head hash, number of
events, time), moved forward by every append in the same transaction and under the same lock as
the event; the next event links to the checkpoint's head, so a cut end stays a gap in the chain
once the trail grows again. One row updated per append rather than a periodic checkpoint row: it
is exact (a periodic checkpoint misses whatever was cut after its last row), costs one UPDATE of
a row the chain lock already serializes, and needs no scheduler. Triggers refuse UPDATE and DELETE of
events and refuse deleting the checkpoint or moving it backwards (on SQLite and PostgreSQL).
Someone able to bypass those triggers could rewrite both tables consistently; every export
therefore carries the checkpoint, and a copy held outside the database anchors the trail too.
"""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from ..extensions import db
from ..models import AuditCheckpoint, AuditEvent
from ..models._types import utcnow
from .request_facts import request_facts
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
    facts = request_facts()
    return facts.request_id, facts.client_addr


def _chain_head(session):
    """(seq, hash) of the head the next event links to: the checkpoint's, so after events were cut
    off the end the next event still follows the last one the checkpoint knew and the gap stays in
    the chain; the last event when the checkpoint row is missing; None for an empty trail."""
    # The chain lock is held until the commit, and every audited transaction needs it: write the
    # change being audited first, so only the event, the checkpoint and the commit wait in line.
    session.flush()
    serialized(session, "audit.chain")  # appends to the chain one transaction at a time
    table = AuditCheckpoint.__table__
    head = session.execute(select(table.c.head_seq, table.c.head_hash).where(table.c.id == 1)).first()
    if head is not None:
        return head if head.head_seq else None
    return session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()


def record(actor, action, entity_type, entity_id, before=None, after=None, reason=None):
    """Append an audit event in the current transaction; it commits with the change it describes."""
    session = db.session
    request_id, client_addr = _request_facts()
    head = _chain_head(session)
    event = AuditEvent(
        seq=(head[0] + 1) if head else 1,
        prev_hash=head[1] if head else GENESIS,
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
    _advance_checkpoint(session, event)
    return event


def _advance_checkpoint(session, event):
    """Move the checkpoint to `event` (the chain lock is held). A missing row (it can only have
    been deleted past the trigger) is recreated counting from this event, so verification keeps
    reporting that the count does not match the trail."""
    moved = session.execute(
        update(AuditCheckpoint)
        .where(AuditCheckpoint.id == 1)
        .values(head_seq=event.seq, head_hash=event.hash, events=AuditCheckpoint.events + 1, at=event.at)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 0:
        session.execute(
            insert(AuditCheckpoint).values(id=1, head_seq=event.seq, head_hash=event.hash, events=1, at=event.at)
        )


def checkpoint():
    """The checkpoint as a dict (seq, hash, events, at), or None when the row is missing."""
    table = AuditCheckpoint.__table__
    row = db.session.execute(select(table).where(table.c.id == 1)).first()
    if row is None:
        return None
    return {"seq": row.head_seq, "hash": row.head_hash, "events": row.events, "at": row.at.isoformat()}


def diff(before, after):
    """The keys whose values differ between two dicts, as ({key: old}, {key: new})."""
    before, after = before or {}, after or {}
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys if k in before}, {k: after.get(k) for k in keys if k in after}


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying the chain: intact, or the first tampered event and how; with the
    checkpoint it was compared to."""

    intact: bool
    events: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str | None = None
    checkpoint: dict | None = None

    def as_dict(self):
        """JSON-ready form."""
        return {
            "intact": self.intact,
            "events": self.events,
            "first_bad_seq": self.first_bad_seq,
            "first_bad_id": self.first_bad_id,
            "problem": self.problem,
            "checkpoint": self.checkpoint,
        }

    @property
    def truncated(self):
        """True when events were cut off the end (the chain ends before the checkpoint)."""
        return bool(self.problem) and self.problem.startswith("truncated")


def verify_chain(batch=5000):
    """Walk every event in `seq` order and report the first whose content, presence or order is off;
    then compare the chain with the checkpoint, so events cut off the end are reported too. The
    checkpoint is read first: events appended meanwhile lie beyond it and are walked as well."""
    anchor = checkpoint()
    head_seq = anchor["seq"] if anchor else None
    at_head = (GENESIS, 0) if head_seq == 0 else None  # (hash, events) of the chain at the checkpoint's seq
    previous_hash, previous_seq, count = GENESIS, 0, 0
    table = AuditEvent.__table__
    while True:
        events = db.session.execute(
            select(table).where(table.c.seq > previous_seq).order_by(table.c.seq).limit(batch)
        ).all()
        if not events:
            break
        for event in events:
            count += 1
            if event_hash(event) != event.hash:
                return ChainReport(False, count, event.seq, event.id, "content altered", anchor)
            if event.prev_hash != previous_hash:
                problem = "event missing before this one" if event.seq != previous_seq + 1 else "order altered"
                return ChainReport(False, count, event.seq, event.id, problem, anchor)
            previous_hash, previous_seq = event.hash, event.seq
            if event.seq == head_seq:
                at_head = (event.hash, count)
    return _against_checkpoint(anchor, previous_seq, at_head, count)


def _against_checkpoint(anchor, last_seq, at_head, count):
    if anchor is None:
        return ChainReport(False, count, None, None, "the audit checkpoint is missing", None)
    if last_seq < anchor["seq"]:
        problem = f"truncated: the trail ends at seq {last_seq} but the checkpoint says {anchor['seq']}"
        return ChainReport(False, count, last_seq + 1, None, problem, anchor)
    if at_head is None or at_head[0] != anchor["hash"]:
        problem = f"the event at seq {anchor['seq']} is not the one the checkpoint names"
        return ChainReport(False, count, anchor["seq"], None, problem, anchor)
    if at_head[1] != anchor["events"]:
        problem = f"the checkpoint counts {anchor['events']} events up to seq {anchor['seq']} but the trail holds {at_head[1]}"
        return ChainReport(False, count, anchor["seq"], None, problem, anchor)
    return ChainReport(True, count, checkpoint=anchor)


def record_export(actor, action, entity_type, entity_id, filters):
    """Exports are themselves audited: who took which records out, and when."""
    from .uow import transaction

    with transaction():
        record(actor, action, entity_type, entity_id, after={"filters": filters})
