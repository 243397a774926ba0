"""Writing audit events inside the caller's transaction."""
from flask import has_request_context, request, g

from ..extensions import db
from ..models import AuditEvent


def _request_facts():
    if not has_request_context():
        return None, None
    return getattr(g, "request_id", None), request.remote_addr


def record(actor, action, entity_type, entity_id, before=None, after=None, reason=None):
    """Add an audit event to the current session; it commits with the change it describes."""
    request_id, client_addr = _request_facts()
    event = AuditEvent(actor_id=getattr(actor, "id", None), actor_name=getattr(actor, "username", "system"),
                       action=action, entity_type=entity_type, entity_id=str(entity_id), before=before,
                       after=after, reason=reason, request_id=request_id, client_addr=client_addr)
    db.session.add(event)
    return event


def diff(before, after):
    """The keys whose values differ between two dicts, as ({key: old}, {key: new})."""
    before, after = before or {}, after or {}
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys if k in before}, {k: after.get(k) for k in keys if k in after}
