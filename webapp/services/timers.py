"""Waking instances whose timers are due: each exactly once, even with several app processes.

Each instance row carries the due time of its next timer. `run_due(now)` claims due rows one at a
time with a row lock (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so a second process skips what the
first holds), fires the timers due at `now`, saves the new state and audits the wake-up, all in one
transaction. Anything due while the app was down fires at the next run; `now` may be given to catch
up to an instant (drills, tests).
"""

from datetime import timedelta

from sqlalchemy import select

from ..errors import IncidentRaised
from ..models import Incident, ProcessInstance
from ..models._types import utcnow
from .acting import SCHEDULER
from .driver import AuditEntry, Claim, Drive, drive
from .engine_access import engine
from .incidents import resolve_timer_incidents
from .uow import independent_transaction


def _claim(session, now, skip):
    query = (
        select(ProcessInstance)
        .where(
            ProcessInstance.status == "running",
            ProcessInstance.next_timer_at <= now,
            ProcessInstance.id.not_in(skip or [0]),
        )
        .order_by(ProcessInstance.next_timer_at)
        .limit(1)
        .with_for_update(skip_locked=True, of=ProcessInstance)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def run_due(now=None, limit=500):
    """Fire every timer due at `now` (default: the current time); the ids of the instances woken."""
    now = now or utcnow()
    woken, skip = [], []

    def fire(step: Drive) -> AuditEntry:
        fired = engine().fire_timers(step.workflow, now)
        step.snapshot = snapshot = engine().snapshot(step.workflow, step.ref, now)
        resolve_timer_incidents(step.instance.id, SCHEDULER)
        next_at = snapshot.next_timer_at if snapshot.status == "running" else None
        return AuditEntry(
            "timer.fired",
            "process_instance",
            step.instance.id,
            after={
                "fired": fired,
                "at": now.isoformat(),
                "status": snapshot.status,
                "next_timer_at": next_at.isoformat() if next_at else None,
            },
        )

    while len(woken) + len(skip) < limit:
        claim = Claim(lambda session: _claim(session, now, skip + woken))
        try:
            outcome = drive(SCHEDULER, claim, fire, now=now)
        except IncidentRaised as exc:  # the step after the timer failed: nothing saved, an incident
            _postpone(exc.errors["instance"], exc.errors["incident"], now)
            skip.append(exc.errors["instance"])
            continue
        if outcome.instance is None:
            break
        woken.append(outcome.instance.id)
    return woken


def _postpone(instance_id, incident_id, now):
    """After a timer step failed: try again after a back-off that doubles per attempt (5 minutes,
    10, 20 … at most a day), so a lasting failure is neither retried nor audited every sweep."""
    with independent_transaction() as session:
        attempts = session.get(Incident, incident_id).attempts
        delay = min(timedelta(minutes=5) * 2 ** (attempts - 1), timedelta(days=1))
        session.get(ProcessInstance, instance_id).next_timer_at = now + delay
