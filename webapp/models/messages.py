"""The outbox of messages and signals between instances, and who waits for which name."""

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._types import UTCDateTime, utcnow


class OutboxMessage(db.Model):
    """A message or signal thrown by an instance, written with the state that threw it."""

    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    event: Mapped[dict] = mapped_column(JSON)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    delivered_at = mapped_column(UTCDateTime, nullable=True, index=True)
    delivered_to: Mapped[list | None] = mapped_column(JSON, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)  # why the last attempt delivered nothing
    # A delivery that failed (not one nobody took) is tried again after a back-off; other rows go on.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at = mapped_column(UTCDateTime, nullable=True, index=True)


class MessageSubscription(db.Model):
    """A running instance waiting for a message or signal name."""

    __tablename__ = "message_subscriptions"
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
