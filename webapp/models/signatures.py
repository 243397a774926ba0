"""Electronic signatures (21 CFR 11.50/11.70): who signed what, when, with which meaning."""

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow
from .users import User


class Signature(db.Model):
    """One signature on a task: the signer, the meaning, the server time and the SHA-256 of the
    canonical JSON of exactly what was signed (kept beside it, so it can be shown and re-verified)."""

    __tablename__ = "signatures"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(30), default="task")  # task | deployment
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    bpmn_id: Mapped[str] = mapped_column(String(120))
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    printed_name: Mapped[str] = mapped_column(String(200))
    signed_at = mapped_column(UTCDateTime, default=utcnow)
    meaning: Mapped[str] = mapped_column(String(40))
    content: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    signer: Mapped[User] = relationship()
