"""Timers across real operating-system processes: a timer that fell due while no app was running
fires when `traceflow serve` starts (its scheduler sweeps at start-up), and two `traceflow timers
run-due` processes racing on PostgreSQL wake every due instance exactly once."""

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import ProcessBundle
from tests.conftest import ROOT
from tests.helpers import user
from webapp.extensions import db
from webapp.models import AuditEvent, ProcessInstance
from webapp.models._types import utcnow
from webapp.services import instances, queries

TRACEFLOW = [sys.executable, "-c", "from webapp.console import main; main()"]


def _env(app, tmp_path):
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACEFLOW_SECRET_KEY": "test",
        "FLASK_APP": "webapp",
        "PYTHONPATH": str(ROOT),
    }


def _open(instance_id):
    db.session.expire_all()
    return [r.bpmn_id for r in queries.instance_tasks(instance_id) if r.completed_at is None]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_timer_due_while_the_app_was_down_fires_when_the_app_starts(app, tmp_path):
    with app.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "short_timer"))
        instance_id = instances.start_instance(user("qa"), "short_wait").id
        db.session.remove()
    time.sleep(1.5)  # the timer falls due while no app process runs
    with app.app_context():
        assert _open(instance_id) == []
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - the server writes to it until the test ends
    server = subprocess.Popen(
        TRACEFLOW + ["serve", "--port", str(_free_port())],
        env=_env(app, tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        with app.app_context():
            while time.monotonic() < deadline and _open(instance_id) != ["after_wait"]:
                time.sleep(0.3)
            assert _open(instance_id) == ["after_wait"], (tmp_path / "serve.log").read_text()
            fired = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "timer.fired")).one()
            assert fired.actor_name == "system:scheduler"
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_app_processes_never_fire_the_same_timer_twice(app, tmp_path):
    with app.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "timers"))
        ids = [instances.start_instance(user("qa"), "effectiveness", {"due_days": 90}).id for _ in range(12)]
        db.session.remove()
    later = (utcnow() + timedelta(days=6)).isoformat()
    runs = [
        subprocess.Popen(
            TRACEFLOW + ["timers", "run-due", "--now", later],
            env=_env(app, tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    woken = [int(i) for out, _ in outputs if ":" in out for i in out.split(":", 1)[1].split(",")]
    assert sorted(woken) == sorted(ids)
    with app.app_context():
        fired = db.session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "timer.fired")).all()
        assert sorted(map(int, fired)) == sorted(ids)
        assert all(_open(i) == ["escalated"] for i in ids)
        assert all(i.next_timer_at is None for i in db.session.scalars(select(ProcessInstance)))
