"""Recall records: one row per recall process instance (scope, hold, reconciliation, closure) and
one notice per customer in the scope. Written only by services/recalls.py, inside the task
transaction that drives the recall, each change with an audit event."""

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import Customer, ProcessInstance
from ...models._types import UTCDateTime, utcnow


class Recall(db.Model):
    """A recall (or a recall drill) of the lots a process instance names.

    `scope` is the forward trace of every affected lot (lots, serials, customers with quantities,
    stock per location) as taken at `scoped_at`; time-to-scope is `scoped_at - started_at`.
    `held` lists the lots put on hold (empty in a drill); `reconciliation` the last reconciliation."""

    __tablename__ = "recalls"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), unique=True)
    business_key: Mapped[str] = mapped_column(String(40), unique=True)
    drill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    title: Mapped[str] = mapped_column(String(255), default="", server_default="")
    source: Mapped[str] = mapped_column(String(40), default="", server_default="")
    source_ref: Mapped[str] = mapped_column(String(120), default="", server_default="")
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    classification: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at = mapped_column(UTCDateTime, nullable=False)
    scoped_at = mapped_column(UTCDateTime, nullable=True)
    scope: Mapped[dict] = mapped_column(JSON, default=dict)
    held: Mapped[list] = mapped_column(JSON, default=list)
    held_at = mapped_column(UTCDateTime, nullable=True)
    reconciliation: Mapped[dict] = mapped_column(JSON, default=dict)
    reconciled_at = mapped_column(UTCDateTime, nullable=True)
    closed_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    instance: Mapped[ProcessInstance] = relationship()
    notices: Mapped[list["RecallNotice"]] = relationship(
        back_populates="recall", lazy="selectin", order_by="RecallNotice.id"
    )

    @property
    def time_to_scope_seconds(self):
        """Seconds from the start of the recall to its scope, or None before the scope."""
        if self.scoped_at is None:
            return None
        return round((self.scoped_at - self.started_at).total_seconds(), 3)


class RecallNotice(db.Model):
    """The recall notice to one customer: what it received (products, lots, serials, quantities,
    UDIs), when the notice was generated and its deadline, and the customer's acknowledgement."""

    __tablename__ = "recall_notices"
    __table_args__ = (UniqueConstraint("recall_id", "customer_id", name="uq_recall_notices_recall_customer"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recalls.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("erp_customers.id"), index=True)
    lines: Mapped[list] = mapped_column(JSON, default=list)
    quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    action: Mapped[str] = mapped_column(Text, default="", server_default="")
    generated_at = mapped_column(UTCDateTime, nullable=False)
    deadline = mapped_column(UTCDateTime, nullable=True)
    escalated_at = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at = mapped_column(UTCDateTime, nullable=True)
    response: Mapped[dict] = mapped_column(JSON, default=dict)
    recall: Mapped[Recall] = relationship(back_populates="notices")
    customer: Mapped[Customer] = relationship(lazy="joined")
