"""Who the engine acts for while it runs: the user whose action (start, task completion, timer, message)
drives it, and the process (key) of the instance being driven, so that an ERP guard can tell a release
made by a given process from a manual one."""
from contextlib import contextmanager
from contextvars import ContextVar

_ACTOR = ContextVar("traceflow_acting_user", default=None)
_PROCESS = ContextVar("traceflow_acting_process", default=None)


@contextmanager
def acting_as(user, process_key=None):
    """Run engine steps with `user` as the actor of any service operation they call, on behalf of an
    instance of `process_key` (None outside a process)."""
    token = _ACTOR.set(user)
    process_token = _PROCESS.set(process_key)
    try:
        yield
    finally:
        _PROCESS.reset(process_token)
        _ACTOR.reset(token)


def acting_user():
    """The user the engine currently acts for, or None."""
    return _ACTOR.get()


def acting_process():
    """The process key of the instance the engine is currently driving, or None (a manual action)."""
    return _PROCESS.get()
