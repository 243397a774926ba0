"""The unit of work: one transaction per service call, rolled back unless it completes.

Service calls nest: a service that runs inside another's transaction (an ERP action called by a
BPMN service task while a task is being completed) joins it instead of committing on its own, so
workflow state, ERP records and audit events commit together or not at all.
"""

import zlib
from contextlib import contextmanager

from sqlalchemy import text

from ..extensions import db

_DEPTH = "traceflow_transaction_depth"


@contextmanager
def transaction():
    """Yield the session; the outermost block commits when it finishes, any exception rolls back."""
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        if depth == 0:
            _write_lock_on_sqlite(session)
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def _write_lock_on_sqlite(session):
    """SQLite: take the database's write lock before the unit of work reads anything (BEGIN
    IMMEDIATE), so its read-then-write steps (the next business key, the audit chain's head, a
    task's state) cannot interleave with another writer's: SELECT … FOR UPDATE is a no-op there, and
    a deferred transaction would read a snapshot another writer then invalidates. Concurrent units
    of work wait for the lock (busy_timeout) instead of failing. PostgreSQL locks rows instead."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if not raw.in_transaction:  # a write before this unit of work holds the lock already
        raw.execute("BEGIN IMMEDIATE")


@contextmanager
def independent_transaction():
    """After a rollback: a transaction of its own that commits even inside an outer service call
    (used to keep the audit record of a refusal while the refused change is discarded)."""
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = 0
    try:
        with transaction() as inner:
            yield inner
    finally:
        session.info[_DEPTH] = depth


def serialized(session, name):
    """Make concurrent units of work named `name` run one after the other (several app processes
    running the same scheduled job): on PostgreSQL a transaction-scoped advisory lock, released at
    commit or rollback, which the second process waits for before it reads anything. SQLite allows
    one writer at a time already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())})
