"""The WSGI entry point of `traceflow serve` under gunicorn: each worker process imports this after
it was forked and builds its own app (its own connection pool, no shared state)."""

import os

from . import create_app
from .ops import logs

logs.configure(os.environ.get("TRACEFLOW_LOG_FORMAT", "json"))
app = create_app()
