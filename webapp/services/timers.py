"""Waking instances whose timers are due: each exactly once, even with several app processes.

Each instance row carries the due time of its next timer. `run_due(now)` claims due rows one at a
time with a row lock (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so a second process skips what the
first holds), fires the timers due at `now`, saves the new state and audits the wake-up, all in one
transaction. Anything due while the app was down fires at the next run; `now` may be given to catch
up to an instant (drills, tests).
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from engine import EngineError

from ..models import ProcessInstance
from ..models._types import utcnow
from . import audit
from .acting import acting_as
from .deployments import version_ref
from .engine_access import engine
from .incidents import record_incident, resolve_timer_incidents
from .uow import independent_transaction, transaction
from .workflow_state import apply_snapshot


@dataclass(frozen=True)
class Scheduler:
    """The actor recorded for timer wake-ups."""

    id: None = None
    username: str = "system:scheduler"
    display_name: str = "Scheduler"
    role_names: frozenset = frozenset()


SCHEDULER = Scheduler()


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
    while len(woken) + len(skip) < limit:
        try:
            with transaction() as session:
                instance = _claim(session, now, skip + woken)
                if instance is None:
                    break
                instance_id, ref = instance.id, version_ref(instance.version)
                workflow = engine().load(ref, instance.state_json)
                with acting_as(SCHEDULER, instance=instance):
                    fired = engine().fire_timers(workflow, now)
                apply_snapshot(session, instance, engine().snapshot(workflow, ref, now))
                resolve_timer_incidents(instance.id, SCHEDULER)
                audit.record(
                    SCHEDULER,
                    "timer.fired",
                    "process_instance",
                    instance.id,
                    after={
                        "fired": fired,
                        "at": now.isoformat(),
                        "status": instance.status,
                        "next_timer_at": instance.next_timer_at.isoformat() if instance.next_timer_at else None,
                    },
                )
            woken.append(instance_id)
        except EngineError as exc:  # a service operation or a script after the timer failed: nothing saved
            _postpone(instance_id, record_incident(SCHEDULER, instance_id, None, exc, {}), now)
            skip.append(instance_id)
    if woken:
        from .messages import deliver_pending

        deliver_pending()
    return woken


def _postpone(instance_id, incident, now):
    """After a timer step failed: try again after a back-off that doubles per attempt (5 minutes,
    10, 20 … at most a day), so a lasting failure is neither retried nor audited every sweep."""
    delay = min(timedelta(minutes=5) * 2 ** (incident.attempts - 1), timedelta(days=1))
    with independent_transaction() as session:
        session.get(ProcessInstance, instance_id).next_timer_at = now + delay


def start_scheduler(app, seconds=30):
    """APScheduler inside the serving process: a sweep at start, then every `seconds`."""
    from apscheduler.schedulers.background import BackgroundScheduler

    def sweep():
        from .messages import deliver_pending
        from .notifications import remind_due, send_pending

        with app.app_context():
            run_due()
            deliver_pending()
            remind_due()
            send_pending()

    def daily():
        from .certificates import check_certificates

        with app.app_context():
            check_certificates()

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        sweep,
        "interval",
        seconds=seconds,
        next_run_time=utcnow(),
        max_instances=1,
        coalesce=True,
        id="traceflow-timers",
    )
    scheduler.add_job(
        daily,
        "cron",
        hour=22,
        minute=0,
        next_run_time=utcnow(),
        max_instances=1,
        coalesce=True,
        id="traceflow-certificates",
    )  # 06:00 in China
    scheduler.start()
    return scheduler
