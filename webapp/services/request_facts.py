"""Who is asking, as the audit trail records it: the request id and the client address of the HTTP
request being served, handed to the services by the web layer (security.py sets them before any
view runs) so no service reads Flask's request globals. Outside a request (CLI, scheduler) both
are None."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestFacts:
    request_id: str | None = None
    client_addr: str | None = None


_FACTS: ContextVar[RequestFacts] = ContextVar("traceflow_request_facts", default=RequestFacts())  # noqa: B039 - frozen


def set_request_facts(request_id: str | None, client_addr: str | None) -> None:
    """Called by the web layer at the start of each request."""
    _FACTS.set(RequestFacts(request_id, client_addr))


def clear_request_facts() -> None:
    """Called by the web layer when the request ends (the thread serves another next)."""
    _FACTS.set(RequestFacts())


def request_facts() -> RequestFacts:
    """The current request's id and client address (both None outside a request)."""
    return _FACTS.get()
