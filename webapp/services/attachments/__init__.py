"""Attachments: files uploaded once, kept by their SHA-256, referred to by task forms and records.

- `upload` reads at most the size limit (config ATTACHMENT_MAX_BYTES, 25 MB by default), detects
  the type from the bytes against the allow-list (content.py), keeps the bytes in the file store
  (store.py) and the metadata in `attachments`, audited with the hash; a refused upload stores
  nothing and is audited as refused.
- `download` re-checks the stored bytes against their hash before handing them out, audited.
- A form field marked `x-attachment` holds {id, name, size, sha256}; `claim_form_refs` checks
  those against the uploads (every mismatch at once) and binds them to the task, locked when the
  task completes. `lock` does the same for a record that becomes final (an approved document).
  A locked attachment is immutable: it cannot be removed or attached elsewhere.
"""

import hashlib

from sqlalchemy import select

from ...errors import Conflict, FileRefused, FileTooLarge, FormInvalid, NotFound
from ...extensions import db
from ...models import Attachment, HumanTaskRow
from ...models._types import utcnow
from .. import audit
from ..refusals import audit_refusal
from ..uow import transaction
from .content import CONTENT_TYPES, detect, safe_name
from .store import FileStore, LocalFileStore, store

__all__ = ["CONTENT_TYPES", "FileStore", "LocalFileStore", "safe_name", "store"]


MULTIPART_MARGIN = 64 * 1024  # room for the multipart framing and the other fields of a form


def max_bytes():
    """The configured size limit in bytes."""
    from flask import current_app

    return int(current_app.config["ATTACHMENT_MAX_BYTES"])


def _megabytes(size):
    return f"{size / 1024 / 1024:.1f} MB"


def upload(actor, filename, stream):
    """Store one uploaded file (a binary stream) for `actor`; the new Attachment."""
    name, limit = safe_name(filename), max_bytes()
    data = stream.read(limit + 1)
    try:
        if len(data) > limit:
            raise FileTooLarge(
                f"{name}: the file is larger than the limit of {_megabytes(limit)}", {"file": "file too large"}
            )
        content_type = detect(name, data)
    except FileRefused as exc:
        audit_refusal(actor, "attachment.upload_refused", "attachment", name, exc.message)
        raise
    sha256 = hashlib.sha256(data).hexdigest()
    store().put(sha256, data)
    with transaction() as session:
        row = Attachment(sha256=sha256, name=name, size=len(data), content_type=content_type, uploaded_by_id=actor.id)
        session.add(row)
        session.flush()
        audit.record(actor, "attachment.upload", "attachment", row.id, after=view(row))
    return row


def get(attachment_id):
    """The attachment `attachment_id`; NotFound otherwise."""
    row = db.session.get(Attachment, int(attachment_id)) if str(attachment_id).isdigit() else None
    if row is None:
        raise NotFound(f"no attachment {attachment_id}")
    return row


def view(row):
    """The attachment as plain data (API answers, audit events); `url` is where its bytes are."""
    return {
        "id": row.id,
        "name": row.name,
        "size": row.size,
        "content_type": row.content_type,
        "sha256": row.sha256,
        "url": f"/api/v1/attachments/{row.id}",
        "locked": row.locked_at is not None,
    }


def download(actor, attachment_id):
    """(attachment, bytes) for `actor`, the bytes checked against the stored hash; audited."""
    row = get(attachment_id)
    try:
        data = store().get(row.sha256)
    except FileNotFoundError:
        raise Conflict(f"the file of attachment {row.id} is missing from the file store") from None
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise Conflict(f"the stored file of attachment {row.id} no longer matches its SHA-256")
    with transaction():
        audit.record(actor, "attachment.download", "attachment", row.id, after={"name": row.name, "sha256": row.sha256})
    return row, data


def remove(actor, attachment_id):
    """Remove an attachment nothing final keeps yet (a mistaken upload); Conflict when locked."""
    row = get(attachment_id)
    if row.locked_at is not None:
        audit_refusal(actor, "attachment.remove_refused", "attachment", row.id, "locked")
        raise Conflict(f"attachment {row.name} belongs to a completed record and cannot be changed")
    with transaction() as session:
        audit.record(actor, "attachment.remove", "attachment", row.id, before=view(row))
        session.delete(row)


def _is_attachment(node):
    return isinstance(node, dict) and bool(node.get("x-attachment"))


def form_refs(schema, data):
    """[(field path, ref)] of every x-attachment field of `schema` that `data` fills (top level and
    the columns of arrays of objects)."""
    found = []
    props = (schema or {}).get("properties") or {}
    for name, node in props.items():
        value = (data or {}).get(name)
        if _is_attachment(node) and isinstance(value, dict):
            found.append((name, value))
        elif isinstance(node, dict) and node.get("type") == "array" and isinstance(value, list):
            item = node.get("items") or {}
            for index, row in enumerate(value):
                found += [
                    (f"{name}.{index}.{p}", ref) for p, ref in form_refs(item, row if isinstance(row, dict) else {})
                ]
    return found


def claim_form_refs(actor, schema, data, owner_type, owner_id, lock=True):
    """Bind the attachments `data` refers to (x-attachment fields) to `owner_type`/`owner_id`,
    locked when `lock`; FormInvalid naming every field whose ref is not an upload as uploaded
    (unknown id, another hash or size), belongs to another record or is someone else's upload."""
    errors, rows = {}, []
    for path, ref in form_refs(schema, data):
        row = db.session.get(Attachment, ref.get("id")) if isinstance(ref.get("id"), int) else None
        if row is None or row.sha256 != ref.get("sha256") or row.size != ref.get("size"):
            errors[path] = "does not match an uploaded file"
        elif row.owner_id is not None and (row.owner_type, row.owner_id) != (owner_type, str(owner_id)):
            errors[path] = "belongs to another record"
        elif row.owner_id is None and row.uploaded_by_id != actor.id:
            errors[path] = "uploaded by another user"
        else:
            rows.append(row)
    if errors:
        raise FormInvalid("the attached files do not match the uploads", errors)
    for row in rows:
        row.owner_type, row.owner_id = owner_type, str(owner_id)
        row.name = safe_name(row.name)
        if lock and row.locked_at is None:
            row.locked_at = utcnow()
    return rows


def lock(owner_type, owner_id):
    """Make every attachment of a record immutable (the record became final)."""
    for row in of_owner(owner_type, [owner_id]):
        if row.locked_at is None:
            row.locked_at = utcnow()


def of_owner(owner_type, owner_ids):
    """The attachments of the given records, oldest first."""
    ids = [str(i) for i in owner_ids]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Attachment)
            .where(Attachment.owner_type == owner_type, Attachment.owner_id.in_(ids))
            .order_by(Attachment.id)
        )
    )


def of_instance(instance_id):
    """The attachments kept by the task forms of a process instance (for its record export)."""
    task_ids = db.session.scalars(select(HumanTaskRow.task_id).where(HumanTaskRow.instance_id == instance_id))
    return of_owner("task", list(task_ids))
