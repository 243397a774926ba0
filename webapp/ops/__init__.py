"""What operators and load balancers ask of a running app process: /healthz (the process answers),
/readyz (its database answers and its schema is the code's), /metrics (Prometheus), and the
per-request observations behind them (latency by endpoint, one JSON access-log line per request).

/healthz and /readyz are public (they say nothing about records). /metrics is for the monitoring
system: with TRACEFLOW_METRICS_TOKEN set it needs that bearer token, without it only clients on
the loopback interface get an answer (a Prometheus on another host needs the token).
"""

import hmac
import logging
import time
from functools import cache

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from ..extensions import db
from ..services import metrics

bp = Blueprint("ops", __name__)
access_log = logging.getLogger("traceflow.access")
PUBLIC = {"ops.healthz", "ops.readyz", "ops.metrics"}  # /metrics checks its own token below
LOOPBACK = {"127.0.0.1", "::1"}


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up and serving (no database access: a slow database must not restart it)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready for traffic: the database answers and carries the migrations this code expects."""
    try:
        current: set[str] = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception as exc:  # any driver error means the same to a load balancer: not ready
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "unreachable", "error": type(exc).__name__}), 503
    expected = _heads(current_app.extensions["migrate"].directory)
    if current != expected:
        return jsonify(
            {"status": "unavailable", "database": "ok", "migrations": "behind", "current": sorted(current),
             "expected": sorted(expected)}
        ), 503  # fmt: skip
    return jsonify({"status": "ok", "database": "ok", "migrations": "current", "revision": sorted(current)})


@cache
def _heads(directory: str) -> set[str]:
    """The head revisions of the migration scripts shipped with this code (immutable while it runs)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", directory)
    return set(ScriptDirectory.from_config(config).get_heads())


@bp.get("/metrics", endpoint="metrics")
def metrics_endpoint() -> ResponseReturnValue:
    """Prometheus text format; 403 without the metrics token (or from another host when none is set)."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        allowed = hmac.compare_digest(given.encode(), token.encode())
    else:
        allowed = request.remote_addr in LOOPBACK
    if not allowed:
        return jsonify({"code": 403, "message": "metrics need the metrics token"}), 403
    return metrics.exposition(), 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}


def _started() -> None:
    g.started = time.perf_counter()


def _observed(response: Response) -> Response:
    started = g.pop("started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    metrics.observe_request(request.endpoint, request.method, response.status_code, seconds)
    user = getattr(g, "user", None)
    access_log.info(
        "%s %s %s %.1f ms",
        request.method,
        request.path,
        response.status_code,
        seconds * 1000,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "user": getattr(user, "username", None),
            "endpoint": request.endpoint,
        },
    )
    response.headers.setdefault("X-Request-Id", g.get("request_id", ""))
    return response


def init_app(app: Flask) -> None:
    """Register the endpoints and the per-request observation."""
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _started)  # before identification
    app.after_request(_observed)
