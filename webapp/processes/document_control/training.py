"""Training on controlled documents (ISO 13485 6.2) and the task gates it enables.

- assign: when a version is approved, every active user holding one of the document's training
  roles gets a training record, due in the document's training days.
- complete: the trainee signs "read and understood" (password re-checked, 21 CFR 11.200); the record
  keeps the printed name, the time and the SHA-256 of what was signed.
- the task gates that use these records are in gates.py; the training matrix and the overdue
  reminders (a sweep job) are here.
"""

from datetime import timedelta

from sqlalchemy import select

from ...errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from ...extensions import db
from ...models import Role, User
from ...models._types import utcnow
from ...services import audit, notifications
from ...services.audit import canonical_json
from ...services.uow import serialized, transaction
from ...services.users import reauthenticate
from .models import ControlledDocument, DocumentVersion, TrainingRecord

MEANING = "read_and_understood"


class QuizFailed(DomainError):
    """The trainee's quiz score is below the document's pass mark: the attempt is counted, the training stays open."""

    status, code = 422, "quiz_failed"


RELEASED = ("approved", "effective")


def assign(actor, version):
    """Training records for every active holder of the document's training roles; their usernames."""
    roles = version.document.training_roles or []
    if not roles:
        return []
    due = utcnow() + timedelta(days=version.document.training_days or 14)
    have = {t.user_id for t in version.training}
    users = db.session.scalars(
        select(User).join(User.roles).where(Role.name.in_(roles), User.active.is_(True)).order_by(User.username)
    ).unique()
    assigned = []
    for user in users:
        if user.id in have or user.username.startswith("system:"):
            continue
        role = sorted(set(roles) & user.role_names)[0]
        db.session.add(TrainingRecord(version=version, user_id=user.id, role=role, due_at=due))
        have.add(user.id)
        assigned.append(user.username)
    return assigned


def get_record(record_id):
    """The training record `record_id`; NotFound otherwise."""
    record = db.session.get(TrainingRecord, record_id)
    if record is None:
        raise NotFound(f"no training record {record_id}")
    return record


def signed_content(record):
    """What a trainee signs: the document, version, its files' hashes and the trainee."""
    version = record.version
    return {
        "document": version.document.number,
        "version": version.version,
        "files": [{"name": f.get("name"), "sha256": f.get("sha256")} for f in version.files or []],
        "user": record.user.username,
        "meaning": MEANING,
    }


def score(quiz, answers):
    """The percentage of right answers (answers by question, in order); 100 for no quiz."""
    if not quiz:
        return 100
    right = sum(1 for q, a in zip(quiz, list(answers or []) + [None] * len(quiz)) if a == q["answer"])
    return round(100 * right / len(quiz))


def complete(actor, record_id, password, username=None, answers=None):
    """The trainee's "read and understood" signature on their training record; a version with a
    quiz needs its pass mark as well (a failed attempt is counted and audited, nothing else changes)."""
    import hashlib

    record = get_record(record_id)
    if record.user_id != actor.id:
        raise PermissionDenied("only the trainee signs their own training")
    if record.status == "completed":
        raise Conflict("this training is completed already")
    quiz = record.version.quiz or []
    if quiz and (not isinstance(answers, list) or len(answers) != len(quiz)):
        raise InvalidInput(f"answer each of the {len(quiz)} quiz questions", {"answers": f"{len(quiz)} answers"})
    reauthenticate(actor, password, username)
    result = score(quiz, answers)
    if result < record.version.pass_mark_pct:
        with transaction():
            record.attempts, record.quiz_score_pct = record.attempts + 1, result
            audit.record(
                actor,
                "training.quiz_failed",
                "training_record",
                record.id,
                after={"score_pct": result, "pass_mark_pct": record.version.pass_mark_pct, "attempt": record.attempts},
            )
        raise QuizFailed(
            f"quiz score {result}% is below the pass mark of {record.version.pass_mark_pct}%; read the document and try again",
            {"score_pct": result, "pass_mark_pct": record.version.pass_mark_pct},
        )
    content = {**signed_content(record), **({"quiz_score_pct": result, "answers": answers} if quiz else {})}
    with transaction():
        if quiz:
            record.attempts, record.quiz_score_pct = record.attempts + 1, result
        record.status, record.completed_at = "completed", utcnow()
        record.printed_name, record.meaning = actor.display_name, MEANING
        record.content_hash = hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()
        audit.record(
            actor,
            "training.complete",
            "training_record",
            record.id,
            after={**content, "printed_name": record.printed_name, "content_hash": record.content_hash},
        )
    return record


def records_of(user):
    """A user's training records, newest first."""
    return list(
        db.session.scalars(
            select(TrainingRecord).where(TrainingRecord.user_id == user.id).order_by(TrainingRecord.id.desc())
        )
    )


def is_overdue(record, now=None):
    """True for assigned training past its due time."""
    return record.status != "completed" and record.due_at is not None and record.due_at < (now or utcnow())


def version_by_id(version_id):
    """The document version `version_id`; NotFound otherwise."""
    version = db.session.get(DocumentVersion, version_id)
    if version is None:
        raise NotFound(f"no document version {version_id}")
    return version


def matrix():
    """{documents: [(number, version)], rows: [{user, cells: [state]}]} over each document's newest
    approved or effective version that names training roles: completed, overdue, assigned, or
    missing (a role holder without a record)."""
    documents = db.session.scalars(select(ControlledDocument).order_by(ControlledDocument.number)).all()
    newest = [next((v for v in reversed(d.versions) if v.status in RELEASED), None) for d in documents]
    versions = [v for v in newest if v is not None and v.document.training_roles]
    roles = {r for v in versions for r in v.document.training_roles}
    users = db.session.scalars(
        select(User).join(User.roles).where(Role.name.in_(roles), User.active.is_(True)).order_by(User.username)
    ).unique()
    rows = []
    for user in users:
        cells = []
        for version in versions:
            record = next((t for t in version.training if t.user_id == user.id), None)
            needed = bool(set(version.document.training_roles) & user.role_names)
            if record is not None:
                cells.append(
                    "completed" if record.status == "completed" else "overdue" if is_overdue(record) else "assigned"
                )
            else:
                cells.append("missing" if needed else "")
        rows.append({"user": user.username, "name": user.display_name, "cells": cells})
    return {"documents": [(v.document.number, v.version) for v in versions], "rows": rows}


def remind_overdue(now=None):
    """Tell each trainee whose training is overdue, and the escalation role's members (config
    TRAINING_ESCALATION_ROLE, the QA manager by default), once per record; the number told."""
    from flask import current_app

    now, count = now or utcnow(), 0
    role = current_app.config.get("TRAINING_ESCALATION_ROLE") or "qa_manager"
    with transaction() as session:
        serialized(session, "training.remind_overdue")
        records = session.scalars(
            select(TrainingRecord).where(
                TrainingRecord.status == "assigned",
                TrainingRecord.escalated_at.is_(None),
                TrainingRecord.due_at <= now,
            )
        ).all()
        for record in records:
            version = record.version
            what = f"{version.document.number} {version.version} {version.document.title}"
            params = {"what": what, "due": notifications.when(record.due_at), "user": record.user.username}
            msg = notifications.message("Training overdue: %(what)s", "Due %(due)s.", **params)
            notifications.queue(
                [record.user_id], "overdue", *notifications.english(msg), link="/erp/training", message=msg
            )
            managers = [u for u in notifications.recipients(role=role) if u != record.user_id]
            msg = notifications.message("Escalated, training overdue: %(user)s on %(what)s", "Due %(due)s.", **params)
            notifications.queue(
                managers, "escalated", *notifications.english(msg), link="/erp/training/matrix", message=msg
            )
            record.escalated_at, count = now, count + 1 + len(managers)
            audit.record(
                None,
                "training.escalated",
                "training_record",
                record.id,
                after={"to_role": role, "due_at": record.due_at.isoformat()},
            )
    return count
