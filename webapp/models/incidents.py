"""Incidents: a service task failed while a process moved on; nothing was saved, it can be retried."""

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow
from .users import User


class Incident(db.Model):
    """What failed (operation, error), which task completion triggered it and with which data."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    operation: Mapped[str] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    raised_at = mapped_column(UTCDateTime, default=utcnow)
    resolved_at = mapped_column(UTCDateTime, nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
