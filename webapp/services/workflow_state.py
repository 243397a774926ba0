"""Writing an engine snapshot back to the instance row and the human-task index."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, select, update

from ..models import NO_DUE_DATE, HumanTaskRow, MessageSubscription, OutboxMessage, User
from ..models._types import utcnow
from . import notifications
from .deployments import uses_messages


@dataclass(frozen=True)
class Before:
    """What the instance's rows hold before a step, as its workflow said when it was loaded: one open
    task row per ready human task and one subscription per name it waited for. The step's writes
    are the difference to the snapshot, so an ordinary completion reads neither table again."""

    ready: frozenset = frozenset()
    waiting_for: frozenset = frozenset()


NOTHING_BEFORE = Before()  # a new instance


def apply_snapshot(session, instance, snapshot, before=NOTHING_BEFORE):
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
        _route_messages(session, instance, snapshot, before)
    ready = {t.id for t in snapshot.ready_tasks}
    gone = before.ready - ready
    if gone:  # no longer ready (cancelled by a boundary event, a gateway, the instance's end)
        session.execute(
            update(HumanTaskRow)
            .where(
                HumanTaskRow.instance_id == instance.id,
                HumanTaskRow.task_id.in_(sorted(gone)),
                HumanTaskRow.completed_at.is_(None),
            )
            .values(state="cancelled", completed_at=now)
            .execution_options(synchronize_session="fetch")
        )
    for task in snapshot.ready_tasks:
        if task.id not in before.ready:
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
                gate_properties={k: v for k, v in task.properties.items() if k.startswith("requires")} or None,
                type=task.type,
                lane=task.lane,
                candidate_role=task.role,
                created_at=now,
                due_at=(due_at := _due_at(task, now)),
                due_key=due_at or NO_DUE_DATE,
                process_key=instance.version.key,
                business_key=instance.business_key,
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


def _route_messages(session, instance, snapshot, before):
    """Queue what the instance threw (same transaction) and record what it now waits for."""
    for message in snapshot.thrown:
        session.add(
            OutboxMessage(
                source_instance_id=instance.id, name=message["name"], kind=message["kind"], event=message["event"]
            )
        )
    waiting = set(snapshot.waiting_for) if snapshot.status == "running" else set()
    dropped = before.waiting_for - waiting
    if dropped:
        session.execute(
            delete(MessageSubscription).where(
                MessageSubscription.instance_id == instance.id, MessageSubscription.name.in_(sorted(dropped))
            )
        )
    for name in sorted(waiting - before.waiting_for):
        session.add(MessageSubscription(instance_id=instance.id, name=name))
