"""Migrating running instances to another version of their process, one by one or in a batch."""

from dataclasses import dataclass

from sqlalchemy import select

from engine import EngineError

from ..errors import Conflict, InvalidInput, NotFound, ProcessFailure
from ..models import ProcessInstance
from . import audit
from .deployments import get_version, version_ref
from .engine_access import engine
from .instances import audit_refusal, get_instance
from .tasks import _lock_instance
from .uow import transaction
from .workflow_state import apply_snapshot


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
    try:
        with transaction() as session:
            instance = _lock_instance(session, instance_id)
            if instance.status != "running" or instance.version_id == target.id:
                raise Conflict("only running instances of another version can migrate")
            source, workflow = instance.version, engine().load(version_ref(instance.version), instance.state_json)
            check = engine().migration_check(workflow, version_ref(target))
            if not check.safe:
                raise Conflict("unsafe migration: " + "; ".join(check.reasons), {"reasons": list(check.reasons)})
            engine().migrate(workflow, version_ref(target))
            instance.version_id, instance.version = target.id, target
            apply_snapshot(session, instance, engine().snapshot(workflow, version_ref(target)))
            audit.record(
                actor,
                "instance.migrate",
                "process_instance",
                instance.id,
                reason=reason.strip(),
                before={"version": source.version},
                after={
                    "version": target.version,
                    "added": list(check.added),
                    "changed": list(check.changed),
                    "removed": list(check.removed),
                },
            )
    except Conflict as exc:
        audit_refusal(actor, "instance.migrate_refused", "process_instance", instance_id, exc.message)
        raise
    except EngineError as exc:
        raise ProcessFailure(f"the migration failed: {exc}") from exc
    return instance


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
