"""Columns every GxP master record carries: creation, last change and voiding (never deleting)."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ._types import UTCDateTime, utcnow


class VoidableRecord:
    """Mixin: created/updated timestamps and voided_at/voided_by/void_reason instead of DELETE."""

    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    voided_at = mapped_column(UTCDateTime, nullable=True)
    void_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)

    @declared_attr
    def voided_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"), nullable=True)

    @property
    def voided(self):
        """True once the record is voided."""
        return self.voided_at is not None
