"""What operators read: /healthz, /readyz, Prometheus /metrics, JSON logs with the request id, and
the PostgreSQL pool and statement timeout taken from the environment."""

import json
import logging

import pytest
from sqlalchemy import text

from tests.conftest import TEST_CONFIG
from tests.helpers import DATA_BY_TASK, Api
from webapp import create_app
from webapp.config import engine_options
from webapp.extensions import db
from webapp.models import OutboxMessage
from webapp.ops.logs import JsonFormatter


def test_healthz_and_readyz_answer_anonymously(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["migrations"] == "current"


def test_readyz_refuses_traffic_when_the_schema_is_behind_the_code(app, client):
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '35e8275030fb'"))
        db.session.commit()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["migrations"] == "behind" and answer.get_json()["current"] == ["35e8275030fb"]
    assert client.get("/healthz").status_code == 200  # alive all the same: not a restart


def test_readyz_refuses_traffic_when_the_database_is_unreachable():
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503 and answer.get_json()["database"] == "unreachable"


def test_metrics_count_requests_completions_and_read_the_backlog(app, client):
    api = Api(app, "requester")
    instance = api.post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    [task] = instance["ready_tasks"]
    before = _sample(
        client.get("/metrics").get_data(as_text=True), 'traceflow_task_completions_total{process="change_control"}'
    )
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": DATA_BY_TASK["submit_request"]}).status_code == 200
    with app.app_context():
        db.session.add(
            OutboxMessage(source_instance_id=instance["id"], name="nobody_listens", kind="message", event={})
        )
        db.session.commit()
        backlog = db.session.query(OutboxMessage).filter(OutboxMessage.delivered_at.is_(None)).count()
    body = client.get("/metrics").get_data(as_text=True)
    assert _sample(body, 'traceflow_task_completions_total{process="change_control"}') == (before or 0) + 1
    assert (
        'traceflow_http_request_duration_seconds_count{endpoint="api.complete_task",method="POST",status="200"}' in body
    )
    assert _sample(body, "traceflow_outbox_backlog") == backlog >= 1
    assert _sample(body, "traceflow_open_incidents") == 0
    assert _sample(body, "traceflow_timer_lag_seconds") == 0


def _sample(body, name):
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_need_the_token_or_a_loopback_client(app):
    remote = app.test_client()
    assert remote.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    assert remote.get("/metrics").status_code == 200  # 127.0.0.1
    app.config["METRICS_TOKEN"] = "s3cret-metrics-token"
    assert remote.get("/metrics").status_code == 403  # with a token configured, loopback is not enough
    assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    good = remote.get(
        "/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert good.status_code == 200 and b"traceflow_open_incidents" in good.data


def test_each_request_logs_one_json_line_with_its_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="traceflow.access"):
        answer = client.get("/healthz", headers={"X-Request-Id": "req-4711"})
    assert answer.headers["X-Request-Id"] == "req-4711"
    [record] = [r for r in caplog.records if r.name == "traceflow.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["path"] == "/healthz" and line["status"] == 200 and line["method"] == "GET"
    assert line["endpoint"] == "ops.healthz" and line["duration_ms"] >= 0 and line["level"] == "INFO"
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert len(generated) == 32  # a fresh id when the client sends none


def test_the_json_formatter_carries_the_request_id_of_the_request_being_served(app):
    from webapp.services.request_facts import clear_request_facts, set_request_facts

    record = logging.LogRecord("traceflow.test", logging.WARNING, __file__, 1, "stored %s", ("x",), None)
    set_request_facts("req-42", "127.0.0.1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        clear_request_facts()
    assert line["request_id"] == "req-42" and line["message"] == "stored x" and line["level"] == "WARNING"


def test_postgresql_pool_and_statement_timeout_come_from_the_environment(postgres_url):
    env = {"TRACEFLOW_DB_POOL_SIZE": "3", "TRACEFLOW_DB_MAX_OVERFLOW": "2", "TRACEFLOW_DB_STATEMENT_TIMEOUT_MS": "200"}
    options = engine_options(postgres_url, env)
    assert engine_options("sqlite:///x.sqlite", env) == {}
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": postgres_url, "SQLALCHEMY_ENGINE_OPTIONS": options})
    with app.app_context():
        try:
            assert db.engine.pool.size() == 3
            assert db.session.scalar(text("SHOW statement_timeout")) == "200ms"
            with pytest.raises(Exception, match="statement timeout"):
                db.session.execute(text("SELECT pg_sleep(2)"))
        finally:
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()
