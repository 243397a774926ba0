"""Read-only queries for the inbox, instance lists and histories."""

from sqlalchemy import and_, func, or_, select

from ..extensions import db
from ..models import AuditEvent, HumanTaskRow, Incident, OutboxMessage, ProcessInstance, ProcessVersion, Signature


def open_tasks(user, mine=False, process_instance_id=None):
    """Open tasks `user` may work: claimed by them, or (unless `mine`) unclaimed in their roles'
    lanes or lane-less in instances they started."""
    query = select(HumanTaskRow).join(ProcessInstance).where(HumanTaskRow.completed_at.is_(None))
    if process_instance_id is not None:
        query = query.where(HumanTaskRow.instance_id == process_instance_id)
    claimable = and_(
        HumanTaskRow.assignee_id.is_(None),
        or_(
            HumanTaskRow.candidate_role.in_(sorted(user.role_names)),
            and_(HumanTaskRow.candidate_role.is_(None), ProcessInstance.initiator_id == user.id),
        ),
    )
    query = query.where(
        HumanTaskRow.assignee_id == user.id if mine else or_(HumanTaskRow.assignee_id == user.id, claimable)
    )
    return db.session.scalars(query.order_by(HumanTaskRow.due_at.is_(None), HumanTaskRow.due_at, HumanTaskRow.id)).all()


def instance_tasks(instance_id):
    """Every task row of an instance, oldest first (the history)."""
    return db.session.scalars(
        select(HumanTaskRow).where(HumanTaskRow.instance_id == instance_id).order_by(HumanTaskRow.id)
    ).all()


def open_task_rows(instance_id):
    """The open task rows of an instance, oldest first (not its whole history)."""
    return db.session.scalars(
        select(HumanTaskRow)
        .where(HumanTaskRow.instance_id == instance_id, HumanTaskRow.completed_at.is_(None))
        .order_by(HumanTaskRow.id)
    ).all()


def instance_events(instance):
    """Audit events about an instance and its tasks, oldest first."""
    task_ids = [t.task_id for t in instance_tasks(instance.id)]
    return db.session.scalars(
        select(AuditEvent)
        .where(
            or_(
                and_(AuditEvent.entity_type == "process_instance", AuditEvent.entity_id == str(instance.id)),
                and_(AuditEvent.entity_type == "task", AuditEvent.entity_id.in_(task_ids)),
                and_(
                    AuditEvent.entity_type == "signature",
                    AuditEvent.entity_id.in_([str(s.id) for s in instance_signatures(instance.id)]),
                ),
            )
        )
        .order_by(AuditEvent.seq)
    ).all()


INSTANCE_STATUSES = ("running", "completed", "cancelled")
INSTANCE_COUNT_CAP = 10_000


def instance_page(process=None, status=None, q=None, mine_id=None, ids=None, before=None, limit=50):
    """One page of instances, newest first, after id `before`; (rows, total matching up to the cap,
    the `before` of the next page or None). `q` finds a business key (any part, any case) or title."""
    query = select(ProcessInstance)
    if process:
        query = query.join(ProcessInstance.version).where(ProcessVersion.key == process)
    if status in INSTANCE_STATUSES:
        query = query.where(ProcessInstance.status == status)
    if mine_id is not None:
        query = query.where(ProcessInstance.initiator_id == mine_id)
    if ids is not None:
        query = query.where(ProcessInstance.id.in_(sorted(ids) or [0]))
    if q:
        pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(ProcessInstance.business_key.ilike(pattern, escape="\\"))
    counted = query.with_only_columns(ProcessInstance.id).order_by(None).limit(INSTANCE_COUNT_CAP + 1).subquery()
    total = db.session.scalar(select(func.count()).select_from(counted)) or 0
    if before is not None:
        query = query.where(ProcessInstance.id < before)
    rows = db.session.scalars(query.order_by(ProcessInstance.id.desc()).limit(limit + 1)).all()
    return rows[:limit], total, rows[limit - 1].id if len(rows) > limit else None


def recent_instances(limit=50, initiator_id=None, ids=None):
    """The newest instances, optionally only those one user started or those with the given ids."""
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc()).limit(limit)
    if initiator_id is not None:
        query = query.where(ProcessInstance.initiator_id == initiator_id)
    if ids is not None:
        query = query.where(ProcessInstance.id.in_(sorted(ids) or [0]))
    return db.session.scalars(query).all()


def needing_attention():
    """{instance id: {"incidents": n, "undelivered": n}} for every instance with an open incident or a
    message or signal it threw that nobody has taken yet."""
    found = {}
    for key, column, where in (
        ("incidents", Incident.instance_id, Incident.resolved_at.is_(None)),
        ("undelivered", OutboxMessage.source_instance_id, OutboxMessage.delivered_at.is_(None)),
    ):
        for instance_id, count in db.session.execute(select(column, func.count()).where(where).group_by(column)):
            found.setdefault(instance_id, {"incidents": 0, "undelivered": 0})[key] = count
    return found


def instance_signatures(instance_id):
    """The signatures given in an instance, oldest first."""
    return db.session.scalars(
        select(Signature).where(Signature.instance_id == instance_id).order_by(Signature.id)
    ).all()
