"""Attachments: an uploaded file's metadata; its bytes live in the file store under their SHA-256."""

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow
from .users import User


class Attachment(db.Model):
    """One upload: its sanitized name, size, detected content type and the SHA-256 of its bytes.

    `owner_type`/`owner_id` name what it is attached to (a task, a controlled document version) once
    that record keeps it; `locked_at` is set when that record becomes final (the task completed, the
    document approved): from then on the attachment can be neither removed nor attached elsewhere."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(120))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)
    owner_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    locked_at = mapped_column(UTCDateTime, nullable=True)
    uploaded_by: Mapped[User] = relationship()

    def ref(self):
        """What a form's data keeps of it: id, name, size and hash."""
        return {"id": self.id, "name": self.name, "size": self.size, "sha256": self.sha256}
