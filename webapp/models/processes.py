"""Deployed process versions, their instances and the human-task index for inbox queries."""

from datetime import UTC, datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow
from .users import User

NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)  # sorts after every real due date


class Deployment(db.Model):
    """One upload of a bundle: who, when, why, and whether QA approved it (when approval is on)."""

    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(primary_key=True)
    comment: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | pending | rejected
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deployed_at = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at = mapped_column(UTCDateTime, nullable=True)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    versions: Mapped[list["ProcessVersion"]] = relationship(back_populates="deployment", order_by="ProcessVersion.key")
    deployed_by: Mapped[User | None] = relationship(foreign_keys=[deployed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class ProcessVersion(db.Model):
    """An immutable deployed version of one process: its files and its serialized spec."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("key", "version"), UniqueConstraint("key", "content_hash"))
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    start_roles: Mapped[list] = mapped_column(JSON, default=list)
    business_key_prefix: Mapped[str] = mapped_column(String(20), default="")
    start_messages: Mapped[list] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(String(500), default="")
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deployed_at = mapped_column(UTCDateTime, default=utcnow)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | pending | rejected
    deployment: Mapped["Deployment | None"] = relationship(back_populates="versions")
    files: Mapped[list["ProcessFile"]] = relationship(
        back_populates="version", lazy="select", order_by="ProcessFile.name", cascade="all, delete-orphan"
    )
    deployed_by: Mapped[User | None] = relationship()

    @property
    def file_texts(self):
        """Mapping of file name to text for every source file of this version."""
        return {f.name: f.text for f in self.files}


class ProcessFile(db.Model):
    """One BPMN, DMN or form source file of a version, stored verbatim."""

    __tablename__ = "process_files"
    __table_args__ = (UniqueConstraint("version_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[ProcessVersion] = relationship(back_populates="files")


class ProcessInstance(db.Model):
    """A running or finished process: lean engine state plus what lists and the API show."""

    __tablename__ = "process_instances"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    business_key: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    initiator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state_json: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    completed_at = mapped_column(UTCDateTime, nullable=True)
    next_timer_at = mapped_column(UTCDateTime, nullable=True, index=True)
    version: Mapped[ProcessVersion] = relationship(lazy="joined")
    initiator: Mapped[User] = relationship()
    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012 - SQLAlchemy reads it once


class HumanTaskRow(db.Model):
    """One row per ready (or once ready) human task, so the inbox needs no engine."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        # The inbox reads open rows only, in (due_key, id) order, one index range per branch (a role's
        # unclaimed queue, a user's claimed tasks): partial indexes, so completed history costs nothing.
        Index(
            "ix_human_tasks_inbox_role",
            "candidate_role",
            "due_key",
            "id",
            "assignee_id",  # the partial index's own columns too: SQLite then counts from the index alone
            "completed_at",
            sqlite_where=text("completed_at IS NULL AND assignee_id IS NULL"),
            postgresql_where=text("completed_at IS NULL AND assignee_id IS NULL"),
        ),
        Index(
            "ix_human_tasks_inbox_role_process",
            "candidate_role",
            "process_key",
            "due_key",
            "id",
            sqlite_where=text("completed_at IS NULL AND assignee_id IS NULL"),
            postgresql_where=text("completed_at IS NULL AND assignee_id IS NULL"),
        ),
        Index(
            "ix_human_tasks_open_business_key",
            "business_key",
            sqlite_where=text("completed_at IS NULL"),
            postgresql_where=text("completed_at IS NULL"),
        ),
        Index(
            "ix_human_tasks_open_due",
            "due_at",
            sqlite_where=text("completed_at IS NULL AND due_at IS NOT NULL"),
            postgresql_where=text("completed_at IS NULL AND due_at IS NOT NULL"),
        ),
        Index(
            "ix_human_tasks_inbox_assignee",
            "assignee_id",
            "due_key",
            "id",
            sqlite_where=text("completed_at IS NULL"),
            postgresql_where=text("completed_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str] = mapped_column(String(255), default="")
    type: Mapped[str] = mapped_column(String(20))
    lane: Mapped[str | None] = mapped_column(String(120))
    instructions: Mapped[str] = mapped_column(Text, default="")
    form_file: Mapped[str | None] = mapped_column(String(255))
    form_ui_file: Mapped[str | None] = mapped_column(String(255))
    signature_properties: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # The task's `requires…` properties (requiresTraining, requiresReleasedDocuments): the gates that
    # services/tasks checks before a claim or completion, and the inbox explains.
    gate_properties: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    candidate_role: Mapped[str | None] = mapped_column(String(80))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_at = mapped_column(UTCDateTime, nullable=True)
    # due_at, or NO_DUE_DATE when the task has none: the inbox's sort key, never NULL, so keyset
    # pages are one comparison on both databases (they order NULLs differently).
    due_key = mapped_column(UTCDateTime, nullable=False, default=lambda: NO_DUE_DATE)
    # Copied from the instance when the row is written (both never change): inbox filters and
    # search need no join.
    process_key: Mapped[str] = mapped_column(String(120), default="", server_default="")
    business_key: Mapped[str] = mapped_column(String(40), default="", server_default="")
    escalate_role: Mapped[str | None] = mapped_column(String(80), nullable=True)  # told too when overdue
    created_at = mapped_column(UTCDateTime, default=utcnow)
    completed_at = mapped_column(UTCDateTime, nullable=True)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), default="ready")
    reminded: Mapped[str | None] = mapped_column(String(20), nullable=True)  # due_soon | overdue, once each
    submitted_data: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    instance: Mapped[ProcessInstance] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])


class BusinessKeyCounter(db.Model):
    """The last number issued per business-key prefix and year (CC-2026-0001, …)."""

    __tablename__ = "business_key_counters"
    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
