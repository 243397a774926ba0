"""Complaint records: one row per complaint process instance and one per regulator report. Written
only by records.py, inside the transaction that drives the complaint, each change audited."""

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import ProcessInstance
from ...models._types import UTCDateTime, utcnow


class Complaint(db.Model):
    """A complaint (FDA 820.35(a) record): what was received, when the company became aware, the
    device (material, lot, serial, UDI), the event and outcome, the markets the lot reached (from the
    ERP trace), the QA assessment, the investigation, the response and the closure."""

    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), unique=True)
    business_key: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    received_by: Mapped[str] = mapped_column(String(80))
    awareness_at = mapped_column(UTCDateTime, nullable=False, index=True)
    customer_code: Mapped[str] = mapped_column(String(40))
    material_code: Mapped[str] = mapped_column(String(40), index=True)
    lot_number: Mapped[str] = mapped_column(String(40), index=True)
    serial: Mapped[str] = mapped_column(String(40), default="", server_default="")
    udi: Mapped[str] = mapped_column(String(120), default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    patient_involved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    outcome: Mapped[str] = mapped_column(String(20))
    device_available: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    attachment_ref: Mapped[str] = mapped_column(String(200), default="", server_default="")
    related_complaint: Mapped[str] = mapped_column(String(40), default="", server_default="")
    markets: Mapped[list] = mapped_column(JSON, default=list)
    failure_code: Mapped[str] = mapped_column(String(30), default="", server_default="", index=True)
    is_complaint: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reportable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    assessment: Mapped[dict] = mapped_column(JSON, default=dict)
    trend: Mapped[dict] = mapped_column(JSON, default=dict)
    investigation: Mapped[dict] = mapped_column(JSON, default=dict)
    response: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open", index=True)
    closed_at = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str] = mapped_column(String(80), default="", server_default="")
    closure_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at = mapped_column(UTCDateTime, default=utcnow)
    instance: Mapped[ProcessInstance] = relationship()
    reports: Mapped[list["ComplaintReport"]] = relationship(
        back_populates="complaint", lazy="selectin", order_by="ComplaintReport.id"
    )


class ComplaintReport(db.Model):
    """One regulator report a complaint requires in one market under one rule of the reportability
    tables: its deadline from the awareness time, the 50%/80% reminders and the overdue mark (each
    set once, by the report task's timers), and the signed submission."""

    __tablename__ = "complaint_reports"
    __table_args__ = (UniqueConstraint("complaint_id", "market", "rule", name="uq_complaint_reports_market_rule"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    market: Mapped[str] = mapped_column(String(10))
    rule: Mapped[str] = mapped_column(String(40))
    report_form: Mapped[str] = mapped_column(String(20))
    period: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(10))
    planned_at = mapped_column(UTCDateTime, nullable=False)
    due_at = mapped_column(UTCDateTime, nullable=False, index=True)
    escalate_50_at = mapped_column(UTCDateTime, nullable=False)
    escalate_80_at = mapped_column(UTCDateTime, nullable=False)
    escalated_50_at = mapped_column(UTCDateTime, nullable=True)
    escalated_80_at = mapped_column(UTCDateTime, nullable=True)
    overdue_at = mapped_column(UTCDateTime, nullable=True)
    started_at = mapped_column(UTCDateTime, nullable=True)
    submitted_at = mapped_column(UTCDateTime, nullable=True)
    submitted_by: Mapped[str] = mapped_column(String(80), default="", server_default="")
    report_number: Mapped[str] = mapped_column(String(80), default="", server_default="")
    report_date: Mapped[str] = mapped_column(String(10), default="", server_default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    lateness_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    complaint: Mapped[Complaint] = relationship(back_populates="reports")
