"""Browser sessions, kept on the server (21 CFR 11.300: a session ends when the user leaves).

The signed session cookie carries only a random session id; the `user_sessions` row (which stores
the id's SHA-256, as api_tokens do) says whose session it is, when it started and was last used and
whether it was revoked. `security.py` resolves the id on every request, so logging out, changing or
resetting the password and an admin's "end sessions" take effect at once, even for a copy of the
cookie. A session also ends after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS
after it started, whatever its activity. API bearer tokens are separate (`users.issue_token`).
"""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import UserSession
from ..models._types import utcnow
from . import audit
from .uow import transaction

# last_seen_at is written at most this often per session (the idle timeout counts in minutes).
TOUCH_EVERY = timedelta(seconds=30)
IDLE, LIFETIME = "idle timeout", "maximum lifetime"


def _hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _limits():
    config = current_app.config
    return timedelta(minutes=config["SESSION_IDLE_MINUTES"]), timedelta(hours=config["SESSION_MAX_HOURS"])


def start(user):
    """Open a session for `user`; the returned id goes into the cookie and is stored only hashed."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with transaction() as session:
        session.add(UserSession(user_id=user.id, token_hash=_hash(token), created_at=now, last_seen_at=now))
    return token


def resolve(token):
    """(user, None) for a live session; (None, reason) when it just ended by the idle timeout or its
    lifetime (it is revoked now); (None, None) for an unknown or revoked id or an inactive or locked
    user. A live session's last_seen_at moves on (at most every TOUCH_EVERY)."""
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token or "")))
    if row is None or row.revoked_at is not None:
        return None, None
    user = row.user
    if not user.active or user.locked_at is not None:
        return None, None
    idle, lifetime = _limits()
    now = utcnow()
    ended = IDLE if now - row.last_seen_at > idle else LIFETIME if now - row.created_at > lifetime else None
    if ended:
        with transaction():
            row.revoked_at, row.revoked_reason = now, ended
        return None, ended
    if now - row.last_seen_at > TOUCH_EVERY:
        with transaction():
            row.last_seen_at = now
    return user, None


def log_out(user, token):
    """Revoke the session of this cookie (explicit logout, audited)."""
    with transaction():
        ended = _revoke(UserSession.token_hash == _hash(token or ""), "logout")
        if ended and user is not None:
            audit.record(user, "auth.logout", "user", user.id)


def revoke_all(user_id, reason):
    """Revoke every open session of a user inside the caller's transaction; how many were open."""
    return _revoke(UserSession.user_id == user_id, reason)


def _revoke(condition, reason):
    result = db.session.execute(
        update(UserSession)
        .where(condition, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def open_sessions(user_id):
    """How many sessions of the user are open (not revoked, within both time limits)."""
    idle, lifetime = _limits()
    now = utcnow()
    return db.session.scalar(
        select(func.count())
        .select_from(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.last_seen_at >= now - idle,
            UserSession.created_at >= now - lifetime,
        )
    )
