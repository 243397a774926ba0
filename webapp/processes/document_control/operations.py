"""Service-task operations of the document-control process (processes/document_control/document_control.bpmn).
Each runs as the acting user inside the step's transaction (the scheduler's account after a timer)
and keeps the document version of the running instance through records.py."""

from ...errors import InvalidInput
from ...services.acting import acting_instance, acting_user
from . import records


def _context():
    instance = acting_instance()
    if instance is None:
        raise InvalidInput("document operations run inside a started document-control instance")
    return acting_user(), instance


def submit(params):
    """The draft becomes a version in review."""
    actor, instance = _context()
    return records.submit(actor, instance, params["draft"])


def record_reviews(params):
    """Keep the parallel reviews; {changes_requested}."""
    actor, instance = _context()
    return records.record_reviews(actor, instance, params["reviews"])


def approve(params):
    """Approve the version (approvers from the signatures) and assign its training."""
    actor, instance = _context()
    return records.approve(actor, instance)


def make_effective(params):
    """The version becomes effective; the previous one is superseded."""
    actor, instance = _context()
    return records.make_effective(actor, instance)


def check_current(params):
    """{current}: is the version still effective when its periodic review falls due?"""
    actor, instance = _context()
    return records.check_current(actor, instance)


def record_periodic_review(params):
    """Keep the periodic review's outcome (obsolete withdraws the version)."""
    actor, instance = _context()
    return records.record_periodic_review(actor, instance, params["outcome"], params.get("comments") or "")


def register(registry):
    """Add the document operations to the app's registry."""
    registry.register("document.submit", submit, required={"draft": "dict"})
    registry.register("document.record_reviews", record_reviews, required={"reviews": "list"})
    registry.register("document.approve", approve, optional={"note": "str"})
    registry.register("document.make_effective", make_effective, optional={"note": "str"})
    registry.register("document.check_current", check_current, optional={"note": "str"})
    registry.register(
        "document.record_periodic_review",
        record_periodic_review,
        required={"outcome": "str"},
        optional={"comments": "str"},
    )
