"""Controlled documents (ISO 13485 4.2.4), their versions and the training on each version (6.2).
Written only by records.py and training.py, inside the transaction of the process step or the
signature that changes them, each change audited."""

from datetime import date

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import ProcessInstance, User
from ...models._types import UTCDateTime, utcnow

DOC_TYPES = ("sop", "work_instruction", "specification", "form", "dmr_dhf", "label")
STATUSES = ("draft", "in_review", "approved", "effective", "superseded", "obsolete")


class ControlledDocument(db.Model):
    """A controlled document: its number, title, type, owner, the periodic-review interval, the
    roles that must be trained on each version and the days they have for it."""

    __tablename__ = "controlled_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    doc_type: Mapped[str] = mapped_column(String(30))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    review_interval_days: Mapped[int] = mapped_column(Integer, default=730, server_default="730")
    training_roles: Mapped[list] = mapped_column(JSON, default=list)
    training_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    created_at = mapped_column(UTCDateTime, default=utcnow)
    owner: Mapped[User] = relationship()
    versions: Mapped[list["DocumentVersion"]] = relationship(
        back_populates="document", lazy="selectin", order_by="DocumentVersion.id"
    )


class DocumentVersion(db.Model):
    """One version (revision A, B, …) of a controlled document, kept by its document-control
    instance: status draft → in_review → approved → effective → superseded/obsolete, the files
    (attachment refs), the reviews, who approved it (signatures) and the dates of each state."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "version", name="uq_document_versions_document_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("controlled_documents.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), nullable=True, index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    change_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    files: Mapped[list] = mapped_column(JSON, default=list)
    reviews: Mapped[list] = mapped_column(JSON, default=list)
    approvals: Mapped[list] = mapped_column(JSON, default=list)
    # The training quiz: [{question, choices: [...], answer}] and the share of right answers it needs.
    quiz: Mapped[list] = mapped_column(JSON, default=list)
    pass_mark_pct: Mapped[int] = mapped_column(Integer, default=80, server_default="80")
    effective_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    submitted_at = mapped_column(UTCDateTime, nullable=True)
    approved_at = mapped_column(UTCDateTime, nullable=True)
    effective_at = mapped_column(UTCDateTime, nullable=True)
    superseded_at = mapped_column(UTCDateTime, nullable=True)
    obsolete_at = mapped_column(UTCDateTime, nullable=True)
    last_review_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    document: Mapped[ControlledDocument] = relationship(back_populates="versions")
    author: Mapped[User] = relationship()
    instance: Mapped[ProcessInstance | None] = relationship()
    training: Mapped[list["TrainingRecord"]] = relationship(
        back_populates="version", lazy="selectin", order_by="TrainingRecord.id"
    )


class TrainingRecord(db.Model):
    """One user's training on one document version: assigned (with a due date) when the version is
    approved, completed by a "read and understood" signature (printed name, time, hash of what was
    signed)."""

    __tablename__ = "training_records"
    __table_args__ = (UniqueConstraint("version_id", "user_id", name="uq_training_records_version_user"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(40), default="", server_default="")
    status: Mapped[str] = mapped_column(String(20), default="assigned", server_default="assigned")
    assigned_at = mapped_column(UTCDateTime, default=utcnow)
    due_at = mapped_column(UTCDateTime, nullable=True)
    completed_at = mapped_column(UTCDateTime, nullable=True)
    escalated_at = mapped_column(UTCDateTime, nullable=True)  # overdue: trainee and manager role told
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # quiz attempts
    quiz_score_pct: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the last attempt's score
    printed_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    meaning: Mapped[str | None] = mapped_column(String(40), nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[DocumentVersion] = relationship(back_populates="training")
    user: Mapped[User] = relationship()
