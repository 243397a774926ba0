"""The instance driver: the one way a process instance moves.

Every path that changes an instance's workflow (start, task completion, cancel, message delivery,
timer firing, incident retry, migration) is a call of `drive(actor, target, action)`. The driver
owns the sequence and its single failure policy:

    lock the instance row → load its workflow → action (the engine step) → snapshot →
    apply_snapshot (state, task rows, outbox) → the action's audit event → commit → after-commit work

- Everything before the commit is one transaction: any failure rolls all of it back, so the
  database is exactly as before the call.
- A failing service operation, script or engine step is an incident on the instance (recorded in a
  transaction of its own after the rollback) and the caller gets `IncidentRaised` (422) naming the
  operation or the script element, its line and the message: "nothing was saved" is then true.
  A step that is no longer ready, or an instance changed concurrently, is a Conflict (409); a
  refusal by the action (DomainError) passes through unchanged. Neither leaves anything behind.
- Work after the commit (delivering what the step threw to other instances) runs only for the
  outermost unit of work and can never turn the committed call into an error: its failures are
  recorded where they belong (the outbox row, the receiving instance) and logged.

Inside an outer service transaction (an operation starting another process, the demo), the driver
joins it: the outer unit of work commits, and its own after-commit work happens at the outermost
`drive` only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import EngineError, TaskNotReady
from engine.runtime import InstanceSnapshot, VersionRef

from ..errors import Conflict, IncidentRaised
from ..extensions import db
from ..models import ProcessInstance, ProcessVersion
from . import audit
from .acting import acting_as
from .deployments import version_ref
from .engine_access import engine
from .incidents import record_incident
from .uow import transaction
from .workflow_state import NOTHING_BEFORE, Before, apply_snapshot

log = logging.getLogger(__name__)

# Names of the points between the driver's steps, in order. Tests register a hook that raises at
# one of them (fault injection); production registers none.
PHASES = ("locked", "stepped", "applied", "audited", "committed")
_PHASE_HOOKS: list[Callable[[str], None]] = []
_AFTER_COMMIT: list[Callable[[Outcome], None]] = []


@dataclass
class AuditEntry:
    """The audit event an action asks the driver to write with the new state."""

    action: str
    entity_type: str
    entity_id: object
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None


@dataclass
class Drive:
    """What an action works on: the locked instance (None while starting), its workflow and version."""

    session: Session
    actor: Any
    instance: ProcessInstance | None
    workflow: Any
    ref: VersionRef | None
    version: ProcessVersion | None
    now: Any = None
    # Set by the action: a status that overrides the snapshot's (a cancelled instance), the snapshot
    # when the action took it already, and (a start) the new instance's business key.
    status: str | None = None
    snapshot: InstanceSnapshot | None = field(default=None)
    business_key: str | None = None
    # What the rows held when the workflow was loaded (apply_snapshot writes the difference).
    before: Before = NOTHING_BEFORE


@dataclass(frozen=True)
class Outcome:
    """What a drive committed: the instance and whether its step threw messages or signals."""

    instance: ProcessInstance | None
    advanced: bool
    thrown: bool


# An action runs the engine step on `drive.workflow` and returns the audit event to write, or None
# when nothing moved (a message no task caught, a signature still waiting for the next signer):
# then no state is written, and the action's own records (a signature) still commit.
Action = Callable[[Drive], AuditEntry | None]


@dataclass(frozen=True)
class NewInstance:
    """The target of a start: the version to create an instance of."""

    version: ProcessVersion


@dataclass(frozen=True)
class Claim:
    """The target of background work: `pick(session)` selects and locks the next instance to drive
    (e.g. the next due timer, FOR UPDATE SKIP LOCKED) inside the drive's transaction, or None."""

    pick: Callable[[Session], ProcessInstance | None]


def lock_instance(session: Session, instance_id: int) -> ProcessInstance:
    """The instance row with a row lock (SELECT … FOR UPDATE on PostgreSQL), fresh from the database."""
    return session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update(of=ProcessInstance)
        .execution_options(populate_existing=True)
    ).one()


def drive(
    actor: Any,
    target: int | NewInstance | Claim,
    action: Action,
    *,
    task_id: str | None = None,
    data: dict[str, Any] | None = None,
    now: Any = None,
) -> Outcome:
    """Run `action` on the instance `target` (an id, or NewInstance to start one) for `actor`, as
    one transaction; see the module docstring for the failure policy. `task_id` and `data` are
    what an incident records when the step fails (the task whose completion ran it, the submitted
    data); `now` is the clock timers run on."""
    instance_id = target if isinstance(target, int) else None
    try:
        with transaction() as session:
            state = _open(session, actor, target, now)
            if state is None:  # a claim found nothing to do
                return Outcome(None, False, False)
            instance_id = state.instance.id if state.instance is not None else None
            _phase("locked")
            with _acting(state):
                entry = action(state)
            _phase("stepped")
            advanced, thrown = entry is not None, False
            if entry is not None:
                snapshot = state.snapshot or engine().snapshot(state.workflow, state.ref, now)
                state.instance = _instance_for(session, state)
                instance_id = state.instance.id
                apply_snapshot(session, state.instance, snapshot, state.before)
                if state.status is not None:
                    state.instance.status = state.status
                _phase("applied")
                if entry.entity_id is None:
                    entry.entity_id = state.instance.id
                audit.record(
                    actor,
                    entry.action,
                    entry.entity_type,
                    entry.entity_id,
                    before=entry.before,
                    after=entry.after,
                    reason=entry.reason,
                )
                _phase("audited")
                thrown = bool(snapshot.thrown)
    except TaskNotReady as exc:
        raise Conflict(str(exc)) from None
    except StaleDataError:
        raise Conflict("the process instance was changed concurrently; reload and try again") from None
    except EngineError as exc:  # a service operation, a script or the engine itself failed
        if not session_is_outermost():
            # Inside an outer unit of work nothing is rolled back yet: the outermost one records
            # the failure after its rollback (an incident written now would commit the outer work).
            exc.instance_id = instance_id  # type: ignore[attr-defined]
            raise
        raise failure(actor, instance_id, task_id, exc, data) from exc
    outcome = Outcome(state.instance, advanced, thrown)
    if session_is_outermost():
        _after_commit(outcome)
    return outcome


def _open(session: Session, actor: Any, target: int | NewInstance | Claim, now: Any) -> Drive | None:
    if isinstance(target, NewInstance):
        return Drive(session, actor, None, None, version_ref(target.version), target.version, now)
    instance = target.pick(session) if isinstance(target, Claim) else lock_instance(session, target)
    if instance is None:
        return None
    ref = version_ref(instance.version)
    workflow = engine().load(ref, instance.state_json)
    ready, waiting = engine().waiting(workflow)
    # A finished instance holds no open rows or subscriptions, whatever its last state says.
    before = Before(ready, waiting) if instance.status == "running" else NOTHING_BEFORE
    return Drive(session, actor, instance, workflow, ref, instance.version, now, before=before)


@contextmanager
def _acting(state: Drive) -> Iterator[None]:
    if state.instance is not None:
        with acting_as(state.actor, instance=state.instance):
            yield
    else:  # a start: the action sets the business key with acting_as itself
        yield


def _instance_for(session: Session, state: Drive) -> ProcessInstance:
    """The instance row to write: the locked one, or (a start) a new row for the new workflow."""
    if state.instance is not None:
        return state.instance
    assert state.version is not None and state.snapshot is not None
    instance = ProcessInstance(
        version_id=state.version.id,
        business_key=state.business_key,
        status=state.snapshot.status,
        initiator_id=state.actor.id,
        state_json="",
        data={},
    )
    session.add(instance)
    session.flush()
    return instance


def failure(
    actor: Any, instance_id: int | None, task_id: str | None, exc: EngineError, data: dict[str, Any] | None
) -> IncidentRaised:
    """After the rollback: record the incident of a failed operation or script (when there is an
    instance to hold it) and return the error the caller answers with (422, naming the operation or
    the script element, its line and the error)."""
    details: dict[str, Any] = {"operation": getattr(exc, "operation", None) or "process"}
    for name in ("script", "line", "source_line", "error_type"):
        value = getattr(exc, name, None)
        if value is not None:
            details[name] = value
    if instance_id is not None:
        details["instance"] = instance_id
        details["incident"] = record_incident(actor, instance_id, task_id, exc, data or {}).id
    return IncidentRaised(f"nothing was saved: {exc}", details)


def session_is_outermost() -> bool:
    """True outside any service transaction (safe to start the next unit of work)."""
    depth: int = db.session.info.get("traceflow_transaction_depth", 0)
    return depth == 0


def after_commit(work: Callable[[Outcome], None]) -> Callable[[Outcome], None]:
    """Register `work` to run after every outermost committed drive (messages registers delivery:
    the driver sits below the modules that drive instances and imports none of them)."""
    if work not in _AFTER_COMMIT:
        _AFTER_COMMIT.append(work)
    return work


def run_after_commit(outcome: Outcome) -> None:
    """For a unit of work that wraps several drives itself (e.g. start and first completion): the
    after-commit work its inner drives left to the outermost, once it committed."""
    _after_commit(outcome)


def _after_commit(outcome: Outcome) -> None:
    """Run the registered after-commit work. Never raises: the step is committed whatever happens
    here, and a failing delivery is recorded on its outbox row by the delivery itself."""
    _phase_after_commit()
    for work in _AFTER_COMMIT:
        try:
            work(outcome)
        except Exception:  # the caller's committed step must not become an error: logged
            db.session.rollback()
            log.exception("after-commit work %s failed", getattr(work, "__name__", work))


def _phase_after_commit() -> None:
    try:
        _phase("committed")
    except Exception:
        db.session.rollback()
        log.exception("after-commit hook failed")


def _phase(name: str) -> None:
    for hook in _PHASE_HOOKS:
        hook(name)


@contextmanager
def phase_hook(hook: Callable[[str], None]) -> Iterator[None]:
    """Call `hook(phase)` at every phase of every drive while the block runs (fault injection)."""
    _PHASE_HOOKS.append(hook)
    try:
        yield
    finally:
        _PHASE_HOOKS.remove(hook)
