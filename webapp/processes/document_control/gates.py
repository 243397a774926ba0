"""The task gates of document control (declared in ProcessPackage.task_gates, run by services/tasks):

- training_gate: a user task declaring `requiresTraining` (document numbers, comma-separated) may be
  claimed or completed only by a user with completed training on each document's effective version
  (403 naming what is missing); otherwise it returns the training as evidence for the completion.
- released_documents_gate: a task declaring `requiresReleasedDocuments` (the name of a variable
  holding [{doc_no, revision}], e.g. change control's affected_documents) completes only when each
  of those versions is approved or effective and everyone assigned has completed its training
  (422 naming what is missing).
"""

from sqlalchemy import select

from ...errors import GuardRefused, TrainingRequired
from ...extensions import db
from .models import ControlledDocument

RELEASED = ("approved", "effective")


def _numbers(text):
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def _effective(number):
    document = db.session.scalar(select(ControlledDocument).where(ControlledDocument.number == number))
    versions = [v for v in (document.versions if document else []) if v.status == "effective"]
    return versions[-1] if versions else None


def training_gate(actor, properties, data):
    """Refuse (403) a task requiring training the actor has not completed on the effective version;
    otherwise the evidence (document, revision, when trained, the signature's hash) that the task's
    completion records with its audit event and its record PDF shows."""
    missing, evidence = [], []
    for number in _numbers(properties.get("requiresTraining")):
        version = _effective(number)
        if version is None:
            missing.append({"reason": "%(doc)s has no effective version", "doc": number})
            continue
        done = next((t for t in version.training if t.user_id == actor.id and t.status == "completed"), None)
        if done is not None:
            evidence.append(
                {
                    "document": number,
                    "revision": version.version,
                    "user": actor.username,
                    "trained_at": done.completed_at.isoformat(),
                    "content_hash": done.content_hash,
                }
            )
        else:
            missing.append(
                {
                    "reason": "no completed training on %(doc)s revision %(revision)s",
                    "doc": number,
                    "revision": version.version,
                }
            )
    if missing:
        raise TrainingRequired("DOC-TRAINING", _text(missing), {"missing": missing})
    return evidence


def _text(missing):
    return "; ".join(m["reason"] % m for m in missing)


def released_documents_gate(actor, properties, data):
    """Refuse (422) a task whose listed document versions are not approved or not fully trained."""
    variable = properties.get("requiresReleasedDocuments")
    if not variable:
        return
    missing = []
    for item in data.get(variable) or []:
        number, revision = str(item.get("doc_no") or "").strip(), str(item.get("revision") or "").strip()
        if not number:
            continue
        version = _version(number, revision)
        label = {"doc": number, "revision": revision or (version.version if version else "?")}
        if version is None:
            missing.append({"reason": "%(doc)s revision %(revision)s is not a controlled document version", **label})
        elif version.status not in RELEASED:
            missing.append(
                {
                    "reason": "%(doc)s revision %(revision)s is %(status)s, not approved",
                    **label,
                    "status": version.status,
                }
            )
        else:
            untrained = sorted(t.user.username for t in version.training if t.status != "completed")
            if untrained:
                missing.append(
                    {
                        "reason": "%(doc)s revision %(revision)s: training not complete for %(users)s",
                        **label,
                        "users": ", ".join(untrained),
                    }
                )
    if missing:
        raise GuardRefused("DOC-RELEASED", _text(missing), {"missing": missing})


def _version(number, revision):
    document = db.session.scalar(select(ControlledDocument).where(ControlledDocument.number == number))
    if document is None:
        return None
    if revision:
        return next((v for v in document.versions if v.version == revision), None)
    return _effective(number) or (document.versions[-1] if document.versions else None)
