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
