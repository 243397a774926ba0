"""Writing an engine snapshot back to the instance row and the human-task index."""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, select

from ..models import HumanTaskRow, MessageSubscription, OutboxMessage, User
from ..models._types import utcnow
from . import notifications
from .deployments import uses_messages


def apply_snapshot(session, instance, snapshot):
    """Store status, data and state; add rows for new ready tasks, close rows no longer ready."""
    now = utcnow()
    instance.state_json = snapshot.state_json
    instance.status = snapshot.status
    instance.data = snapshot.data
    instance.updated_at = now
    instance.next_timer_at = snapshot.next_timer_at if snapshot.status == "running" else None
    if snapshot.status == "completed":
        instance.completed_at = now
    if snapshot.thrown or uses_messages(instance.version):
        _route_messages(session, instance, snapshot)
    ready = {t.id: t for t in snapshot.ready_tasks}
    open_rows = session.scalars(
        select(HumanTaskRow).where(HumanTaskRow.instance_id == instance.id, HumanTaskRow.completed_at.is_(None))
    ).all()
    known = {row.task_id for row in open_rows}
    for row in open_rows:
        if row.task_id not in ready:
            row.state, row.completed_at = "cancelled", now
    for task in snapshot.ready_tasks:
        if task.id not in known:
            row = HumanTaskRow(
                instance_id=instance.id,
                task_id=task.id,
                bpmn_id=task.bpmn_id,
                title=task.title,
                title_en=task.properties.get("name_en", ""),
                instructions=task.instructions,
                form_file=task.properties.get("formJsonSchemaFilename"),
                form_ui_file=task.properties.get("formUiSchemaFilename"),
                signature_properties={k: v for k, v in task.properties.items() if k.startswith("signature")} or None,
                type=task.type,
                lane=task.lane,
                candidate_role=task.role,
                created_at=now,
                due_at=_due_at(task, now),
                assignee_id=_assignee_id(session, task),
                escalate_role=task.escalate_to,
            )
            session.add(row)
            notifications.task_ready(row, instance.initiator_id)


def _due_at(task, now):
    """`dueDate` (the end of that day, UTC) or now + `dueInDays`; None without either."""
    if task.due_date is not None:
        return datetime.combine(task.due_date, time.max, tzinfo=UTC).replace(microsecond=0)
    return now + timedelta(days=task.due_in_days) if task.due_in_days is not None else None


def _assignee_id(session, task):
    """The active user the process assigns the task to (`assignTo`); None (the role's queue) when the
    property is absent or names no active user."""
    if not task.assign_to:
        return None
    return session.scalar(select(User.id).where(User.username == task.assign_to, User.active.is_(True)))


def _route_messages(session, instance, snapshot):
    """Queue what the instance threw (same transaction) and record what it now waits for."""
    for message in snapshot.thrown:
        session.add(
            OutboxMessage(
                source_instance_id=instance.id, name=message["name"], kind=message["kind"], event=message["event"]
            )
        )
    session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
    if snapshot.status == "running":
        for name in snapshot.waiting_for:
            session.add(MessageSubscription(instance_id=instance.id, name=name))
