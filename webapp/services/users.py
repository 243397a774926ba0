"""Users, roles, passwords and API tokens."""
from datetime import timedelta
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from ..errors import AuthenticationFailed, InvalidInput
from ..extensions import db
from ..models import ApiToken, Role, User
from ..models._types import utcnow
from . import audit
from .uow import transaction

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("traceflow-dummy-password")
MIN_PASSWORD_LENGTH = 10


def hash_password(password):
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def ensure_roles(names):
    """Return Role rows for `names`, creating missing ones in the current transaction."""
    names = sorted(set(names))
    existing = {r.name: r for r in db.session.scalars(select(Role).where(Role.name.in_(names)))}
    for name in names:
        if name not in existing:
            existing[name] = Role(name=name)
            db.session.add(existing[name])
    return [existing[n] for n in names]


def create_user(username, password, roles=(), full_name="", actor=None):
    """Create a user with an argon2 password hash and the given roles (created when new)."""
    username = (username or "").strip()
    if not username:
        raise InvalidInput("username is required", {"username": "required"})
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters",
                           {"password": f"at least {MIN_PASSWORD_LENGTH} characters"})
    with transaction() as session:
        if session.scalar(select(User).where(User.username == username)):
            raise InvalidInput(f"user {username} exists", {"username": "exists"})
        user = User(username=username, full_name=full_name, password_hash=hash_password(password),
                    roles=ensure_roles(roles))
        session.add(user)
        session.flush()
        audit.record(actor, "user.create", "user", user.id,
                     after={"username": username, "full_name": full_name, "roles": sorted(roles)})
    return user


def authenticate(username, password):
    """Return the active user whose password matches, else raise AuthenticationFailed."""
    user = db.session.scalar(select(User).where(User.username == (username or "")))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.active:
        with transaction():
            audit.record(None, "auth.login_failed", "user", username or "", after={"username": username})
        raise AuthenticationFailed("invalid username or password")
    return user


def issue_token(user, hours):
    """Create an API token for `user`; only its hash is stored, the token is returned once."""
    token = secrets.token_urlsafe(32)
    with transaction() as session:
        session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token),
                             expires_at=utcnow() + timedelta(hours=hours)))
        audit.record(user, "auth.token_issued", "user", user.id)
    return token


def user_for_token(token):
    """The active user a bearer token belongs to, or None when unknown or expired."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token or "")))
    if row is None or row.expires_at < utcnow() or not row.user.active:
        return None
    return row.user


def _token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
