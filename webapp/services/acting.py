"""Who the engine acts for while it runs: the user whose action (start, task completion, timer,
message) drives it, the process key and business key of the instance being driven (so an ERP guard
can tell a release made by a given process from a manual one, and ledger movements can carry the
business key as their reference), and the instance row itself once it exists (for operations that
keep records per instance, e.g. the recall record)."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_ACTOR = ContextVar("traceflow_acting_user", default=None)
_PROCESS = ContextVar("traceflow_acting_process", default=None)
_BUSINESS_KEY = ContextVar("traceflow_acting_business_key", default=None)
_INSTANCE = ContextVar("traceflow_acting_instance", default=None)


@contextmanager
def acting_as(user, process_key=None, business_key=None, instance=None):
    """Run engine steps with `user` as the actor of any service operation they call, on behalf of the
    instance `business_key` of process `process_key` (both None outside a process); `instance` is
    the ProcessInstance row when it exists already (not while an instance starts)."""
    if instance is not None:
        process_key = process_key or instance.version.key
        business_key = business_key or instance.business_key
    variables = (_ACTOR, _PROCESS, _BUSINESS_KEY, _INSTANCE)
    tokens = [var.set(value) for var, value in zip(variables, (user, process_key, business_key, instance))]
    try:
        yield
    finally:
        for var, token in reversed(list(zip(variables, tokens))):
            var.reset(token)


def acting_user():
    """The user the engine currently acts for, or None."""
    return _ACTOR.get()


def operation_actor():
    """The acting user of a service operation; InvalidInput when none (operations never run anonymously)."""
    actor = _ACTOR.get()
    if actor is None:
        from ..errors import InvalidInput

        raise InvalidInput("service operations run only on behalf of a user")
    return actor


def acting_process():
    """The process key of the instance the engine is currently driving, or None (a manual action)."""
    return _PROCESS.get()


def acting_business_key():
    """The business key of the instance the engine is currently driving (e.g. SR-2026-0001), or None."""
    return _BUSINESS_KEY.get()


def acting_instance():
    """The ProcessInstance row the engine currently runs, or None (e.g. while an instance starts)."""
    return _INSTANCE.get()


@dataclass(frozen=True)
class Scheduler:
    """The actor recorded for work no person started: timer wake-ups, the daily certificate check."""

    id: None = None
    username: str = "system:scheduler"
    display_name: str = "Scheduler"
    role_names: frozenset = frozenset()


SCHEDULER = Scheduler()
