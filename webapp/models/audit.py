"""The audit trail: who did what, when, to which record, with values before and after."""

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """One audited action. Rows are only ever inserted; each carries the hash of its predecessor
    (by `seq`) and of its own canonical content, so any edit, deletion or reordering shows."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    at = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    client_addr: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditCheckpoint(db.Model):
    """The head of the audit chain, kept apart from the events (one row, id 1): the last event's
    `seq` and hash and how many events the trail holds, moved forward in the same transaction as
    every append. Cutting events off the end of the trail leaves a chain that links up, but that
    ends before the checkpoint. Triggers refuse deleting the row and moving it backwards."""

    __tablename__ = "audit_checkpoint"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_checkpoint_single_row"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    head_seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    events: Mapped[int] = mapped_column(Integer)
    at = mapped_column(UTCDateTime, nullable=False)
