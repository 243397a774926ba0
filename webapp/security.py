"""Who is asking: session login for pages, bearer tokens for the API, checked for every request.

Every endpoint needs an authenticated user unless it is listed in PUBLIC_ENDPOINTS; the check runs
once here, before any view, so a new route cannot forget it.
"""

import hashlib
import time
import uuid
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from .errors import AuthenticationFailed, PermissionDenied
from .extensions import db
from .models import User
from .permissions import has_permission, permission_for
from .services.users import password_change_required, user_for_token

PUBLIC_ENDPOINTS = {"auth.login", "auth.set_locale", "static", "api.issue_token", "api.openapi"}
# Reachable while a password change is pending (after an admin reset or expiry).
PASSWORD_CHANGE_ENDPOINTS = {"auth.change_password", "auth.logout"}


def init_app(app):
    """Install the per-request identity and authentication hooks."""
    app.before_request(_identify)
    app.after_request(_security_headers)


def is_api_request():
    """True for requests under /api/."""
    return request.path.startswith("/api/")


def _identify():
    g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
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
    user_id = session.get("user_id")
    user = db.session.get(User, user_id) if user_id else None
    if (
        user is None
        or not user.active
        or user.locked_at is not None
        or session.get("credential") != credential_stamp(user)
    ):
        return None
    now = time.time()
    idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if now - session.get("seen", 0) > idle_limit:
        log_out()
        flash(_("Your session ended after inactivity; please log in again."), "info")
        return None
    session["seen"] = now
    return user


def credential_stamp(user):
    """A digest of the password hash: a password change ends every session of the user, while the
    (readable, only signed) session cookie carries nothing of the hash itself."""
    return hashlib.sha256(f"traceflow-session:{user.password_hash}".encode()).hexdigest()[:24]


def log_in(user):
    """Start a fresh session for `user` (a new session guards against fixation)."""
    locale = session.get("locale")
    session.clear()
    session["user_id"] = user.id
    session["credential"] = credential_stamp(user)
    session["seen"] = time.time()
    if locale:
        session["locale"] = locale


def log_out():
    """End the session, keeping only the language choice."""
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
