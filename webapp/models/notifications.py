"""Notifications to users: written in the transaction that causes them, sent later (outbox)."""

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._types import UTCDateTime, utcnow


class Notification(db.Model):
    """One message to one user: shown in their inbox, e-mailed when SMTP is configured, else logged."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # task_assigned | due_soon | overdue | escalated | message
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    sent_at = mapped_column(UTCDateTime, nullable=True, index=True)
    sent_via: Mapped[str | None] = mapped_column(String(20), nullable=True)
    read_at = mapped_column(UTCDateTime, nullable=True)
    # {"subject": msgid, "body": msgid, "params": {...}}: rendered in the reader's language; rows
    # without it (older ones, free-text messages) show the stored subject and body.
    message: Mapped[dict | None] = mapped_column(JSON, nullable=True)
