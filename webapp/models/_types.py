"""Column helpers shared by the models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator

# The largest value of an INTEGER column on PostgreSQL (ids, versions, quantities, counts): a bigger
# number fails the query (`integer out of range`), so requests and imports refuse it first.
MAX_INT = 2**31 - 1
# Day counts added to dates (shelf life): a century keeps the arithmetic inside the calendar.
MAX_DAYS = 36_500


def utcnow():
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored; use timezone-aware UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None
