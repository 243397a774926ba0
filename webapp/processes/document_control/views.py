"""Controlled documents, versions and training records as plain data: what the API answers and the
pages show (a quiz's answers never leave the server)."""

from datetime import timedelta

from .records import current_version
from .training import is_overdue


def _iso(value):
    return value.isoformat() if value is not None else None


def training_view(record):
    """A training record as plain data."""
    return {
        "id": record.id,
        "document": record.version.document.number,
        "title": record.version.document.title,
        "version": record.version.version,
        "version_status": record.version.status,
        "user": record.user.username,
        "role": record.role,
        "status": "overdue" if is_overdue(record) else record.status,
        "quiz": [{"question": q["question"], "choices": q["choices"]} for q in record.version.quiz or []],
        "pass_mark_pct": record.version.pass_mark_pct,
        "attempts": record.attempts,
        "quiz_score_pct": record.quiz_score_pct,
        "assigned_at": _iso(record.assigned_at),
        "due_at": _iso(record.due_at),
        "completed_at": _iso(record.completed_at),
        "printed_name": record.printed_name,
        "meaning": record.meaning,
        "content_hash": record.content_hash,
    }


def version_view(version):
    """A document version as plain data: status, dates, files, reviews, approvals, training."""
    return {
        "version": version.version,
        "status": version.status,
        "author": version.author.username,
        "instance_id": version.instance_id,
        "business_key": version.instance.business_key if version.instance else None,
        "change_summary": version.change_summary,
        "files": version.files or [],
        "reviews": version.reviews or [],
        "approvals": version.approvals or [],
        "quiz_questions": len(version.quiz or []),
        "pass_mark_pct": version.pass_mark_pct,
        "effective_date": version.effective_date.isoformat() if version.effective_date else None,
        "submitted_at": _iso(version.submitted_at),
        "approved_at": _iso(version.approved_at),
        "effective_at": _iso(version.effective_at),
        "superseded_at": _iso(version.superseded_at),
        "obsolete_at": _iso(version.obsolete_at),
        "training": [training_view(t) for t in version.training],
    }


def next_review(document):
    """When the effective version's periodic review falls due (last review or effective time + interval), or None."""
    current = current_version(document)
    if current is None or current.status != "effective" or current.last_review_at is None:
        return None
    return current.last_review_at + timedelta(days=document.review_interval_days)


def document_view(document):
    """A controlled document as plain data: what GET /api/v1/documents/<number> returns."""
    current = current_version(document)
    return {
        "next_review_at": _iso(next_review(document)),
        "number": document.number,
        "title": document.title,
        "doc_type": document.doc_type,
        "owner": document.owner.username,
        "review_interval_days": document.review_interval_days,
        "training_roles": document.training_roles or [],
        "training_days": document.training_days,
        "current_version": current.version if current else None,
        "status": current.status if current else None,
        "versions": [version_view(v) for v in document.versions],
    }
