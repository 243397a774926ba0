"""Who the engine acts for while it runs: the user whose action (start, task completion) drives it."""
from contextlib import contextmanager
from contextvars import ContextVar

_ACTOR = ContextVar("traceflow_acting_user", default=None)


@contextmanager
def acting_as(user):
    """Run engine steps with `user` as the actor of any service operation they call."""
    token = _ACTOR.set(user)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def acting_user():
    """The user the engine currently acts for, or None."""
    return _ACTOR.get()
