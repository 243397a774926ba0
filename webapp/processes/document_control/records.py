"""Controlled documents and their versions, kept by the document-control process's service tasks
(operations.py) inside the step that drives the instance, each change audited.

- submit: the draft (number, title, type, file, effective date, reviewers, training roles) becomes a
  version in review — a new document, or the next revision (A, B, …) of an existing one; a revised
  draft of the same instance updates its version.
- record_reviews: the parallel reviews' decisions and comments.
- approve: status approved, the approvers from the step's signatures, training assigned
  (training.py) to every active holder of the document's training roles.
- make_effective: on the effective date (the BPMN timer), the version becomes effective and the
  previous effective version superseded at the same moment.
- periodic review: still current? (a later version may have superseded it), then its outcome
  (no change, revise, obsolete).
"""

import string
from datetime import date

from sqlalchemy import select

from ...errors import InvalidInput, NotFound
from ...extensions import db
from ...models import Signature, User
from ...models._types import utcnow
from ...services import audit
from .models import ControlledDocument, DocumentVersion


def get_document(number):
    """The controlled document `number`; NotFound otherwise."""
    document = db.session.scalar(select(ControlledDocument).where(ControlledDocument.number == number))
    if document is None:
        raise NotFound(f"no controlled document {number}")
    return document


def find_version(number, revision=None):
    """Version `revision` of document `number` (or its current one), or None."""
    document = db.session.scalar(select(ControlledDocument).where(ControlledDocument.number == number))
    if document is None:
        return None
    if revision:
        return next((v for v in document.versions if v.version == revision), None)
    return current_version(document)


def current_version(document):
    """The effective version of a document, else its latest one."""
    effective = [v for v in document.versions if v.status == "effective"]
    return effective[-1] if effective else (document.versions[-1] if document.versions else None)


def list_documents():
    """Every controlled document, by number."""
    return list(db.session.scalars(select(ControlledDocument).order_by(ControlledDocument.number)))


def version_of(instance):
    """The version a document-control instance keeps, or None."""
    return db.session.scalar(select(DocumentVersion).where(DocumentVersion.instance_id == instance.id))


def _next_revision(document):
    used = {v.version for v in document.versions}
    letters = [c for c in string.ascii_uppercase if c not in used]
    return letters[0] if letters else str(len(used) + 1)


def _summary(version):
    return {
        "number": version.document.number,
        "version": version.version,
        "status": version.status,
        "files": version.files,
        "effective_date": version.effective_date.isoformat() if version.effective_date else None,
    }


def submit(actor, instance, draft):
    """The draft of `instance` as a version in review (creating the document or its next revision)."""
    version = version_of(instance)
    number = draft["number"].strip()
    if version is None:
        document = db.session.scalar(select(ControlledDocument).where(ControlledDocument.number == number))
        if document is None:
            document = ControlledDocument(
                number=number, owner_id=actor.id, title=draft["title"], doc_type=draft["doc_type"]
            )
            db.session.add(document)
        elif any(v.status in ("draft", "in_review", "approved") for v in document.versions):
            raise InvalidInput(f"{number} already has a version in progress", {"number": "a version is in progress"})
        version = DocumentVersion(document=document, version=_next_revision(document), author_id=actor.id)
        db.session.add(version)
    elif version.document.number != number:
        raise InvalidInput("a revised draft keeps its document number", {"number": "cannot change"})
    document = version.document
    document.title, document.doc_type = draft["title"], draft["doc_type"]
    document.review_interval_days = int(draft.get("review_interval_days") or document.review_interval_days or 730)
    document.training_roles = sorted({r["role"] for r in draft.get("training_roles") or [] if r.get("role")})
    document.training_days = int(draft.get("training_days") or document.training_days or 14)
    version.instance_id, version.status, version.submitted_at = instance.id, "in_review", utcnow()
    version.change_summary = draft.get("change_summary") or ""
    version.files = [draft["file"]] if draft.get("file") else []
    version.effective_date = date.fromisoformat(draft["effective_date"])
    version.quiz, version.pass_mark_pct = _quiz(draft.get("quiz") or []), int(draft.get("pass_mark_pct", 80))
    version.reviews = []
    db.session.flush()
    audit.record(actor, "document.submit", "document_version", version.id, after=_summary(version))
    return {"number": document.number, "version": version.version, "version_id": version.id}


def _quiz(rows):
    """The quiz of a draft: choices split on "|"; each answer must be one of its choices."""
    quiz = []
    for index, row in enumerate(rows):
        choices = [c.strip() for c in str(row["choices"]).split("|") if c.strip()]
        answer = str(row["answer"]).strip()
        if answer not in choices:
            raise InvalidInput(
                f"quiz question {index + 1}: the answer is not one of its choices",
                {f"quiz.{index}.answer": "not a choice"},
            )
        quiz.append({"question": str(row["question"]).strip(), "choices": choices, "answer": answer})
    return quiz


def _version(instance):
    version = version_of(instance)
    if version is None:
        raise InvalidInput("this instance keeps no document version")
    return version


def record_reviews(actor, instance, reviews):
    """Keep the reviewers' decisions; {changes_requested} tells the process whether to revise."""
    version = _version(instance)
    version.reviews = [
        {
            "reviewer": r.get("username"),
            "decision": r.get("review_decision"),
            "comments": r.get("review_comments") or "",
            "at": utcnow().isoformat(),
        }
        for r in reviews
    ]
    changes = any(r["decision"] != "approve" for r in version.reviews)
    if changes:
        version.status = "draft"
    audit.record(actor, "document.reviewed", "document_version", version.id, after={"reviews": version.reviews})
    return {"changes_requested": changes}


def approve(actor, instance):
    """Approve the version: its approvers from the signatures on the approval step."""
    from . import training

    version = _version(instance)
    signed = db.session.scalars(
        select(Signature).where(Signature.instance_id == instance.id, Signature.bpmn_id == "dc_approval")
    ).all()
    last = max(signed, key=lambda s: (s.signed_at, s.id), default=None)  # the approval step that approved
    version.approvals = [
        {
            "username": s.signer.username,
            "printed_name": s.printed_name,
            "meaning": s.meaning,
            "signed_at": s.signed_at.isoformat(),
            "content_hash": s.content_hash,
        }
        for s in signed
        if last is not None and s.task_id == last.task_id
    ]
    version.status, version.approved_at = "approved", utcnow()
    assigned = training.assign(actor, version)
    audit.record(
        actor,
        "document.approve",
        "document_version",
        version.id,
        after={**_summary(version), "approvals": version.approvals, "training_assigned": assigned},
    )
    return {"training_assigned": len(assigned)}


def make_effective(actor, instance):
    """The version becomes effective; the previous effective one is superseded at the same moment."""
    version = _version(instance)
    now = utcnow()
    superseded = []
    for other in version.document.versions:
        if other.id != version.id and other.status == "effective":
            other.status, other.superseded_at = "superseded", now
            superseded.append(other.version)
    version.status, version.effective_at, version.last_review_at = "effective", now, now
    audit.record(
        actor,
        "document.effective",
        "document_version",
        version.id,
        after={**_summary(version), "effective_at": now.isoformat(), "superseded": superseded},
    )
    return {"effective_at": now.isoformat(), "superseded": superseded}


def check_current(actor, instance):
    """{current}: is this instance's version still the effective one (periodic review due)?"""
    return {"current": _version(instance).status == "effective"}


def record_periodic_review(actor, instance, outcome, comments):
    """Keep the periodic review's outcome; `obsolete` withdraws the version."""
    version = _version(instance)
    now = utcnow()
    version.last_review_at = now
    if outcome == "obsolete":
        version.status, version.obsolete_at = "obsolete", now
    audit.record(
        actor,
        "document.periodic_review",
        "document_version",
        version.id,
        after={"outcome": outcome, "comments": comments, "status": version.status},
    )
    return {"outcome": outcome}


def user_named(username):
    """The User called `username`, or None."""
    return db.session.scalar(select(User).where(User.username == username))
