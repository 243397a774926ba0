"""Who the engine acts for while it runs: the user whose action (start, task completion) drives it,
and the process instance it runs (when that instance exists already), for operations that keep
records per instance (e.g. the recall record)."""
from contextlib import contextmanager
from contextvars import ContextVar

_ACTOR = ContextVar("traceflow_acting_user", default=None)
_INSTANCE = ContextVar("traceflow_acting_instance", default=None)


@contextmanager
def acting_as(user, instance=None):
    """Run engine steps with `user` as the actor of any service operation they call (and `instance`
    as the process instance they run in, when given)."""
    token = _ACTOR.set(user)
    instance_token = _INSTANCE.set(instance)
    try:
        yield
    finally:
        _INSTANCE.reset(instance_token)
        _ACTOR.reset(token)


def acting_user():
    """The user the engine currently acts for, or None."""
    return _ACTOR.get()


def acting_instance():
    """The ProcessInstance row the engine currently runs, or None (e.g. while an instance starts)."""
    return _INSTANCE.get()
