"""Service-task operations of the recall process (processes/recall/recall.bpmn). Each runs as the acting
user inside the task-completion (or timer) transaction and keeps the recall record of the running
instance through records.py, which uses the ERP services (trace, lot status, ledger)."""

from ...errors import InvalidInput
from ...services.acting import acting_instance, acting_user
from . import records as recalls


def _context():
    instance = acting_instance()
    if instance is None:
        raise InvalidInput("recall operations run inside a started recall instance")
    return acting_user(), instance


def scope(params):
    """Forward-trace every affected lot and store the scope on the recall (time-to-scope)."""
    actor, instance = _context()
    return recalls.scope(actor, instance, params)


def hold(params):
    """Hold every affected lot still in stock (refused in a drill)."""
    actor, instance = _context()
    return recalls.hold(actor, instance, params.get("reason") or "")


def issue_notice(params):
    """Generate the recall notice to one customer of the scope."""
    actor, instance = _context()
    return recalls.issue_notice(actor, instance, params["customer"], params["notify_days"], params.get("action"))


def escalate(params):
    """Mark a customer's notice overdue and escalated."""
    actor, instance = _context()
    return recalls.escalate(actor, instance, params["customer"])


def record_acknowledgement(params):
    """Record a customer's acknowledgement (dates and quantities)."""
    actor, instance = _context()
    return recalls.record_acknowledgement(actor, instance, params["customer"], params["response"])


def book_returns(params):
    """Book customer returns against the recall (refused in a drill)."""
    actor, instance = _context()
    return recalls.book_returns(actor, instance, params["returns"])


def reconcile(params):
    """Reconcile shipped against returned, used and destroyed; store it on the recall."""
    actor, instance = _context()
    return recalls.reconcile(actor, instance)


def close(params):
    """Close the recall record."""
    actor, instance = _context()
    return recalls.close(actor, instance)


def register(registry):
    """Add the recall operations to the app's registry."""
    text = "str"
    registry.register(
        "recall.scope",
        scope,
        required={"lots": "list"},
        optional={"drill": "bool", "title": text, "source": text, "source_ref": text, "classification": "dict"},
    )
    registry.register("recall.hold", hold, required={"reason": text})
    registry.register(
        "recall.issue_notice",
        issue_notice,
        required={"customer": text, "notify_days": "int"},
        optional={"action": text},
    )
    registry.register("recall.escalate", escalate, required={"customer": text})
    registry.register(
        "recall.record_acknowledgement", record_acknowledgement, required={"customer": text, "response": "dict"}
    )
    registry.register("recall.book_returns", book_returns, required={"returns": "list"})
    registry.register("recall.reconcile", reconcile, optional={"note": text})
    registry.register("recall.close", close, optional={"note": text})
