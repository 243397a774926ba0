"""Incidents: service-task failures recorded after the rollback, shown on the instance, retried."""

from sqlalchemy import select

from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Incident
from ..models._types import utcnow
from . import audit
from .uow import independent_transaction


def record_incident(actor, instance_id, task_id, error, data):
    """Store (or count again) the incident of a step of `instance_id` failing in `error.operation`
    (`task_id` is the task whose completion ran it; None when a timer did). An engine error that is
    no service operation's (a script or condition after a timer) is recorded as operation `process`."""
    operation = getattr(error, "operation", None) or "process"
    reason = getattr(error, "reason", None) or str(error)
    with independent_transaction() as session:
        incident = session.scalar(
            select(Incident).where(
                Incident.instance_id == instance_id,
                Incident.task_id.is_(None) if task_id is None else Incident.task_id == task_id,
                Incident.operation == operation,
                Incident.resolved_at.is_(None),
            )
        )
        if incident is None:
            incident = Incident(
                instance_id=instance_id,
                task_id=task_id,
                operation=operation,
                message=reason,
                payload={"data": data},
                raised_by_id=getattr(actor, "id", None),
            )
            session.add(incident)
        else:
            incident.attempts, incident.message, incident.payload = incident.attempts + 1, reason, {"data": data}
        session.flush()
        audit.record(
            actor,
            "incident.raised",
            "process_instance",
            instance_id,
            after={
                "incident": incident.id,
                "task": task_id,
                "operation": operation,
                "error": reason,
                "attempt": incident.attempts,
            },
        )
    return incident


def resolve_timer_incidents(instance_id, actor):
    """The timer step ran: resolve the instance's open timer incidents (in the caller's transaction)."""
    for incident in db.session.scalars(
        select(Incident).where(
            Incident.instance_id == instance_id, Incident.task_id.is_(None), Incident.resolved_at.is_(None)
        )
    ):
        incident.resolved_at = utcnow()
        audit.record(
            actor,
            "incident.resolved",
            "process_instance",
            instance_id,
            after={"incident": incident.id, "operation": incident.operation, "attempts": incident.attempts},
        )


def open_incidents(instance_id):
    """The unresolved incidents of an instance."""
    return db.session.scalars(
        select(Incident)
        .where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
        .order_by(Incident.id)
    ).all()


def open_incident(incident_id):
    """The unresolved incident `incident_id`; NotFound, or Conflict when it is resolved already."""
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if incident.resolved_at is not None:
        raise Conflict("the incident is already resolved")
    return incident


def resolve(incident_id, actor):
    """The failed step ran on retry: resolve the incident (in the caller's transaction)."""
    incident = db.session.get(Incident, incident_id)
    incident.resolved_at, incident.resolved_by_id = utcnow(), actor.id
    audit.record(
        actor,
        "incident.retried",
        "process_instance",
        incident.instance_id,
        after={"incident": incident.id, "resolved": True},
    )
