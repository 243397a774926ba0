"""The background jobs of `traceflow serve`: APScheduler runs the timer sweep (due timers, pending
messages, due-date reminders, mail) every 30 seconds and the certificate check daily. Each job is
safe to run in several app processes at once (row claims and advisory locks in the services)."""

from ..models._types import utcnow
from .certificates import check_certificates
from .messages import deliver_pending
from .notifications import remind_due, send_pending
from .timers import run_due


def start_scheduler(app, seconds=30):
    """APScheduler inside the serving process: a sweep at start, then every `seconds`."""
    from apscheduler.schedulers.background import BackgroundScheduler

    def sweep():
        with app.app_context():
            run_due()
            deliver_pending()
            remind_due()
            for job in app.extensions.get("traceflow_sweep_jobs", ()):  # the process packages' own
                job()
            send_pending()

    def daily():
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
