"""Demo controlled documents, driven through the document-control process like users would: two
effective SOP/WI (the EO sterilization work instruction, warehouse receiving), one SOP under review,
and one user (production) whose training on the sterilization instruction is overdue."""

import io
from datetime import timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import User
from ...models._types import utcnow
from ...services import attachments, instances, queries, tasks
from ...services.timers import run_due
from ...services.uow import transaction
from ...services.users import password_verifies
from .models import ControlledDocument, TrainingRecord
from .training import complete


def _pdf(title):
    """A one-page PDF naming the document (enough to be detected as PDF and downloaded)."""
    body = f"BT /F1 12 Tf 72 720 Td ({title}) Tj ET".encode("latin-1", "replace")
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + body + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _step(username, instance, bpmn_id, data, signature=None):
    user = _user(username)
    rows = [t for t in queries.open_tasks(user, process_instance_id=instance.id) if t.bpmn_id == bpmn_id]
    for row in rows:
        tasks.complete_task(user, row.task_id, data, signature)


def _draft(number, title, doc_type, effective, roles, reviewers=("qa2", "regulatory")):
    author = _user("qa")
    instance = instances.start_instance(author, "document_control")
    file = attachments.upload(author, f"{number} {title.split(' ')[0]}.pdf", io.BytesIO(_pdf(number)))
    _step(
        "qa",
        instance,
        "dc_draft",
        {
            "number": number,
            "title": title,
            "doc_type": doc_type,
            "change_summary": "首次发布 First issue.",
            "file": file.ref(),
            "effective_date": effective.isoformat(),
            "review_interval_days": 730,
            "training_days": 14,
            "reviewers": [{"username": u} for u in reviewers],
            "training_roles": [{"role": r} for r in roles],
            "pass_mark_pct": 80,
            "quiz": [],
        },
    )
    return instance


def _release(instance, password):
    for reviewer in ("qa2", "regulatory"):
        _step(reviewer, instance, "dc_review", {"review_decision": "approve", "review_comments": "同意 Agreed."})
    signature = {"password": password, "meaning": "approved", "username": "qa2"}
    _step("qa2", instance, "dc_approval", {"approval_decision": "approve"}, signature)


def load_demo(passwords):
    """Create the demo documents unless the register has some; `passwords` maps username → password."""
    if db.session.scalar(select(ControlledDocument.id).limit(1)) is not None:
        return
    today = utcnow().date()
    signers = ("qa2", "warehouse")
    if not all(password_verifies(_user(u), passwords.get(u)) for u in signers):
        # Users created otherwise (not by the demo): no signature can be given for them, so only the
        # document under review is created.
        _draft("SOP-QA-010", "受控文件管理程序 Document control procedure", "sop", today + timedelta(days=30), ("qa",))
        return
    sterilization = _draft(
        "SOP-STE-004",
        "EO灭菌作业指导书 EO sterilization work instruction",
        "sop",
        today - timedelta(days=20),
        ("warehouse", "production"),
    )
    _release(sterilization, passwords["qa2"])
    receiving = _draft(
        "WI-WH-002",
        "仓库收货作业指导书 Warehouse receiving",
        "work_instruction",
        today - timedelta(days=10),
        ("warehouse",),
    )
    _release(receiving, passwords["qa2"])
    run_due(utcnow())  # both effective dates have passed: the timers make them effective now
    _draft("SOP-QA-010", "受控文件管理程序 Document control procedure", "sop", today + timedelta(days=30), ("qa",))
    warehouse = _user("warehouse")
    for record in db.session.scalars(select(TrainingRecord).where(TrainingRecord.user_id == warehouse.id)).all():
        complete(warehouse, record.id, passwords["warehouse"], "warehouse")
    production = _user("production")
    with transaction():  # the demo's overdue trainee: assigned three weeks ago, due a week ago
        for record in db.session.scalars(select(TrainingRecord).where(TrainingRecord.user_id == production.id)):
            record.assigned_at, record.due_at = utcnow() - timedelta(days=21), utcnow() - timedelta(days=7)
