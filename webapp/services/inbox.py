"""The inbox at scale: a user's open tasks, filtered, counted and paged by keyset.

A user's inbox is the union of disjoint branches — the tasks they claimed, the unclaimed queue of
each of their roles, and lane-less tasks of instances they started. Each branch is one range of a
partial index over open rows in (due_key, id) order (models/processes.py), read with a LIMIT, and
the branches are merged here: a page costs the same with 100 or 100,000 open tasks, and a million
completed ones cost nothing. The count is one COUNT per branch over the same ranges.

The cursor is opaque to clients (base64 of the last row's sort key); a page never skips or repeats a
row that stays open, whatever is completed or added meanwhile.
"""

import base64
import heapq
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import defer, joinedload
from sqlalchemy.sql.elements import ColumnElement

from ..errors import InvalidInput
from ..extensions import db
from ..models import HumanTaskRow, ProcessInstance
from ..models._types import utcnow
from .notifications import DUE_SOON

SORTS = ("due", "newest", "oldest")
BUSINESS_KEY = re.compile(r"[A-Za-z]{2,10}-\d{4}-\d{4,}")  # CC-2026-0001: searched exactly, by index
DUE_FILTERS = ("overdue", "soon")
DEFAULT_PAGE = 50
# Counting stops here: an exact count reads every matching index entry (12 ms per 100k on
# PostgreSQL), a capped one at most this many, and "10,000+" tells a person as much.
COUNT_CAP = 10_000
MAX_PAGE = 200


@dataclass(frozen=True)
class InboxQuery:
    """What the user asked for: every field narrows the inbox (None: no narrowing)."""

    mine: bool = False  # only tasks the user claimed
    process_instance_id: int | None = None
    process: str | None = None  # a process key
    role: str | None = None  # one of the user's roles
    q: str | None = None  # search in task title and business key
    due: str | None = None  # "overdue" | "soon" (due within DUE_SOON)
    sort: str = "due"  # "due" (soonest first, undated last) | "newest" | "oldest"


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox: its rows, how many open tasks match in all, the cursor of the next page."""

    rows: list[HumanTaskRow]
    total: int
    next_cursor: str | None = None
    capped: bool = False  # more than COUNT_CAP match: `total` is COUNT_CAP ("10,000+")
    counts: dict[str, int] = field(default_factory=dict)  # per branch: "mine", each role, "initiator"


def page(
    user: Any, query: InboxQuery, limit: int = DEFAULT_PAGE, cursor: str | None = None, now: datetime | None = None
) -> InboxPage:
    """The page of `user`'s inbox after `cursor` (None: the first page), at most `limit` rows."""
    _check(user, query, limit)
    now = now or utcnow()
    after = _decode(cursor, query.sort)
    branches = _branches(user, query)
    common = _filters(query, now)
    counts = _counts([(name, [*common, where]) for name, where in branches])
    rows: list[list[HumanTaskRow]] = [
        list(db.session.scalars(_rows([*common, where], query.sort, after, limit + 1)))
        for name, where in branches
        if counts[name]
    ]
    merged = list(heapq.merge(*rows, key=lambda r: _sort_value(r, query.sort)))[: limit + 1]
    more = len(merged) > limit
    merged = merged[:limit]
    total = sum(counts.values())
    return InboxPage(
        rows=merged,
        total=min(total, COUNT_CAP),
        capped=total > COUNT_CAP,
        next_cursor=_encode(merged[-1], query.sort) if more else None,
        counts=counts,
    )


def _check(user: Any, query: InboxQuery, limit: int) -> None:
    errors = {}
    if query.sort not in SORTS:
        errors["sort"] = f"must be one of {', '.join(SORTS)}"
    if query.due is not None and query.due not in DUE_FILTERS:
        errors["due"] = f"must be one of {', '.join(DUE_FILTERS)}"
    if not 1 <= limit <= MAX_PAGE:
        errors["limit"] = f"must be between 1 and {MAX_PAGE}"
    if errors:
        raise InvalidInput("the inbox query is invalid", errors)


def _branches(user: Any, query: InboxQuery) -> list[tuple[str, ColumnElement[bool]]]:
    """The disjoint parts of the inbox, each one index range: (name, condition)."""
    task = HumanTaskRow
    claimed = task.assignee_id == user.id
    if query.role is not None:
        claimed = and_(claimed, task.candidate_role == query.role)
    branches: list[tuple[str, ColumnElement[bool]]] = [("mine", claimed)]
    if query.mine:
        return branches
    roles = sorted(user.role_names)
    if query.role is not None:
        roles = [r for r in roles if r == query.role]
    for role in roles:
        branches.append((role, and_(task.assignee_id.is_(None), task.candidate_role == role)))
    if query.role is None:
        started_by_user = select(ProcessInstance.id).where(ProcessInstance.initiator_id == user.id)
        branches.append(
            (
                "initiator",
                and_(task.assignee_id.is_(None), task.candidate_role.is_(None), task.instance_id.in_(started_by_user)),
            )
        )
    return branches


def _filters(query: InboxQuery, now: datetime) -> list[ColumnElement[bool]]:
    task = HumanTaskRow
    where: list[ColumnElement[bool]] = [task.completed_at.is_(None)]
    if query.process_instance_id is not None:
        where.append(task.instance_id == query.process_instance_id)
    if query.process:
        where.append(task.process_key == query.process)
    if query.q and BUSINESS_KEY.fullmatch(query.q.strip()):  # a record number: one index lookup
        where.append(task.business_key == query.q.strip().upper())
    elif query.q:
        pattern = "%" + query.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            or_(
                task.title.ilike(pattern, escape="\\"),
                task.title_en.ilike(pattern, escape="\\"),
                task.business_key.ilike(pattern, escape="\\"),
            )
        )
    if query.due == "overdue":
        where.append(task.due_key < now)
    elif query.due == "soon":
        where.append(and_(task.due_key >= now, task.due_key < now + DUE_SOON))
    return where


def _counts(branches: list[tuple[str, list[ColumnElement[bool]]]]) -> dict[str, int]:
    """Each branch's number of matching rows, up to COUNT_CAP + 1, in one statement."""
    columns = []
    for name, conditions in branches:
        capped = select(HumanTaskRow.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
        columns.append(select(func.count()).select_from(capped).scalar_subquery().label(name))
    values: tuple[Any, ...] = tuple(db.session.execute(select(*columns)).one())
    return {name: int(n or 0) for (name, _), n in zip(branches, values, strict=True)}


def _rows(conditions: list[ColumnElement[bool]], sort: str, after: tuple[Any, ...] | None, limit: int) -> Any:
    task = HumanTaskRow
    query = select(task).where(*conditions)
    if sort == "due":
        if after is not None:
            query = query.where(tuple_(task.due_key, task.id) > tuple_(*after))
        query = query.order_by(task.due_key, task.id)
    elif sort == "newest":
        if after is not None:
            query = query.where(task.id < after[0])
        query = query.order_by(task.id.desc())
    else:
        if after is not None:
            query = query.where(task.id > after[0])
        query = query.order_by(task.id)
    # The page shows each row's instance (business key, title, process) and assignee: joined into the
    # same statement, never the instance's engine state.
    loader = joinedload(task.instance, innerjoin=True).options(defer(ProcessInstance.state_json))
    return query.options(loader, joinedload(task.assignee)).limit(limit)


def _sort_value(row: HumanTaskRow, sort: str) -> tuple[Any, ...]:
    if sort == "due":
        return (row.due_key, row.id)
    return (-row.id,) if sort == "newest" else (row.id,)


def _encode(row: HumanTaskRow, sort: str) -> str:
    key = [row.due_key.isoformat(), row.id] if sort == "due" else [row.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode(cursor: str | None, sort: str) -> tuple[Any, ...] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if sort == "due":
            due, row_id = key
            return (datetime.fromisoformat(due), int(row_id))
        (row_id,) = key
        return (int(row_id),)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise InvalidInput("the inbox query is invalid", {"cursor": "not a cursor of this listing"}) from None
