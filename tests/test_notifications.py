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


def test_a_new_task_notifies_its_role_and_reminders_come_once(app):
    with app.app_context():
        instance = instances.start_instance(user("requester"), "change_control")
        assert [n.kind for n in _notes("requester")] == ["task_assigned"]
        row = [r for r in queries.instance_tasks(instance.id) if r.completed_at is None][0]
        tasks.complete_task(user("requester"), row.task_id, DATA_BY_TASK["submit_request"])
        assert len(_notes("qa", "task_assigned")) == 1 and len(_notes("qa2", "task_assigned")) == 1
        later = utcnow() + timedelta(days=10)
        assert notifications.remind_due(later) >= 2
        assert notifications.remind_due(later) == 0
        assert "Overdue" in _notes("qa", "overdue")[0].subject
        sent = notifications.send_pending()
        assert sent >= 4 and all(n.sent_via == "log" for n in db.session.scalars(select(Notification)))


def test_the_inbox_shows_unread_notifications_until_marked_read(app):
    with app.app_context():
        instances.start_instance(user("requester"), "change_control")
    browser = Browser(app, "requester")
    page = browser.get("/").get_data(as_text=True)
    assert 'id="notifications"' in page and "/tasks/" in page
    browser.post("/notifications/read")
    assert 'id="notifications"' not in browser.get("/").get_data(as_text=True)
