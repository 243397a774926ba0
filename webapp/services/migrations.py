"""Migrating running instances to another version of their process, one by one or in a batch."""

from dataclasses import dataclass

from sqlalchemy import select

from ..errors import Conflict, InvalidInput, NotFound
from ..models import ProcessInstance
from .deployments import get_version, version_ref
from .driver import AuditEntry, Drive, drive
from .engine_access import engine
from .instances import get_instance
from .refusals import audit_refusal


@dataclass(frozen=True)
class Candidate:
    """A running instance of an older version and whether it can move to the target version."""

    instance: ProcessInstance
    check: object


def candidates(key, target_number):
    """Running instances of other versions of `key`, each with its migration check."""
    from ..extensions import db

    target = get_version(key, target_number)
    rows = db.session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.status == "running", ProcessInstance.version_id != target.id)
        .order_by(ProcessInstance.id)
    ).all()
    result = []
    for instance in (i for i in rows if i.version.key == key):
        workflow = engine().load(version_ref(instance.version), instance.state_json)
        result.append(Candidate(instance, engine().migration_check(workflow, version_ref(target))))
    return result


def migrate_instance(actor, instance_id, target_number, reason):
    """Move one running instance to version `target_number`; refused (and audited) when unsafe."""
    if not (reason or "").strip():
        raise InvalidInput("a reason is required to migrate", {"reason": "required"})
    instance = get_instance(instance_id)
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    target = get_version(instance.version.key, target_number)
    if target.status != "active":
        raise Conflict(f"version {target.version} is {target.status}")

    def migrate(step: Drive) -> AuditEntry:
        if step.instance.status != "running" or step.instance.version_id == target.id:
            raise Conflict("only running instances of another version can migrate")
        source, target_ref = step.instance.version, version_ref(target)
        check = engine().migration_check(step.workflow, target_ref)
        if not check.safe:
            raise Conflict("unsafe migration: " + "; ".join(check.reasons), {"reasons": list(check.reasons)})
        engine().migrate(step.workflow, target_ref)
        step.instance.version_id, step.instance.version, step.ref = target.id, target, target_ref
        return AuditEntry(
            "instance.migrate",
            "process_instance",
            step.instance.id,
            reason=reason.strip(),
            before={"version": source.version},
            after={
                "version": target.version,
                "added": list(check.added),
                "changed": list(check.changed),
                "removed": list(check.removed),
            },
        )

    try:
        return drive(actor, instance_id, migrate).instance
    except Conflict as exc:
        audit_refusal(actor, "instance.migrate_refused", "process_instance", instance_id, exc.message)
        raise


def migrate_batch(actor, instance_ids, target_number, reason):
    """Migrate several instances, each in its own transaction; {id: "migrated" | reason}."""
    results = {}
    for instance_id in instance_ids:
        try:
            migrate_instance(actor, instance_id, target_number, reason)
            results[instance_id] = "migrated"
        except (Conflict, NotFound, InvalidInput) as exc:
            results[instance_id] = exc.message
    return results
