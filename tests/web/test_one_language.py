"""One language on a page (issue 13, point 7) and one clock (point 8): notifications, service errors,
task instructions, enum values, roles and audit actions in the reader's language; times in the
site's zone with the zone shown."""

from datetime import timedelta
from email.header import decode_header, make_header

from sqlalchemy import select

from tests.helpers import Browser, user
from tests.integration.test_notifications import _free_port, smtp_server  # noqa: F401 (fixture)
from webapp.extensions import db
from webapp.models import HumanTaskRow
from webapp.models._types import utcnow
from webapp.services import notifications


def _english(browser):
    browser.post("/locale", {"locale": "en", "next": "/"})


def _overdue_task_for(app, username):
    """Start a change as `username`, make its first task overdue and run the reminders."""
    browser = Browser(app, username)
    assert browser.post("/processes/change_control/start").status_code == 302
    with app.app_context():
        row = db.session.scalars(select(HumanTaskRow).where(HumanTaskRow.completed_at.is_(None))).first()
        row.due_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        assert notifications.remind_due() >= 1
    return browser


def test_notifications_are_shown_in_the_readers_language_and_old_rows_keep_their_text(app):
    browser = _overdue_task_for(app, "requester")
    with app.app_context():
        notifications.queue([user("requester").id], "message", "Please review CK-100 (stored text)")
        db.session.commit()
    zh = browser.get("/").get_data(as_text=True)
    assert "已逾期：" in zh and "Overdue:" not in zh and "A task is waiting" not in zh
    assert "Please review CK-100 (stored text)" in zh
    _english(browser)
    en = browser.get("/").get_data(as_text=True)
    assert "Overdue:" in en and "已逾期" not in en and "Please review CK-100 (stored text)" in en
    with app.app_context():  # the stored text stays English (log, API)
        row = db.session.scalars(
            select(notifications.Notification).where(notifications.Notification.kind == "overdue")
        ).first()
        assert row.subject.startswith("Overdue: ") and row.message["subject"] == "Overdue: %(title)s (%(key)s)"


def test_notification_mail_is_written_in_the_recipients_language(app, smtp_server):  # noqa: F811
    host, port, received = smtp_server
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port)
    qa = Browser(app, "qa")
    _english(qa)
    with app.app_context():
        user("qa").email, user("requester").email = "qa@example.com", "req@example.com"
        msg = notifications.message(
            "Due soon: %(title)s (%(key)s)", "Due %(due)s.", title="T", key="CR-1", due=notifications.when(utcnow())
        )
        notifications.queue([user("qa").id, user("requester").id], "due_soon", *notifications.english(msg), message=msg)
        db.session.commit()
        assert notifications.send_pending() == 2
    by_to = {m["To"]: m for m in received}
    assert by_to["qa@example.com"]["Subject"] == "Due soon: T (CR-1)"
    assert str(make_header(decode_header(by_to["req@example.com"]["Subject"]))) == "即将到期：T（CR-1）"
