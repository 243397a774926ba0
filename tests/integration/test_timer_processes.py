"""Timers across real operating-system processes: a timer that fell due while no app was running
fires when `traceflow serve` starts (its scheduler sweeps at start-up), and two `traceflow timers
run-due` processes racing on PostgreSQL wake every due instance exactly once."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
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


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_app_processes_with_schedulers_fire_each_due_timer_once(app, tmp_path):
    """Two `traceflow serve --workers 2` (each worker sweeps) and one `traceflow worker`: five
    schedulers sweeping every half second over the same due timers."""
    with app.app_context():
        from webapp.services.audit import verify_chain
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "short_timer"))
        db.session.remove()
    ports = [_free_port(), _free_port()]
    commands = [
        *(["serve", "--workers", "2", "--port", str(p), "--scheduler-seconds", "0.5"] for p in ports),
        ["worker", "--scheduler-seconds", "0.5"],
    ]
    logs = [open(tmp_path / f"app{n}.log", "wb") for n in range(3)]  # noqa: SIM115 - open until the end
    env = {**_env(app, tmp_path), "TRACEFLOW_LOG_FORMAT": "text"}
    apps = [
        subprocess.Popen(TRACEFLOW + c, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        for c, log in zip(commands, logs, strict=True)
    ]

    def fired():
        db.session.expire_all()
        return db.session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "timer.fired")).all()

    try:
        for port in ports:
            _wait_until_serving(port)
        time.sleep(1)  # the worker's scheduler is up too
        with app.app_context():  # timers fall due one after another while all five sweep
            ids = [instances.start_instance(user("qa"), "short_wait").id for _ in range(60)]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(fired()) < len(ids):
                time.sleep(0.3)
            time.sleep(2)  # four more sweeps of every scheduler: nothing fires twice
            woken = sorted(map(int, fired()))
            for port in ports:  # both servers served all along
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                    assert answer.status == 200
    finally:
        for process in apps:
            process.terminate()
        for process in apps:
            process.wait(timeout=30)
        for log in logs:
            log.close()
    output = "\n".join((tmp_path / f"app{n}.log").read_text() for n in range(3))
    assert woken == sorted(ids), output[-4000:]
    # The schedulers did race: wake-ups were made by more than one process, none twice.
    by_process = re.findall(r"timers fired in process (\d+): ([\d,]+)", output)
    assert len({pid for pid, _ in by_process}) >= 2, output[-4000:]
    assert sorted(int(i) for _, woke in by_process for i in woke.split(",")) == sorted(ids)
    with app.app_context():
        assert all(_open(i) == ["after_wait"] for i in ids)
        assert verify_chain().intact


def _wait_until_serving(port, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
