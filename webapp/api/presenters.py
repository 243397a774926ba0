"""Turning rows into the API's JSON shapes (the contract), through the marshmallow schemas."""

from ..services import incidents, messages, queries, signatures
from ..services.tasks import task_form
from . import schemas

_task_schema = schemas.Task()
_instance_schema = schemas.ProcessInstance()


def task_json(row):
    """A task as the API shows it."""
    return _task_schema.dump(_task_fields(row))


def _task_fields(row):
    return {
        "id": row.task_id,
        "process_instance_id": row.instance_id,
        "bpmn_id": row.bpmn_id,
        "title": row.title,
        "type": row.type,
        "lane": row.lane,
        "instructions": row.instructions or "",
        "form": task_form(row),
        "assignee": row.assignee.username if row.assignee else None,
        "due_at": row.due_at,
        "candidate_role": row.candidate_role,
        "signature": _signature_requirement(row),
    }


def _signature_requirement(row):
    req = signatures.requirement_of(row)
    if req is None:
        return None
    return {**req.as_dict(), "signed": len(signatures.signatures_on(row.task_id))}


def signature_fields(signature):
    """A signature as every representation of its record shows it (11.50)."""
    return {
        "id": signature.id,
        "task_id": signature.task_id,
        "bpmn_id": signature.bpmn_id,
        "signer": signature.signer.username,
        "printed_name": signature.printed_name,
        "signed_at": signature.signed_at,
        "meaning": signature.meaning,
        "content_hash": signature.content_hash,
        "valid": signatures.verify(signature),
        "changed_after_signing": _changed(signature),
    }


def _changed(signature):
    changed = signatures.changed_after_signing(signature)
    if changed is None:
        return None
    return {**changed, "at": changed["at"].isoformat() if changed["at"] else None}


def instance_json(instance):
    """An instance with its data and ready tasks."""
    ready = queries.open_task_rows(instance.id)
    return _instance_schema.dump(
        {
            "id": instance.id,
            "process_key": instance.version.key,
            "version": instance.version.version,
            "status": instance.status,
            "business_key": instance.business_key,
            "data": instance.data or {},
            "ready_tasks": [_task_fields(t) for t in ready],
            "initiator": instance.initiator.username,
            "created_at": instance.created_at,
            "completed_at": instance.completed_at,
            "signatures": [signature_fields(s) for s in queries.instance_signatures(instance.id)],
            "incidents": [
                {
                    "id": i.id,
                    "task_id": i.task_id,
                    "operation": i.operation,
                    "message": i.message,
                    "attempts": i.attempts,
                    "raised_at": i.raised_at.isoformat(),
                }
                for i in incidents.open_incidents(instance.id)
            ],
            "pending_messages": [
                {
                    "id": m.id,
                    "name": m.name,
                    "kind": m.kind,
                    "thrown_at": m.created_at.isoformat(),
                    "reason": m.last_error,
                    "attempts": m.attempts,
                    "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None,
                }
                for m in messages.pending_from(instance.id)
            ],
        }
    )


def definitions_json(grouped):
    """Process definitions with their latest version and all versions."""
    return [
        schemas.ProcessDefinition().dump(
            {
                "key": key,
                "name": versions[0].name,
                "version": versions[0].version,
                "versions": sorted(v.version for v in versions),
            }
        )
        for key, versions in sorted(grouped.items())
    ]
