"""How `traceflow serve` runs the app: N stateless gunicorn worker processes (the default on Linux
and macOS), or one waitress process with threads where gunicorn cannot run (Windows).

Workers share nothing but the database (and the file store): sessions, tokens, timers, the outbox
and the audit chain live in it; the only in-process caches are keyed by a version's immutable
content hash. So N workers on one machine and N machines behind a proxy are the same design.
gunicorn is exec'd (it replaces this process), so its master and workers start from a clean
interpreter with PROMETHEUS_MULTIPROC_DIR set before anything imports prometheus-client.
"""

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int | None = None  # None: one per CPU
    threads: int = 4
    server: str = "auto"  # auto | gunicorn | waitress
    scheduler: bool = True
    scheduler_seconds: float = 30


def gunicorn_available() -> bool:
    if sys.platform == "win32":
        return False
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def gunicorn_argv(options: ServeOptions) -> list[str]:
    """The gunicorn command line for `options`."""
    workers = options.workers or os.cpu_count() or 1
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:webapp.gunicorn_conf",
        "--bind",
        f"{options.host}:{options.port}",
        "--workers",
        str(workers),
        "--threads",
        str(options.threads),
        "webapp.wsgi:app",
    ]


def gunicorn_env(app: Flask, options: ServeOptions) -> dict[str, str]:
    """The environment of the gunicorn processes: a fresh metrics folder, the scheduler settings."""
    metrics_dir = Path(app.instance_path) / "metrics" / str(options.port)
    shutil.rmtree(metrics_dir, ignore_errors=True)  # counts of an earlier run's processes
    metrics_dir.mkdir(parents=True)
    return {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "TRACEFLOW_SCHEDULER": "1" if options.scheduler else "0",
        "TRACEFLOW_SCHEDULER_SECONDS": str(options.scheduler_seconds),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or app.config["SQLALCHEMY_DATABASE_URI"],
    }


def serve(app: Flask, options: ServeOptions, echo: Callable[[str], None] = print) -> None:
    """Serve until stopped (gunicorn replaces this process; waitress blocks in it)."""
    server = options.server
    if server == "auto":
        server = "gunicorn" if gunicorn_available() else "waitress"
    echo(f"Traceflow on http://{options.host}:{options.port}/ ({server})")
    if server == "gunicorn":
        argv = gunicorn_argv(options)
        sys.stdout.flush()
        os.execve(argv[0], argv, gunicorn_env(app, options))
    from waitress import serve as waitress_serve

    from .ops import logs

    logs.configure(os.environ.get("TRACEFLOW_LOG_FORMAT", "json"))
    if options.scheduler:
        from .services.scheduler import start_scheduler

        start_scheduler(app, seconds=options.scheduler_seconds)
    waitress_serve(app, host=options.host, port=options.port, threads=max(options.threads, 8))
