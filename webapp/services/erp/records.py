"""Create, update and void master records with before/after audit events; nothing is deleted."""

from sqlalchemy import select

from ...errors import Conflict, InvalidInput
from ...models._types import utcnow
from .. import audit
from ..uow import transaction
from .common import reason_required, snapshot


def create_record(actor, model, entity_type, values, fields):
    """Insert a `model` row from `values` (a unique `code` is checked) and audit it."""
    with transaction() as session:
        if "code" in values and session.scalar(select(model.id).where(model.code == values["code"])):
            raise InvalidInput(f"{entity_type} {values['code']} exists", {"code": "exists"})
        record = model(**values)
        session.add(record)
        session.flush()
        audit.record(actor, f"{entity_type}.create", entity_type, record.id, after=snapshot(record, fields))
    return record


def update_record(actor, record, entity_type, changes, fields, reason):
    """Apply `changes` to `record` with a reason; audit the changed fields before and after."""
    reason = reason_required(reason)
    if record.voided:
        raise Conflict(f"{entity_type} {getattr(record, 'code', record.id)} is voided")
    with transaction():
        before = snapshot(record, fields)
        for name, value in changes.items():
            setattr(record, name, value)
        record.updated_at = utcnow()
        old, new = audit.diff(before, snapshot(record, fields))
        audit.record(actor, f"{entity_type}.update", entity_type, record.id, before=old, after=new, reason=reason)
    return record


def void_record(actor, record, entity_type, reason, check=None):
    """Mark `record` voided (by `actor`, with a reason); `check(record)` may refuse first."""
    reason = reason_required(reason)
    if record.voided:
        raise Conflict(f"{entity_type} {getattr(record, 'code', record.id)} is already voided")
    if check:
        check(record)
    with transaction():
        record.voided_at, record.voided_by_id, record.void_reason = utcnow(), getattr(actor, "id", None), reason
        audit.record(
            actor,
            f"{entity_type}.void",
            entity_type,
            record.id,
            before={"voided": False},
            after={"voided": True},
            reason=reason,
        )
    return record
