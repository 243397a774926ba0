"""Who is asking: session login for pages, bearer tokens for the API, checked for every request.

A page session is a server-side row (`services/sessions.py`): the cookie carries only its random
id, resolved on every request, so logout, a password change and an admin's "end sessions" revoke
it at once; it also ends after the idle timeout and its absolute lifetime (SESSION_MAX_HOURS).

Every endpoint needs an authenticated user unless it is listed in PUBLIC_ENDPOINTS; the check runs
once here, before any view, so a new route cannot forget it.
"""

import uuid
from urllib.parse import urlsplit

from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from .errors import AuthenticationFailed, PermissionDenied
from .ops import PUBLIC as OPS_PUBLIC
from .permissions import has_permission, permission_for
from .services import sessions
from .services.request_facts import clear_request_facts, set_request_facts
from .services.users import password_change_required, user_for_token

PUBLIC_ENDPOINTS = {"auth.login", "auth.set_locale", "static", "api.issue_token", "api.openapi", *OPS_PUBLIC}
# Reachable while a password change is pending (after an admin reset or expiry).
PASSWORD_CHANGE_ENDPOINTS = {"auth.change_password", "auth.logout"}


def init_app(app):
    """Install the per-request identity and authentication hooks."""
    app.before_request(_identify)
    app.after_request(_security_headers)
    app.teardown_request(lambda _exc: clear_request_facts())


def is_api_request():
    """True for requests under /api/."""
    return request.path.startswith("/api/")


def _identify():
    g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    set_request_facts(g.request_id, request.remote_addr)  # what audit events record, without Flask globals
    g.user = _api_user() if is_api_request() else _session_user()
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if g.user is None:
        if is_api_request():
            raise AuthenticationFailed("a valid bearer token is required")
        return redirect(url_for("auth.login", next=request.full_path))
    if password_change_required(g.user) and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        if is_api_request():
            raise PermissionDenied("a password change is required: log in to the web app and change it")
        return redirect(url_for("auth.change_password"))
    permission = permission_for(request.endpoint)
    if not has_permission(g.user, permission):
        refuse(
            g.user,
            "access.denied",
            "endpoint",
            request.endpoint,
            f"requires permission {permission}" if permission else "no permission declared",
        )
    return None


def safe_next(target, fallback):
    """`target` (a `next` parameter) when it is a path on this site, else `fallback`. Browsers drop tabs
    and newlines from URLs and read a backslash as a slash, so `/\t/evil.example` and `/\\evil.example`
    are `//evil.example` to them: anything with those, a scheme or a host goes to `fallback`."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return fallback
    parts = urlsplit(target)
    return fallback if parts.scheme or parts.netloc else target


def refuse(user, action, entity_type, entity_id, reason):
    """Audit a refused request and raise PermissionDenied (403)."""
    from .services.refusals import audit_refusal

    audit_refusal(user, action, entity_type, entity_id, reason)
    raise PermissionDenied(f"not allowed: {reason}")


def _api_user():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return user_for_token(token.strip())


def _session_user():
    token = session.get("session_id")
    if not token:
        return None
    user, ended = sessions.resolve(token)
    if user is None:
        _clear_keeping_locale()  # revoked, expired or unknown: the id is of no further use
    if ended is not None:
        flash(
            _("Your session ended after inactivity; please log in again.")
            if ended == sessions.IDLE
            else _("Your session reached its maximum length; please log in again."),
            "info",
        )
    return user


def log_in(user):
    """Start a fresh session for `user` (a new session id guards against fixation); the cookie
    carries only the id of the server-side session row."""
    _clear_keeping_locale()
    session["session_id"] = sessions.start(user)


def log_out(user=None):
    """End the session on the server (the cookie's id no longer opens anything), keeping only the
    language choice in the cookie."""
    if session.get("session_id"):
        sessions.log_out(user, session["session_id"])
    _clear_keeping_locale()


def _clear_keeping_locale():
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
    )
    return response
