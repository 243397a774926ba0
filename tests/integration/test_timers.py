"""Timers: due times stored per instance, fired at a controllable `now`, exactly once across processes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import ProcessBundle
from tests.conftest import ROOT
from tests.helpers import at_once, user
from webapp.extensions import db
from webapp.models import AuditEvent, ProcessInstance
from webapp.models._types import utcnow
from webapp.services import instances, queries, tasks
from webapp.services.timers import run_due

FIXTURE = ROOT / "tests" / "fixtures" / "timers"


@pytest.fixture
def ctx(app):
    with app.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(FIXTURE))
        yield app


def _open(instance_id):
    return [r.bpmn_id for r in queries.instance_tasks(instance_id) if r.completed_at is None]


def _start(due_days=90):
    return instances.start_instance(user("qa"), "effectiveness", {"due_days": due_days})


def test_a_timer_fires_only_once_it_is_due(ctx):
    started = utcnow()
    instance = _start()
    row = [r for r in queries.instance_tasks(instance.id) if r.completed_at is None][0]
    tasks.complete_task(user("qa"), row.task_id, {})
    stored = instances.get_instance(instance.id)
    assert _open(instance.id) == [] and stored.next_timer_at is not None
    assert timedelta(days=89) < stored.next_timer_at - started < timedelta(days=91)
    assert run_due(started + timedelta(days=89)) == []
    assert run_due(started + timedelta(days=91)) == [instance.id]
    assert _open(instance.id) == ["check"] and instances.get_instance(instance.id).next_timer_at is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "timer.fired")).one()
    assert event.actor_name == "system:scheduler" and event.after["fired"] == 1
    assert run_due(started + timedelta(days=200)) == []


def test_a_boundary_timer_escalates_an_overdue_task(ctx):
    started = utcnow()
    instance = _start()
    assert _open(instance.id) == ["investigate"]
    assert run_due(started + timedelta(days=4)) == []
    assert run_due(started + timedelta(days=6)) == [instance.id]
    assert _open(instance.id) == ["escalated"]
    rows = queries.instance_tasks(instance.id)
    assert [r.state for r in rows if r.bpmn_id == "investigate"] == ["cancelled"]


def test_timers_due_during_an_outage_fire_at_the_next_run_via_the_cli(ctx):
    first, second = _start(), _start()
    later = (utcnow() + timedelta(days=30)).isoformat()
    result = ctx.test_cli_runner().invoke(args=["timers", "run-due", "--now", later])
    assert result.exit_code == 0 and "woke 2" in result.output
    assert _open(first.id) == _open(second.id) == ["escalated"]
    bad = ctx.test_cli_runner().invoke(args=["timers", "run-due", "--now", "next tuesday"])
    assert bad.exit_code != 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_never_fire_the_same_timer_twice(app):
    with app.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(FIXTURE))
        ids = [_start().id for _ in range(8)]
        db.session.remove()
    later = utcnow() + timedelta(days=6)
    woken = [i for r in at_once(app, lambda: run_due(later)) for i in r]
    assert sorted(woken) == sorted(ids)
    with app.app_context():
        fired = db.session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "timer.fired")).all()
        assert sorted(map(int, fired)) == sorted(ids)
        assert all(
            i.next_timer_at is None or i.next_timer_at > later for i in db.session.scalars(select(ProcessInstance))
        )


CYCLE = ROOT / "tests" / "fixtures" / "cycle_timer"


def test_a_cycle_timer_fires_each_occurrence_on_the_given_clock_then_stops(ctx):
    from webapp.services.deployments import deploy_bundle

    deploy_bundle(ProcessBundle.from_paths(CYCLE))
    started = utcnow()
    instance = instances.start_instance(user("qa"), "reminders")
    first = instances.get_instance(instance.id).next_timer_at
    assert timedelta(hours=23) < first - started < timedelta(hours=25)  # R2/P1D: one day from the start
    assert run_due(started + timedelta(hours=12)) == []
    assert run_due(first + timedelta(minutes=1)) == [instance.id]
    stored = instances.get_instance(instance.id)
    assert _open(instance.id) == ["respond", "remind"]
    assert stored.next_timer_at == first + timedelta(days=1)  # the next occurrence, one interval on
    assert run_due(first + timedelta(hours=12)) == []
    assert run_due(first + timedelta(days=1, minutes=1)) == [instance.id]
    stored = instances.get_instance(instance.id)
    assert _open(instance.id) == ["respond", "remind", "remind"] and stored.next_timer_at is None  # R2: no third
    assert run_due(first + timedelta(days=30)) == []
    rows = [r for r in queries.instance_tasks(instance.id) if r.completed_at is None]
    for row in sorted(rows, key=lambda r: r.bpmn_id == "respond"):  # the follow-ups first, then the response
        tasks.complete_task(user("qa"), row.task_id, {})
    assert instances.get_instance(instance.id).status == "completed"
