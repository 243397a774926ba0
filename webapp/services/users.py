"""Users, roles, passwords, lockout and API tokens (21 CFR 11.300: unique IDs, aging, lockout)."""

import hashlib
import secrets
import threading
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from zxcvbn import zxcvbn

from ..errors import AuthenticationFailed, InvalidInput, NotFound
from ..extensions import db
from ..models import ApiToken, PasswordHistory, Role, User
from ..models._types import utcnow
from . import audit, sessions
from .uow import transaction

_PRODUCTION_HASHER = PasswordHasher()
# argon2 at its lowest cost, for test configurations only (PASSWORD_HASH_PROFILE="test"): a hash
# records its own parameters, so verifying works whichever profile made it.
_TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
# Verified against when the username is unknown, so a login takes as long either way.
_DUMMY_HASH = _PRODUCTION_HASHER.hash("traceflow-dummy-password")
LOGIN_FAILED = "login failed: wrong username or password, or the account is locked or inactive"


def _setting(name, default):
    return current_app.config.get(name, default)


def _hasher():
    """The production argon2 parameters, unless the app is configured with the test profile."""
    return _TEST_HASHER if _setting("PASSWORD_HASH_PROFILE", "production") == "test" else _PRODUCTION_HASHER


def hash_password(password):
    """An argon2id hash of `password`."""
    return _hasher().hash(password)


def _matches(password_hash, password):
    try:
        return _PRODUCTION_HASHER.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def ensure_roles(names):
    """Return Role rows for `names`, creating missing ones in the current transaction."""
    names = sorted(set(names))
    existing = {r.name: r for r in db.session.scalars(select(Role).where(Role.name.in_(names)))}
    for name in names:
        if name not in existing:
            existing[name] = Role(name=name)
            db.session.add(existing[name])
    return [existing[n] for n in names]


def create_policy_roles(names):
    """Create the access policy's roles that do not exist yet (audited); the names created. Lanes
    that name these roles then deploy without a "role does not exist yet" warning, so the warning
    is left for a lane naming a role outside the policy (a typo, or a role still to be granted)."""
    with transaction():
        existing = set(db.session.scalars(select(Role.name)))
        created = sorted(set(names) - existing)
        if created:
            ensure_roles(created)
            audit.record(  # one event for the lot; the names go in `after` (entity_id holds 60 characters)
                None,
                "role.create",
                "role",
                "access_policy",
                after={"roles": created},
                reason="roles of the access policy (rules/access_policy.json)",
            )
    return created


def N_(text):
    """Mark `text` for translation; it is translated when a refusal shows it."""
    return text


# zxcvbn's warnings (its feedback is English only), translated through our catalogue.
STRENGTH_WARNINGS = {
    N_("Straight rows of keys are easy to guess."),
    N_("Short keyboard patterns are easy to guess."),
    N_('Repeats like "aaa" are easy to guess.'),
    N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
    N_('Sequences like "abc" or "6543" are easy to guess.'),
    N_("Recent years are easy to guess."),
    N_("Dates are often easy to guess."),
    N_("This is a top-10 common password."),
    N_("This is a top-100 common password."),
    N_("This is a very common password."),
    N_("This is similar to a commonly used password."),
    N_("A word by itself is easy to guess."),
    N_("Names and surnames by themselves are easy to guess."),
    N_("Common names and surnames are easy to guess."),
}
# zxcvbn rates at most this many characters (it refuses longer input); a longer password is rated
# by its beginning. Its user-input dictionary is module state, hence the lock.
STRENGTH_MAX_LENGTH = 72
_STRENGTH_LOCK = threading.Lock()


def _refuse_password(message):
    raise InvalidInput(message, {"password": message})


def password_strength(password, user_inputs=()):
    """zxcvbn's estimate of `password`: (score 0–4, its warning or "")."""
    with _STRENGTH_LOCK:
        result = zxcvbn(password[:STRENGTH_MAX_LENGTH], user_inputs=[i for i in user_inputs if i])
    return result["score"], result["feedback"]["warning"] or ""


def check_password_policy(password, user=None, username=None, full_name=""):
    """Raise InvalidInput, with the reason in the user's language, unless `password` is long enough,
    does not contain the username, is hard enough to guess (zxcvbn score ≥ PASSWORD_MIN_SCORE, which
    refuses common and breached-style passwords) and is not one of the user's last ones."""
    password = password or ""
    minimum = _setting("PASSWORD_MIN_LENGTH", 10)
    if len(password) < minimum:
        _refuse_password(_("the password must have at least %(minimum)s characters", minimum=minimum))
    username = username or getattr(user, "username", "")
    if username and username.lower() in password.lower():
        _refuse_password(_("the password must not contain the username"))
    needed = _setting("PASSWORD_MIN_SCORE", 3)
    score, warning = password_strength(password, (username, full_name or getattr(user, "full_name", "")))
    if score < needed:
        hint = _(warning) if warning in STRENGTH_WARNINGS else _("Add another word or two; uncommon words are better.")
        _refuse_password(
            _(
                "the password is too easy to guess (strength %(score)s of 4, %(needed)s needed): %(hint)s",
                score=score,
                needed=needed,
                hint=hint,
            )
        )
    if user is not None:
        keep = _setting("PASSWORD_HISTORY", 5)
        recent = db.session.scalars(
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.user_id == user.id)
            .order_by(PasswordHistory.id.desc())
            .limit(keep)
        ).all()
        if any(_matches(h, password) for h in [user.password_hash, *recent][:keep]):
            _refuse_password(_("the password must differ from the last %(keep)s passwords", keep=keep))


def create_user(username, password, roles=(), full_name="", actor=None, must_change=False, one_time=False):
    """Create a user with an argon2 password hash and the given roles (created when new). A
    `one_time` password (random, made by create_with_one_time_password, replaced at the first login)
    skips the policy: a random string may happen to contain a short username."""
    username = (username or "").strip()
    if not username:
        raise InvalidInput("username is required", {"username": "required"})
    if not one_time:
        check_password_policy(password, username=username, full_name=full_name)
    with transaction() as session:
        if session.scalar(select(User).where(User.username == username)):
            raise InvalidInput(f"user {username} exists", {"username": "exists"})
        user = User(
            username=username,
            full_name=full_name,
            password_hash=hash_password(password),
            roles=ensure_roles(roles),
            must_change_password=must_change,
            password_changed_at=utcnow(),
        )
        session.add(user)
        session.flush()
        audit.record(
            actor,
            "user.create",
            "user",
            user.id,
            after={"username": username, "full_name": full_name, "roles": sorted(roles)},
        )
    return user


def password_verifies(user, password):
    """True when `password` is `user`'s (no lockout count, no audit: for the demo loader, which signs
    only as users whose demo password it knows)."""
    return user is not None and bool(password) and _matches(user.password_hash, password)


def _fail_login(user, username, action="auth.login_failed", count=True):
    """Count a failed attempt, lock the account at the threshold, audit both; then refuse."""
    with transaction():
        if user is not None and count:
            user.failed_logins += 1
            if user.locked_at is None and user.failed_logins >= _setting("LOCKOUT_THRESHOLD", 5):
                user.locked_at = utcnow()
                audit.record(user, "auth.lockout", "user", user.id, after={"failed_logins": user.failed_logins})
        # An unknown name is cut to what entity_id holds (60 characters); `after` keeps it whole.
        entity_id = user.id if user else (username or "")[:60]
        audit.record(user, action, "user", entity_id, after={"username": username})
    raise AuthenticationFailed(LOGIN_FAILED)


def record_login(user):
    """Audit a successful interactive login."""
    with transaction():
        audit.record(user, "auth.login", "user", user.id)


def set_locale(user, locale):
    """Remember the user's language (notifications by e-mail are written in it); not audited: a
    display preference, not a record."""
    with transaction() as session:
        row = session.get(User, user.id)
        if row is not None and row.locale != locale:
            row.locale = locale


def create_with_one_time_password(admin, username, roles, full_name=""):
    """An admin creates an account: a random one-time password, shown once, changed at first login."""
    temporary = secrets.token_urlsafe(12)
    user = create_user(username, temporary, roles, full_name, actor=admin, must_change=True, one_time=True)
    return user, temporary


def authenticate(username, password):
    """Return the active, unlocked user whose password matches; else count, audit and refuse."""
    user = db.session.scalar(select(User).where(User.username == (username or "")))
    ok = _matches(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok:
        _fail_login(user, username)
    if not user.active or user.locked_at is not None:
        _fail_login(user, username, "auth.login_refused", count=False)
    with transaction():
        user.failed_logins, user.last_login_at = 0, utcnow()
    return user


def reauthenticate(user, password, username=None):
    """Signature re-authentication (11.200): the password, and the username when it is asked for."""
    if username is not None and username != user.username:
        _fail_login(user, username, "signature.failed")
    if not _matches(user.password_hash, password) or user.locked_at is not None or not user.active:
        _fail_login(user, user.username, "signature.failed")
    with transaction():
        user.failed_logins = 0


def password_change_required(user):
    """True after an admin reset or when the password is older than PASSWORD_MAX_AGE_DAYS."""
    max_age = _setting("PASSWORD_MAX_AGE_DAYS", 180)
    expired = bool(max_age) and user.password_changed_at + timedelta(days=max_age) < utcnow()
    return user.must_change_password or expired


def change_password(user, current, new):
    """The user's own password change: checks the current one and the policy, keeps history; every
    session of the user ends (the caller starts a fresh one for the browser that changed it)."""
    if not _matches(user.password_hash, current):
        _fail_login(user, user.username, "auth.password_change_failed")
    check_password_policy(new, user)
    with transaction() as session:
        session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
        user.password_hash, user.password_changed_at, user.must_change_password = hash_password(new), utcnow(), False
        ended = sessions.revoke_all(user.id, "password change")
        audit.record(user, "auth.password_change", "user", user.id, after={"sessions_ended": ended})


def reset_password(admin, user_id):
    """Admin reset: a random one-time password the user must replace at the next login; the user's
    sessions end."""
    temporary = secrets.token_urlsafe(12)
    with transaction() as session:
        user = _get(session, user_id)
        session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
        user.password_hash, user.must_change_password = hash_password(temporary), True
        user.failed_logins, user.locked_at = 0, None
        ended = sessions.revoke_all(user.id, "password reset")
        audit.record(
            admin,
            "user.password_reset",
            "user",
            user.id,
            after={"sessions_ended": ended},
            reason="admin reset; change forced at next login",
        )
    return temporary


def end_user_sessions(admin, user_id):
    """An admin ends every session of a user (a lost laptop, a leaver): audited with the count."""
    with transaction():
        user = get_user(user_id)
        ended = sessions.revoke_all(user.id, "ended by an administrator")
        audit.record(admin, "user.sessions_ended", "user", user.id, after={"sessions_ended": ended})
    return ended


def get_user(user_id):
    """The user with this id; NotFound otherwise."""
    return _get(db.session, user_id)


def _get(session, user_id):
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def update_user(admin, user_id, roles=None, active=None, full_name=None, unlock=False):
    """Admin changes to roles, activity, name or lock state; audited with before/after."""
    with transaction() as session:
        user = _get(session, user_id)
        before = {
            "roles": sorted(user.role_names),
            "active": user.active,
            "full_name": user.full_name,
            "locked": user.locked_at is not None,
        }
        if roles is not None:
            user.roles = ensure_roles(roles)
        if active is not None:
            user.active = active
        if full_name is not None:
            user.full_name = full_name
        if unlock:
            user.locked_at, user.failed_logins = None, 0
        after = {
            "roles": sorted(r.name for r in user.roles),
            "active": user.active,
            "full_name": user.full_name,
            "locked": user.locked_at is not None,
        }
        old, new = audit.diff(before, after)
        if new or old:
            audit.record(admin, "user.update", "user", user.id, before=old, after=new)
    return user


def issue_token(user, hours):
    """Create an API token for `user`; only its hash is stored, the token is returned once."""
    token = secrets.token_urlsafe(32)
    with transaction() as session:
        session.add(
            ApiToken(user_id=user.id, token_hash=_token_hash(token), expires_at=utcnow() + timedelta(hours=hours))
        )
        audit.record(user, "auth.token_issued", "user", user.id)
    return token


def revoke_token(user, token):
    """Revoke one of the user's tokens."""
    with transaction() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token or "")))
        if row is not None and row.user_id == user.id and row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(user, "auth.token_revoked", "user", user.id)


def user_for_token(token):
    """The active user a bearer token belongs to, or None when unknown, expired or revoked."""
    # One statement: the token, its user and the user's roles (every API request asks this).
    query = (
        select(ApiToken)
        .where(ApiToken.token_hash == _token_hash(token or ""))
        .options(joinedload(ApiToken.user, innerjoin=True).joinedload(User.roles))
    )
    row = db.session.scalars(query).unique().first()
    if row is None or row.revoked_at is not None or row.expires_at < utcnow():
        return None
    user = row.user
    return user if user.active and user.locked_at is None else None


def _token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
