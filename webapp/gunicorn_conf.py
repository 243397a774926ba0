"""gunicorn settings for `traceflow serve` (read by the gunicorn master; the CLI passes the rest on
the command line). Each worker runs the background sweep unless TRACEFLOW_SCHEDULER=0: the jobs
claim their rows (FOR UPDATE SKIP LOCKED, advisory locks), so N workers still fire each timer,
deliver each message and send each reminder once."""

import os

worker_class = "gthread"
preload_app = False  # each worker builds its app after the fork: no pool or scheduler thread crosses it
accesslog = None  # the app logs each request itself, as JSON with the request id
graceful_timeout = 20
control_socket_disable = True  # gunicorn ≥ 25: one shared ~/.gunicorn socket would clash between app servers
timeout = 60


def post_worker_init(worker):
    if os.environ.get("TRACEFLOW_SCHEDULER", "1") != "0":
        from webapp.services.scheduler import start_scheduler

        start_scheduler(worker.wsgi, seconds=float(os.environ.get("TRACEFLOW_SCHEDULER_SECONDS", "30")))


def child_exit(_server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
