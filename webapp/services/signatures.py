"""Electronic signatures on task completion (21 CFR 11.50, 11.70, 11.200) and segregation of duties.

A user task declares in BPMN spiffworkflow properties:
- `signature`: the meaning — approved | reviewed | released | rejected | authored;
- `signatureSeparateFrom`: comma-separated `initiator` and/or BPMN ids of earlier tasks whose
  completer may not sign this one;
- `signaturesRequired`: how many distinct signers the step needs (default 1).
The signature stores the SHA-256 of the canonical JSON of exactly what was signed: the submitted
task data and the snapshot of the record (instance data) it approves.
"""

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from engine import SIGNATURE_MEANINGS

from ..errors import InvalidInput, PermissionDenied
from ..extensions import db
from ..models import HumanTaskRow, Signature
from ..models._types import utcnow
from . import audit
from .audit import canonical_json

MEANINGS = SIGNATURE_MEANINGS  # one list, shared with bundle validation


@dataclass(frozen=True)
class Requirement:
    """What a signature step asks for."""

    meaning: str
    separate_from: tuple = ()
    count: int = 1

    def as_dict(self):
        """JSON-ready form for task representations."""
        return {
            "required": True,
            "meaning": self.meaning,
            "count": self.count,
            "separate_from": list(self.separate_from),
        }


def requirement(properties):
    """The Requirement a task's properties declare, or None for an ordinary task."""
    meaning = (properties or {}).get("signature")
    if not meaning:
        return None
    separate = tuple(p.strip() for p in (properties.get("signatureSeparateFrom") or "").split(",") if p.strip())
    count = properties.get("signaturesRequired") or "1"
    return Requirement(meaning, separate, int(count) if str(count).isdigit() else 1)


def requirement_of(row):
    """The Requirement of a task row (stored on the row when the task became ready)."""
    return requirement(row.signature_properties or {})


def check_request(req, signature):
    """Raise InvalidInput when a signature is missing or its meaning is not the step's meaning."""
    if not isinstance(signature, dict) or not signature.get("password"):
        raise InvalidInput("this step must be signed: password and meaning are required", {"signature": "required"})
    if signature.get("meaning") != req.meaning:
        raise InvalidInput(
            f"this step is signed with the meaning '{req.meaning}'", {"signature.meaning": f"must be {req.meaning}"}
        )


def signatures_on(task_id):
    """The signatures already given on a task, oldest first."""
    return db.session.scalars(select(Signature).where(Signature.task_id == task_id).order_by(Signature.id)).all()


def check_segregation(actor, req, instance, row):
    """Raise PermissionDenied when `actor` may not sign `row` under the step's segregation rules;
    its errors carry `segregation` (initiator | earlier_step | second_signer) and the `step` title,
    so a page can say why in the reader's language."""
    reason = segregation_conflict(actor, req, instance, row)
    if reason is None:
        return
    kind, step = reason
    message = {
        "initiator": "segregation of duties: the initiator may not sign this step",
        "earlier_step": f"segregation of duties: the signer of '{step}' may not sign this step",
        "second_signer": "segregation of duties: this step needs a different, additional signer",
    }[kind]
    raise PermissionDenied(message, {"segregation": kind, "step": step})


def segregation_conflict(actor, req, instance, row):
    """(kind, step title) of the rule that keeps `actor` from signing `row`, or None when they may."""
    if "initiator" in req.separate_from and instance.initiator_id == actor.id:
        return ("initiator", None)
    for bpmn_id in (s for s in req.separate_from if s != "initiator"):
        earlier = db.session.scalars(
            select(HumanTaskRow)
            .where(
                HumanTaskRow.instance_id == instance.id,
                HumanTaskRow.bpmn_id == bpmn_id,
                HumanTaskRow.state == "completed",
            )
            .order_by(HumanTaskRow.id.desc())
            .limit(1)
        ).first()
        if earlier is not None and earlier.completed_by_id == actor.id:
            return ("earlier_step", earlier.title)
    if any(s.signer_id == actor.id for s in signatures_on(row.task_id)):
        return ("second_signer", None)
    return None


def eligible_signers(req, instance, row, limit=5):
    """Usernames of active users of the step's role who may sign it (segregation permitting)."""
    from ..models import Role, User

    if not row.candidate_role:
        return []
    users = db.session.scalars(
        select(User)
        .join(User.roles)
        .where(Role.name == row.candidate_role, User.active.is_(True), User.locked_at.is_(None))
        .order_by(User.username)
    ).all()
    return [u.username for u in users if segregation_conflict(u, req, instance, row) is None][:limit]


def signed_content(instance, row, data):
    """Exactly what a signature covers: the task, its submitted data and the record it approves."""
    return {
        "process_key": instance.version.key,
        "version": instance.version.version,
        "business_key": instance.business_key,
        "task_id": row.task_id,
        "bpmn_id": row.bpmn_id,
        "task": row.title,
        "data": data,
        "record": instance.data,
    }


def content_hash(content):
    """SHA-256 of the canonical JSON of `content`."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def sign(session, actor, instance, row, req, data):
    """Add the signature of `actor` for `row` to the session and return it."""
    content = signed_content(instance, row, data)
    signature = Signature(
        instance_id=instance.id,
        task_id=row.task_id,
        bpmn_id=row.bpmn_id,
        signer_id=actor.id,
        printed_name=actor.display_name,
        signed_at=utcnow(),
        meaning=req.meaning,
        content=content,
        content_hash=content_hash(content),
    )
    session.add(signature)
    session.flush()
    return signature


def verify(signature, row=None):
    """True when the signature still matches what it signed: its stored content hashes to the stored
    hash and, once the task is completed, the task's recorded data is the data that was signed."""
    if content_hash(signature.content) != signature.content_hash:
        return False
    row = row or db.session.scalar(select(HumanTaskRow).where(HumanTaskRow.task_id == signature.task_id))
    return not (row is not None and row.state == "completed" and row.submitted_data != signature.content.get("data"))


def changed_after_signing(signature):
    """When a later step changed a value this signature signed, its own data or the record as it was
    (a rework revising a field the board approved): {"fields", "by", "at"} naming the fields and the first later completion that changed
    one of them, from the audit trail; None while every signed value is still the record's."""
    from ..models import AuditEvent, ProcessInstance

    instance = db.session.get(ProcessInstance, signature.instance_id)
    signed = {**(signature.content.get("record") or {}), **(signature.content.get("data") or {})}
    current = (instance.data or {}) if instance is not None else {}
    # A value the record no longer holds (a rework resetting a decision) counts as changed too.
    fields = sorted(k for k, v in signed.items() if k not in current or _plain(current[k]) != _plain(v))
    if not fields:
        return None
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == "task.complete",
            AuditEvent.at >= signature.signed_at,
            AuditEvent.entity_id != signature.task_id,
        )
        .order_by(AuditEvent.seq)
    )
    for event in events:
        after = event.after or {}
        if after.get("instance") == instance.business_key and set(after.get("data") or {}) & set(fields):
            return {"fields": fields, "by": event.actor_name, "at": event.at}
    return {"fields": fields, "by": None, "at": None}


def _plain(value):
    return canonical_json(value)


def sign_record(session, actor, record_type, record_id, meaning, content):
    """A signature on a record that is not a task (e.g. a deployment approval)."""
    signature = Signature(
        instance_id=None,
        record_type=record_type,
        task_id=f"{record_type}-{record_id}",
        bpmn_id=record_type,
        signer_id=actor.id,
        printed_name=actor.display_name,
        signed_at=utcnow(),
        meaning=meaning,
        content=content,
        content_hash=content_hash(content),
    )
    session.add(signature)
    session.flush()
    audit.record(
        actor,
        "record.sign",
        record_type,
        record_id,
        after={"meaning": meaning, "printed_name": signature.printed_name, "content_hash": signature.content_hash},
    )
    return signature
