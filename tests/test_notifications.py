"""Notifications: queued with the task that causes them, reminders once, sent to the log, shown in the inbox."""
from datetime import timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Notification
from webapp.models._types import utcnow
from webapp.services import instances, notifications, queries, tasks
from tests.helpers import Browser, DATA_BY_TASK, user


def _notes(username, kind=None):
    query = select(Notification).where(Notification.user_id == user(username).id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.scalars(query).all()


def test_assigned_tasks_notify_their_person_and_reminders_come_once(app):
    with app.app_context():
        from engine import ProcessBundle
        from webapp.services.deployments import deploy_bundle
        from tests.conftest import ROOT
        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "rework_loop.bpmn"))
        instances.start_instance(user("qa2"), "rework_loop")   # lane-less: assigned to its initiator
        assert [n.kind for n in _notes("qa2")] == ["task_assigned"]
        instance = instances.start_instance(user("requester"), "change_control")
        row = [r for r in queries.instance_tasks(instance.id) if r.completed_at is None][0]
        tasks.complete_task(user("requester"), row.task_id, DATA_BY_TASK["submit_request"])
        assert _notes("qa", "task_assigned") == [] and _notes("requester") == []   # lane tasks wait in the queue
        later = utcnow() + timedelta(days=10)
        assert notifications.remind_due(later) >= 2
        assert notifications.remind_due(later) == 0
        assert "Overdue" in _notes("qa", "overdue")[0].subject
        queued = db.session.scalars(select(Notification)).all()
        assert notifications.send_pending() == len(queued) >= 3
        assert all(n.sent_via == "log" and n.sent_at for n in db.session.scalars(select(Notification)))


def test_the_inbox_shows_unread_notifications_until_marked_read(app):
    with app.app_context():
        from webapp.services.notifications import queue
        queue([user("requester").id], "message", "Please review CK-100", link="/instances")
        db.session.commit()
    browser = Browser(app, "requester")
    page = browser.get("/").get_data(as_text=True)
    assert 'id="notifications"' in page and "Please review CK-100" in page
    browser.post("/notifications/read")
    assert 'id="notifications"' not in browser.get("/").get_data(as_text=True)
