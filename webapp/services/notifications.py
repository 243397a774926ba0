"""Notifications: queued in the causing transaction, sent by e-mail (SMTP) or to the log, and shown
in the user's inbox until read. Reminders for tasks due soon and overdue run from the scheduler."""

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, format_datetime, get_locale, gettext
from sqlalchemy import select

from ..extensions import db
from ..models import HumanTaskRow, Notification, Role, User, user_roles
from ..models._types import utcnow
from .uow import serialized, transaction

log = logging.getLogger("traceflow.notifications")
DUE_SOON = timedelta(days=1)


def recipients(role=None, user_id=None):
    """Ids of the active users holding `role`, or of the one user (one query, no user objects)."""
    query = select(User.id).where(User.active.is_(True))
    if user_id is not None:
        query = query.where(User.id == user_id)
    else:
        query = query.join(user_roles, user_roles.c.user_id == User.id).join(Role).where(Role.name == role)
    return db.session.scalars(query).all()


def queue(user_ids, kind, subject, body="", link=None, message=None):
    """Add one notification per user id to the current transaction. `message` (from `message()`)
    makes it readable in each reader's language; `subject`/`body` are then its English text (the
    log, the API, and what is shown should the message not render)."""
    for user_id in dict.fromkeys(user_ids):
        db.session.add(Notification(user_id=user_id, kind=kind, subject=subject, body=body, link=link, message=message))


def message(subject, body="", **params):
    """A notification as English msgids with named parameters (%(name)s). A parameter is a string,
    a {"zh": …, "en": …} pair (a task's title) or {"at": ISO datetime} (shown in the site's zone)."""
    return {"subject": subject, "body": body, "params": params}


def when(value):
    """A datetime parameter for `message()`."""
    return {"at": value.isoformat()}


def in_languages(zh, en=None):
    """A parameter with a Chinese and an English value (the English one falls back to the Chinese)."""
    return {"zh": zh, "en": en or zh}


def english(msg):
    """(subject, body) of `message()` in English, without a request (what is stored beside it)."""
    params = {k: _param(v, "en", english_time=True) for k, v in msg["params"].items()}
    return (msg["subject"] % params)[:300], (msg["body"] % params) if msg["body"] else ""


def _param(value, language, english_time=False):
    if not isinstance(value, dict):
        return value
    if "at" in value:
        at = datetime.fromisoformat(value["at"])
        return f"{at:%Y-%m-%d %H:%M} UTC" if english_time else format_datetime(at, "yyyy-MM-dd HH:mm (zzz)")
    return value.get(language) or value.get("zh") or value.get("en") or ""


def text(note):
    """(subject, body) of a notification in the current language; a row without a message (older
    ones, free text) keeps its stored text."""
    msg = note.message
    if not msg:
        return note.subject, note.body
    language = "en" if str(get_locale()).startswith("en") else "zh"  # as i18n.current_language (no cycle)
    params = {k: _param(v, language) for k, v in (msg.get("params") or {}).items()}
    try:
        subject = gettext(msg["subject"], **params)
        body = gettext(msg["body"], **params) if msg.get("body") else ""
    except (KeyError, ValueError, TypeError):  # a catalogue entry with a wrong placeholder
        return note.subject, note.body
    return subject, body


def _queue_message(user_ids, kind, link, subject, body="", **params):
    msg = message(subject, body, **params)
    queue(user_ids, kind, *english(msg), link=link, message=msg)


def task_ready(row, initiator_id):
    """Tell the one person a new task is assigned to: its assignee (`assignTo`), or the initiator of a
    lane-less task. Other lane tasks wait in their role's queue for whoever claims them (the inbox
    shows them; due reminders follow)."""
    person = row.assignee_id or (initiator_id if row.candidate_role is None else None)
    if person is not None:
        _queue_message(
            [person],
            "task_assigned",
            f"/tasks/{row.task_id}",
            "A task is waiting for you: %(title)s",
            "A task is waiting for you: %(title)s.",
            title=in_languages(row.title, row.title_en),
        )


def remind_due(now=None):
    """Queue 'due soon' and 'overdue' reminders once per open task; the number queued."""
    now, count = now or utcnow(), 0
    with transaction() as session:
        serialized(session, "notifications.remind_due")  # several app processes: each reminder once
        rows = session.scalars(
            select(HumanTaskRow).where(
                HumanTaskRow.completed_at.is_(None),
                HumanTaskRow.due_at.is_not(None),
                HumanTaskRow.due_at <= now + DUE_SOON,
            )
        ).all()
        for row in rows:
            kind = "overdue" if row.due_at <= now else "due_soon"
            if row.reminded == kind or (row.reminded == "overdue"):
                continue
            users = (
                [row.assignee_id]
                if row.assignee_id
                else recipients(role=row.candidate_role)
                if row.candidate_role
                else recipients(user_id=row.instance.initiator_id)
            )
            _queue_message(
                users,
                kind,
                f"/tasks/{row.task_id}",
                "Overdue: %(title)s (%(key)s)" if kind == "overdue" else "Due soon: %(title)s (%(key)s)",
                "Due %(due)s.",
                title=in_languages(row.title, row.title_en),
                key=row.instance.business_key,
                due=when(row.due_at),
            )
            row.reminded, count = kind, count + len(users)
            if kind == "overdue" and row.escalate_role:
                count += _escalate(row, set(users))
    return count


def _escalate(row, told):
    """Tell the members of the task's `escalateTo` role (not already told) that it is overdue."""
    managers = [u for u in recipients(role=row.escalate_role) if u not in told]
    _queue_message(
        managers,
        "escalated",
        f"/tasks/{row.task_id}",
        "Escalated, overdue: %(title)s (%(key)s)",
        "Due %(due)s; assigned to role %(role)s.",
        title=in_languages(row.title, row.title_en),
        key=row.instance.business_key,
        due=when(row.due_at),
        role=row.candidate_role or "-",
    )
    return len(managers)


def send_pending(limit=200):
    """Send queued notifications by SMTP when MAIL_SERVER is set, else write them to the log; the
    number sent. A notification is marked sent only after the server accepted it; when the server
    cannot be reached or refuses a message, it stays queued for the next run (and is logged)."""
    server = current_app.config.get("MAIL_SERVER")
    sent = 0
    with transaction() as session:
        pending = session.scalars(
            select(Notification)
            .where(Notification.sent_at.is_(None))
            .order_by(Notification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        with _Mailer(server) as mailer:
            for note in pending:
                user = session.get(User, note.user_id)
                if server and getattr(user, "email", None):
                    with force_locale(user.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")):
                        subject, body = text(note)
                    if not mailer.send(user.email, note, subject, body):
                        continue
                    note.sent_via = "smtp"
                else:
                    log.info("notification to %s: %s", user.username if user else note.user_id, note.subject)
                    note.sent_via = "log"
                note.sent_at, sent = utcnow(), sent + 1
    return sent


class _Mailer:
    """One SMTP connection for a batch, opened on the first message; failures are logged, not raised."""

    def __init__(self, server):
        self.server, self.smtp, self.broken = server, None, False

    def __enter__(self):
        return self

    def send(self, address, note, subject, body):
        """True when the server accepted the message (`subject`, `body`: in the recipient's language)."""
        if self.broken:
            return False
        message = EmailMessage()
        message["From"] = current_app.config.get("MAIL_FROM", "traceflow@localhost")
        message["To"], message["Subject"] = address, subject
        message.set_content(f"{body}\n\n{note.link or ''}")
        try:
            if self.smtp is None:
                self.smtp = smtplib.SMTP(self.server, current_app.config.get("MAIL_PORT", 25), timeout=10)
            self.smtp.send_message(message)
            return True
        except smtplib.SMTPRecipientsRefused as exc:
            log.warning("mail server refused %s for notification %s: %s", address, note.id, exc)
            return False
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("mail server %s unavailable, notifications stay queued: %s", self.server, exc)
            self.broken = True
            return False

    def __exit__(self, *exc):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
        return False


def unread(user, limit=20):
    """The user's unread notifications, newest first."""
    return db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.id.desc())
        .limit(limit)
    ).all()


def mark_read(user, notification_id=None):
    """Mark one (or all) of the user's notifications read."""
    with transaction() as session:
        query = select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        if notification_id is not None:
            query = query.where(Notification.id == notification_id)
        for note in session.scalars(query):
            note.read_at = utcnow()
