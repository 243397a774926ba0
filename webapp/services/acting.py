"""Who the engine acts for while it runs: the user whose action (start, task completion, timer, message)
drives it, and the process (key) and business key of the instance being driven, so that an ERP guard can tell a release
made by a given process from a manual one."""
from contextlib import contextmanager
from contextvars import ContextVar

_ACTOR = ContextVar("traceflow_acting_user", default=None)
_PROCESS = ContextVar("traceflow_acting_process", default=None)
_BUSINESS_KEY = ContextVar("traceflow_acting_business_key", default=None)


@contextmanager
def acting_as(user, process_key=None, business_key=None):
    """Run engine steps with `user` as the actor of any service operation they call, on behalf of the
    instance `business_key` of process `process_key` (both None outside a process)."""
    tokens = (_ACTOR.set(user), _PROCESS.set(process_key), _BUSINESS_KEY.set(business_key))
    try:
        yield
    finally:
        for var, token in zip((_BUSINESS_KEY, _PROCESS, _ACTOR), reversed(tokens)):
            var.reset(token)


def acting_user():
    """The user the engine currently acts for, or None."""
    return _ACTOR.get()


def acting_process():
    """The process key of the instance the engine is currently driving, or None (a manual action)."""
    return _PROCESS.get()


def acting_business_key():
    """The business key of the instance the engine is currently driving (e.g. SR-2026-0001), or None."""
    return _BUSINESS_KEY.get()
