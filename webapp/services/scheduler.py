"""The background jobs of `traceflow serve`: APScheduler runs the timer sweep (due timers, pending
messages, due-date reminders, mail) every 30 seconds and the certificate check daily. Each job is
safe to run in several app processes at once (row claims and advisory locks in the services)."""

import logging
import os

from ..models._types import utcnow
from .certificates import check_certificates
from .messages import deliver_pending
from .metrics import count_timers
from .notifications import remind_due, send_pending
from .timers import run_due

log = logging.getLogger("traceflow.scheduler")


def start_scheduler(app, seconds=30):
    """APScheduler inside the serving process: a sweep at start, then every `seconds`."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = _with_jobs(BackgroundScheduler(timezone="UTC"), app, seconds)
    scheduler.start()
    return scheduler


def run_worker(app, seconds=30):
    """The same jobs in the foreground, for `traceflow worker` (a process that serves no HTTP); runs
    until the process is stopped."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    _with_jobs(BlockingScheduler(timezone="UTC"), app, seconds).start()


def _with_jobs(scheduler, app, seconds):

    def sweep():
        with app.app_context():
            woken = run_due()
            count_timers(woken)
            if woken:
                log.info("timers fired in process %s: %s", os.getpid(), ",".join(map(str, woken)))
            deliver_pending()
            remind_due()
            for job in app.extensions.get("traceflow_sweep_jobs", ()):  # the process packages' own
                job()
            send_pending()

    def daily():
        with app.app_context():
            check_certificates()

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
    return scheduler
