"""Record numbers like CC-2026-0001 or SH-2026-0001: per prefix and year, under a row lock."""

from sqlalchemy import select

from ..models import BusinessKeyCounter
from ..models._types import utcnow


def next_number(session, prefix):
    """The next number for `prefix` this year, taken under a row lock (SELECT … FOR UPDATE)."""
    year = utcnow().year
    counter = session.scalar(
        select(BusinessKeyCounter)
        .where(BusinessKeyCounter.prefix == prefix, BusinessKeyCounter.year == year)
        .with_for_update()
    )
    if counter is None:
        counter = BusinessKeyCounter(prefix=prefix, year=year, last_number=0)
        session.add(counter)
    counter.last_number += 1
    return f"{prefix}-{year}-{counter.last_number:04d}"
