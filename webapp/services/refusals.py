"""Refusals are audited: the refused change is discarded, the record of the refusal is kept."""

from ..extensions import db
from . import audit
from .uow import independent_transaction


def audit_refusal(actor, action, entity_type, entity_id, reason):
    """Record a refused operation in its own transaction (the refused change itself is not made)."""
    db.session.rollback()
    with independent_transaction():
        audit.record(actor, action, entity_type, entity_id, reason=reason)
