"""Two users completing the same task at the same moment: exactly one wins (PostgreSQL, real threads)."""

import threading

import pytest

from tests.helpers import DATA_BY_TASK, user
from webapp.errors import Conflict
from webapp.extensions import db
from webapp.services import instances, queries, tasks

ROUNDS = 6


def _race(app, task_id, usernames, data):
    barrier = threading.Barrier(len(usernames))
    outcomes = {}

    def worker(name):
        with app.app_context():
            actor = user(name)
            barrier.wait()
            try:
                tasks.complete_task(actor, task_id, data)
                outcomes[name] = "ok"
            except Conflict:
                outcomes[name] = "conflict"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in usernames]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_exactly_one_of_two_simultaneous_completions_succeeds(app):
    with app.app_context():
        started = []
        for _ in range(ROUNDS):
            inst = instances.start_instance(user("requester"), "change_control")
            tasks.complete_task(
                user("requester"), queries.instance_tasks(inst.id)[0].task_id, DATA_BY_TASK["submit_request"]
            )
            started.append(inst.id)
        pending = [[r for r in queries.instance_tasks(i) if r.completed_at is None][0].task_id for i in started]
        versions = {i: instances.get_instance(i).lock_version for i in started}
        db.session.remove()
    for task_id in pending:
        outcomes = _race(app, task_id, ["qa", "qa2"], DATA_BY_TASK["impact_assessment"])
        assert sorted(outcomes.values()) == ["conflict", "ok"], outcomes
    with app.app_context():
        for inst_id in started:
            rows = queries.instance_tasks(inst_id)
            assert [r.bpmn_id for r in rows if r.state == "completed"] == ["submit_request", "impact_assessment"]
            assert len([r for r in rows if r.completed_at is None]) == 1
            assert instances.get_instance(inst_id).lock_version == versions[inst_id] + 1


def test_concurrent_starts_and_refusals_all_succeed_with_unique_numbers_and_an_intact_chain(app):
    """8 threads start processes and make refused attempts at once, from the first number of the
    year on (a SQLite file and PostgreSQL): no UNIQUE failure on the business key, its counter or the
    audit sequence, no lost audit event."""
    from sqlalchemy import func, select

    from webapp.errors import PermissionDenied
    from webapp.models import AuditEvent, ProcessInstance
    from webapp.services.audit import verify_chain

    workers, each = 8, 6
    barrier, errors = threading.Barrier(workers), []
    with app.app_context():
        events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        db.session.remove()

    def worker(index):
        with app.app_context():
            try:
                barrier.wait()
                for _ in range(each):
                    instances.start_instance(user("requester"), "change_control")
                    try:  # a refusal is audited in a transaction of its own
                        instances.start_instance(user("warehouse"), "capa")
                    except PermissionDenied:
                        pass
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with app.app_context():
        keys = db.session.scalars(select(ProcessInstance.business_key)).all()
        assert len(keys) == workers * each == len(set(keys))
        events = db.session.scalar(select(func.count()).select_from(AuditEvent)) - events_before
        assert events == workers * each * 2  # every start and every refusal
        assert verify_chain().intact
