"""Notifications: queued with the task that causes them, reminders once, sent to the log, shown in the inbox."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.helpers import DATA_BY_TASK, Browser, at_once, user
from webapp.extensions import db
from webapp.models import Notification
from webapp.models._types import utcnow
from webapp.services import instances, notifications, queries, tasks


def _notes(username, kind=None):
    query = select(Notification).where(Notification.user_id == user(username).id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.scalars(query).all()


def test_assigned_tasks_notify_their_person_and_reminders_come_once(app):
    with app.app_context():
        from engine import ProcessBundle
        from tests.conftest import ROOT
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(
            ProcessBundle.from_paths(
                ROOT / "tests" / "fixtures" / "rework_loop.bpmn",
                ROOT / "tests" / "fixtures" / "rework_loop-schema.json",
            )
        )
        instances.start_instance(user("qa2"), "rework_loop")  # lane-less: assigned to its initiator
        assert [n.kind for n in _notes("qa2")] == ["task_assigned"]
        instance = instances.start_instance(user("requester"), "change_control")
        row = [r for r in queries.instance_tasks(instance.id) if r.completed_at is None][0]
        tasks.complete_task(user("requester"), row.task_id, DATA_BY_TASK["submit_request"])
        assert _notes("qa", "task_assigned") == [] and _notes("requester") == []  # lane tasks wait in the queue
        later = utcnow() + timedelta(days=10)
        assert notifications.remind_due(later) >= 2
        assert notifications.remind_due(later) == 0
        assert "Overdue" in _notes("qa", "overdue")[0].subject
        queued = db.session.scalars(select(Notification)).all()
        assert notifications.send_pending() == len(queued) >= 3
        assert all(n.sent_via == "log" and n.sent_at for n in db.session.scalars(select(Notification)))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_app_processes_send_each_reminder_once(app):
    with app.app_context():
        instance = instances.start_instance(user("requester"), "change_control")
        row = [r for r in queries.instance_tasks(instance.id) if r.completed_at is None][0]
        tasks.complete_task(user("requester"), row.task_id, DATA_BY_TASK["submit_request"])
        db.session.remove()
    later = utcnow() + timedelta(days=10)
    counts = at_once(app, lambda: notifications.remind_due(later))
    assert sorted(counts)[0] == 0 and sum(counts) >= 2  # one process sent them, the other found them sent
    with app.app_context():
        overdue = [n.subject for n in db.session.scalars(select(Notification).where(Notification.kind == "overdue"))]
        assert len(overdue) == sum(counts)


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


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port, collecting what it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Inbox(Message):
        def __init__(self):
            super().__init__()
            self.messages = []

        def handle_message(self, message):
            self.messages.append(message)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.hostname, controller.port, inbox.messages
    finally:
        controller.stop()


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_notifications_go_out_by_smtp_when_a_server_is_configured(app, smtp_server):
    host, port, received = smtp_server
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, MAIL_FROM="traceflow@example.com")
    with app.app_context():
        user("qa").email = "li.na@example.com"
        notifications.queue(
            [user("qa").id, user("board").id], "message", "Recall RC-0001 scoped", "3 customers.", "/instances/1"
        )
        db.session.commit()
        assert notifications.send_pending() == 2
        by_user = {n.user_id: n for n in db.session.scalars(select(Notification))}
        assert by_user[user("qa").id].sent_via == "smtp" and by_user[user("board").id].sent_via == "log"
    [mail] = received
    assert mail["To"] == "li.na@example.com" and mail["Subject"] == "Recall RC-0001 scoped"
    assert mail["From"] == "traceflow@example.com" and "/instances/1" in mail.get_payload()


def test_an_unreachable_mail_server_leaves_notifications_queued(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    with app.app_context():
        user("qa").email = "li.na@example.com"
        notifications.queue([user("qa").id], "message", "Hold lot L1")
        db.session.commit()
        assert notifications.send_pending() == 0
        [note] = db.session.scalars(select(Notification)).all()
        assert note.sent_at is None and note.sent_via is None
