"""What Prometheus reads: request latency by endpoint, task completions, and the state of the
background work (timer lag, outbox backlog, open incidents) read from the database at scrape time.

Counters and histograms live in the process that observes them; with several worker processes
(`traceflow serve --workers N`) prometheus-client's multiprocess mode sums them across processes
(PROMETHEUS_MULTIPROC_DIR, set by `traceflow serve`). The database figures are the same from every
process, so they are computed by whichever process answers the scrape.
"""

import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from ..extensions import db
from ..models import Incident, OutboxMessage, ProcessInstance
from ..models._types import utcnow

REQUEST_SECONDS = Histogram(
    "traceflow_http_request_duration_seconds",
    "HTTP request latency by endpoint",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
COMPLETIONS = Counter("traceflow_task_completions_total", "Human tasks completed", ["process"])
TIMERS_FIRED = Counter("traceflow_timers_fired_total", "Instances woken by a due timer")


class _DatabaseState(Collector):
    """Gauges read from the database when scraped (the same answer in every worker process)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        oldest_due = db.session.scalar(
            select(func.min(ProcessInstance.next_timer_at)).where(
                ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now
            )
        )
        lag = GaugeMetricFamily("traceflow_timer_lag_seconds", "How long the oldest due timer has waited")
        lag.add_metric([], (now - oldest_due).total_seconds() if oldest_due else 0.0)
        yield lag
        backlog = GaugeMetricFamily("traceflow_outbox_backlog", "Thrown messages and signals not yet delivered")
        backlog.add_metric([], db.session.scalar(select(func.count()).where(OutboxMessage.delivered_at.is_(None))) or 0)
        yield backlog
        incidents = GaugeMetricFamily("traceflow_open_incidents", "Incidents not yet resolved")
        incidents.add_metric([], db.session.scalar(select(func.count()).where(Incident.resolved_at.is_(None))) or 0)
        yield incidents


def exposition() -> bytes:
    """The text format of every metric: this process's (or all worker processes') plus the database's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        from prometheus_client import REGISTRY as registry
    return generate_latest(registry) + generate_latest(_database_registry())


def _database_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(_DatabaseState())
    return registry


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(endpoint or "unmatched", method, str(status)).observe(seconds)


def count_completion(process_key: str) -> None:
    COMPLETIONS.labels(process_key).inc()


def count_timers(woken: Any) -> None:
    if woken:
        TIMERS_FIRED.inc(len(woken))
