"""Record numbers like CC-2026-0001 or SH-2026-0001: per prefix and year, taken atomically."""

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..models import BusinessKeyCounter
from ..models._types import utcnow


def next_number(session, prefix):
    """The next number for `prefix` this year. One statement creates the year's counter or moves it
    on (INSERT … ON CONFLICT DO UPDATE … RETURNING, on SQLite and PostgreSQL alike), so two first
    numbers of a year taken at the same moment cannot both insert the counter row; the row lock the
    update takes orders concurrent takers until their commit."""
    year = utcnow().year
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = BusinessKeyCounter.__table__
    statement = (
        insert(table)
        .values(prefix=prefix, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.prefix, table.c.year], set_={"last_number": table.c.last_number + 1}
        )
        .returning(table.c.last_number)
    )
    number = session.execute(statement).scalar_one()
    return f"{prefix}-{year}-{number:04d}"
