"""Service-task operations of the complaint process (processes/complaint/complaint.bpmn). Each runs as
the acting user inside the transaction that drives the instance and keeps the complaint record
through steps.py."""

from ...errors import InvalidInput
from ...services.acting import acting_instance, acting_user
from . import steps


def _context():
    instance = acting_instance()
    if instance is None:
        raise InvalidInput("complaint operations run inside a started complaint instance")
    return acting_user(), instance


def register_complaint(params):
    """Register the intake; the markets from the lot's forward trace; the report prefill."""
    return steps.register(*_context(), params["intake"])


def assess(params):
    """Record QA's initial assessment."""
    return steps.assess(*_context(), params["assessment"])


def plan_reports(params):
    """Add the reports the reportability tables require (never twice, never removed)."""
    return steps.plan_reports(*_context(), params["decisions"], params.get("revised") or False)


def check_trend(params):
    """Count complaints per product and failure code over 30 and 90 days against the thresholds."""
    return steps.check_trend(*_context())


def record_trend(params):
    """Record QA's trend assessment."""
    return steps.record_trend(*_context(), params["assessment"])


def open_report(params):
    """Mark a report task open."""
    return steps.open_report(acting_user(), params["report"])


def escalate_report(params):
    """Remind at 50%/80% or mark overdue (once), telling the QA manager and Regulatory."""
    return steps.escalate_report(acting_user(), params["report"], params["stage"])


def submit_report(params):
    """Record the signed submission of a report."""
    return steps.submit_report(*_context(), params["report"], params["submission"])


def investigate(params):
    """Record the investigation."""
    return steps.investigate(*_context(), params["investigation"])


def respond(params):
    """Record the response to the customer."""
    return steps.respond(*_context(), params["response"])


def close(params):
    """Close the complaint."""
    return steps.close(*_context(), params.get("reason") or "")


def register(registry):
    """Add the complaint operations to the app's registry."""
    registry.register("complaint.register", register_complaint, required={"intake": "dict"})
    registry.register("complaint.assess", assess, required={"assessment": "dict"})
    registry.register(
        "complaint.plan_reports", plan_reports, required={"decisions": "dict"}, optional={"revised": "bool"}
    )
    registry.register("complaint.check_trend", check_trend)
    registry.register("complaint.record_trend", record_trend, required={"assessment": "dict"})
    registry.register("complaint.open_report", open_report, required={"report": "int"})
    registry.register("complaint.escalate_report", escalate_report, required={"report": "int", "stage": "str"})
    registry.register("complaint.submit_report", submit_report, required={"report": "int", "submission": "dict"})
    registry.register("complaint.investigate", investigate, required={"investigation": "dict"})
    registry.register("complaint.respond", respond, required={"response": "dict"})
    registry.register("complaint.close", close, optional={"reason": "str"})
