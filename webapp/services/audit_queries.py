"""Finding audit events for QA and inspectors: filters, per-record trails, exports."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from ..errors import InvalidInput
from ..extensions import db
from ..models import AuditEvent


@dataclass(frozen=True)
class EventFilter:
    """Filters of the global audit view; empty values do not filter."""

    user: str = ""
    action: str = ""
    entity_type: str = ""
    entity_id: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, args):
        """Build from query-string arguments; dates as YYYY-MM-DD."""
        try:
            parse = lambda v: date.fromisoformat(v) if v else None  # noqa: E731
            return cls(
                args.get("user", "").strip(),
                args.get("action", "").strip(),
                args.get("entity_type", "").strip(),
                args.get("entity_id", "").strip(),
                parse(args.get("date_from")),
                parse(args.get("date_to")),
            )
        except ValueError:
            raise InvalidInput("dates must be YYYY-MM-DD", {"date": "YYYY-MM-DD"}) from None

    def query(self):
        """The SELECT for these filters, in chain order."""
        q = select(AuditEvent)
        if self.user:
            q = q.where(AuditEvent.actor_name == self.user)
        if self.action.endswith("."):  # a group, e.g. "task.": every action in it
            q = q.where(AuditEvent.action.startswith(self.action, autoescape=True))
        elif self.action:
            q = q.where(AuditEvent.action == self.action)
        if self.entity_type:
            q = q.where(AuditEvent.entity_type == self.entity_type)
        if self.entity_id:
            q = q.where(AuditEvent.entity_id == self.entity_id)
        if self.date_from:
            q = q.where(AuditEvent.at >= datetime.combine(self.date_from, time.min, UTC))
        if self.date_to:
            q = q.where(AuditEvent.at < datetime.combine(self.date_to + timedelta(days=1), time.min, UTC))
        return q.order_by(AuditEvent.seq)


def find_events(event_filter, limit=None, offset=0, newest_first=False, before=None):
    """Events matching the filter, oldest first (newest first when asked, then only those older than
    seq `before`: the next page of the global trail, by key, however long the trail is)."""
    q = event_filter.query()
    if newest_first:
        q = q.order_by(None).order_by(AuditEvent.seq.desc())
        if before is not None:
            q = q.where(AuditEvent.seq < before)
    if limit is not None:
        q = q.limit(limit).offset(offset)
    return db.session.scalars(q).all()


def filter_choices():
    """What the filter dropdowns offer: the actions recorded so far (and their groups, "task."), and
    the users who can appear as actors (the accounts and the system's own actors)."""
    from ..models import User

    actions = sorted(db.session.scalars(select(AuditEvent.action).distinct()))
    groups = sorted({a.split(".", 1)[0] + "." for a in actions if "." in a})
    users = sorted(db.session.scalars(select(User.username))) + ["system", "system:scheduler"]
    return {"actions": actions, "groups": groups, "users": users}


CSV_HEADER = [
    "seq",
    "at_utc",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "reason",
    "request_id",
    "client_addr",
    "prev_hash",
    "hash",
]


CHECKPOINT_HEADER = ["checkpoint_seq", "checkpoint_hash", "checkpoint_events", "checkpoint_at_utc"]


def csv_rows(events, checkpoint=None):
    """Rows for the CSV export (JSON text for before/after), header first; after the events, an
    empty row and the audit checkpoint read before them (header and values), which anchors the
    copy: a later trail that ends before this seq, or differs at it, was cut."""
    from .audit import canonical_json

    yield CSV_HEADER
    for e in events:
        yield [
            e.seq,
            e.at.isoformat(),
            e.actor_name,
            e.action,
            e.entity_type,
            e.entity_id,
            canonical_json(e.before) if e.before is not None else "",
            canonical_json(e.after) if e.after is not None else "",
            e.reason or "",
            e.request_id or "",
            e.client_addr or "",
            e.prev_hash,
            e.hash,
        ]
    if checkpoint is not None:
        yield []
        yield CHECKPOINT_HEADER
        yield [checkpoint["seq"], checkpoint["hash"], checkpoint["events"], checkpoint["at"]]
