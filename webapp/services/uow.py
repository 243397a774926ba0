"""The unit of work: one transaction per service call, rolled back unless it completes."""
from contextlib import contextmanager

from ..extensions import db


@contextmanager
def transaction():
    """Yield the session; commit when the block finishes, roll back on any exception."""
    session = db.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
