"""Account security (21 CFR 11.300): lockout, password policy and aging, sessions, tokens, cookies."""

from datetime import timedelta

import pytest

from tests.helpers import PASSWORD, Api, Browser, csrf_token, user
from webapp.extensions import db
from webapp.models._types import utcnow


def _login(client, username, password):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def _last_actions(app, n=3):
    with app.app_context():
        from webapp.models import AuditEvent

        return [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.seq.desc()).limit(n)]


def test_lockout_after_five_failures_is_audited_and_admin_unlocks(app):
    client = app.test_client()
    for _ in range(5):
        assert _login(client, "qa", "wrong-password-x").status_code == 401
    assert "auth.lockout" in _last_actions(app, 2)
    assert _login(client, "qa", PASSWORD).status_code == 401
    assert _last_actions(app, 1) == ["auth.login_refused"]
    admin = Browser(app, "admin")
    with app.app_context():
        qa_id = user("qa").id
    admin.post(f"/admin/users/{qa_id}", {"action": "unlock", "active": "true", "roles": "qa"})
    assert _login(client, "qa", PASSWORD).status_code == 302


def test_unknown_user_and_wrong_password_look_the_same(app):
    client = app.test_client()
    unknown, wrong = _login(client, "nobody-here", "whatever-123"), _login(client, "qa", "whatever-123")
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda r: r.get_data(as_text=True).split('name="csrf_token"')[0]  # noqa: E731
    assert strip(unknown) == strip(wrong)
    api = app.test_client()
    a = api.post("/api/v1/auth/token", json={"username": "nobody-here", "password": "x"}).get_json()
    b = api.post("/api/v1/auth/token", json={"username": "qa", "password": "x"}).get_json()
    assert a == b


def test_a_failed_login_with_a_very_long_unknown_username_is_refused_and_audited(app):
    name = "x" * 100
    response = app.test_client().post("/api/v1/auth/token", json={"username": name, "password": "whatever-123"})
    assert response.status_code == 401
    with app.app_context():
        from webapp.models import AuditEvent

        event = db.session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
        assert event.action == "auth.login_failed" and event.after == {"username": name}


@pytest.mark.parametrize(
    "new, english, chinese",
    [
        ("short", "at least 10 characters", "至少需要 10 个字符"),
        ("aaaaaaaaaa", 'too easy to guess (strength 0 of 4, 3 needed): Repeats like "aaa"', "太容易被猜中"),
        ("password123", "This is a very common password.", "这是一个非常常用的密码。"),
        ("Password#2026", "too easy to guess", "太容易被猜中"),
        ("1234567890", "This is a top-100 common password.", "最常用的 100 个密码之一"),
        ("Marine-QA-Sunset-7", "must not contain the username", "不得包含用户名"),
        (PASSWORD, "must differ from the last 5", "最近 5 次"),
    ],
)
def test_password_policy_gives_the_reason_in_the_users_language(app, new, english, chinese):
    from html import unescape

    browser = Browser(app, "qa")
    body = {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    response = browser.post("/password", body)
    assert response.status_code == 400 and chinese in unescape(response.get_data(as_text=True))
    browser.post("/locale", {"locale": "en", "next": "/password"})
    response = browser.post("/password", body)
    assert response.status_code == 400 and english in unescape(response.get_data(as_text=True))
    assert _login(app.test_client(), "qa", PASSWORD).status_code == 302  # unchanged


def test_the_strength_needed_is_configurable(app):
    from webapp.errors import InvalidInput
    from webapp.services.users import change_password

    with app.app_context():
        app.config["PASSWORD_MIN_SCORE"] = 4
        with pytest.raises(InvalidInput, match="强度 3/4，至少需要 4"):  # outside a request: the default language
            change_password(user("qa"), PASSWORD, "Rotation-0-abcdef")
        app.config["PASSWORD_MIN_SCORE"] = 3
        change_password(user("qa"), PASSWORD, "Rotation-0-abcdef")


def test_no_reuse_of_the_last_five_passwords(app):
    with app.app_context():
        from webapp.errors import InvalidInput
        from webapp.services.users import change_password

        passwords = [PASSWORD] + [f"Rotation-{i}-abcdef" for i in range(5)]
        for old, new in zip(passwords, passwords[1:]):
            change_password(user("qa"), old, new)
        with pytest.raises(InvalidInput):
            change_password(user("qa"), passwords[-1], passwords[2])
        change_password(user("qa"), passwords[-1], PASSWORD)  # six changes ago: allowed again


def test_admin_reset_forces_a_change_and_admin_never_learns_the_kept_password(app):
    admin = Browser(app, "admin")
    with app.app_context():
        qa_id, old_hash = user("qa").id, user("qa").password_hash
    page = admin.post(f"/admin/users/{qa_id}", {"action": "reset"}, follow_redirects=True).get_data(as_text=True)
    import re

    temporary = re.search(r"(?:shown once|仅显示一次)[^:：]*[:：]\s*(\S+?)</p>", page).group(1)
    client = app.test_client()
    assert _login(client, "qa", PASSWORD).status_code == 401
    response = _login(client, "qa", temporary)
    assert client.get("/").headers["Location"].endswith("/password")
    token = Api(app, "qa", temporary)
    assert token.get("/api/v1/tasks").status_code == 403
    form = csrf_token(client.get("/password").get_data(as_text=True))
    changed = client.post(
        "/password",
        data={
            "current_password": temporary,
            "new_password": "Mine-Alone-2026",
            "confirm_password": "Mine-Alone-2026",
            "csrf_token": form,
        },
    )
    assert changed.status_code == 302 and client.get("/").status_code == 200
    with app.app_context():
        assert user("qa").password_hash not in (old_hash,) and not user("qa").must_change_password
    assert "user.password_reset" in _last_actions(app, 10)
    assert response.status_code == 302


def test_expired_password_must_be_changed(app):
    with app.app_context():
        user("qa").password_changed_at = utcnow() - timedelta(days=181)
        db.session.commit()
    client = app.test_client()
    _login(client, "qa", PASSWORD)
    assert client.get("/").headers["Location"].endswith("/password")


def _age_sessions(app, username, **ages):
    """Move the server-side session rows of `username` back in time (created_at=..., last_seen_at=...)."""
    with app.app_context():
        from webapp.models import UserSession

        for row in db.session.query(UserSession).filter_by(user_id=user(username).id):
            for column, age in ages.items():
                setattr(row, column, getattr(row, column) - age)
        db.session.commit()


def _logged_out(response):
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_idle_session_ends(app):
    browser = Browser(app, "qa")
    assert browser.get("/").status_code == 200
    _age_sessions(app, "qa", last_seen_at=timedelta(minutes=16))
    assert _logged_out(browser.get("/"))


def test_sessions_end_at_their_maximum_lifetime_however_active(app):
    browser = Browser(app, "qa")
    _age_sessions(app, "qa", created_at=timedelta(hours=11, minutes=59))
    assert browser.get("/").status_code == 200
    _age_sessions(app, "qa", created_at=timedelta(minutes=2))  # 12 h 1 min old, last request just now
    response = browser.get("/")
    assert _logged_out(response)
    assert browser.get("/login").status_code == 200 and app.config["SESSION_MAX_HOURS"] == 12


def test_a_cookie_copied_before_logout_no_longer_opens_the_inbox(app):
    browser = Browser(app, "qa")
    copied = browser.client.get_cookie("session").value
    browser.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert _logged_out(thief.get("/"))
    assert "auth.logout" in _last_actions(app, 2)


def test_the_cookie_carries_only_the_session_id(app):
    browser = Browser(app, "qa")
    with browser.client.session_transaction() as session:
        assert "user_id" not in session and "session_id" in session
        token = session["session_id"]
    with app.app_context():
        from webapp.models import UserSession

        row = db.session.query(UserSession).one()
        assert row.user_id == user("qa").id and token not in row.token_hash and row.revoked_at is None


def test_a_password_change_ends_the_users_other_sessions(app):
    here, elsewhere = Browser(app, "qa"), Browser(app, "qa")
    new = "Another-Horse-7"
    changed = here.post("/password", {"current_password": PASSWORD, "new_password": new, "confirm_password": new})
    assert changed.status_code == 302
    assert here.get("/").status_code == 200
    assert _logged_out(elsewhere.get("/"))


def test_an_admin_ends_a_users_sessions(app):
    qa, other = Browser(app, "qa"), Browser(app, "qa2")
    admin = Browser(app, "admin")
    with app.app_context():
        qa_id = user("qa").id
    page = admin.get(f"/admin/users/{qa_id}").get_data(as_text=True)
    assert 'value="end_sessions"' in page
    admin.post(f"/admin/users/{qa_id}", {"action": "end_sessions"})
    assert _logged_out(qa.get("/"))
    assert other.get("/").status_code == 200 and admin.get("/").status_code == 200
    with app.app_context():
        from webapp.models import AuditEvent

        event = db.session.query(AuditEvent).filter_by(action="user.sessions_ended").one()
        assert (event.actor_name, event.entity_id, event.after) == ("admin", str(qa_id), {"sessions_ended": 1})
    assert Browser(app, "qa").get("/").status_code == 200  # a new login works


def test_api_tokens_are_not_session_bound(app):
    api = Api(app, "qa")
    browser = Browser(app, "qa")
    browser.post("/logout")
    assert api.get("/api/v1/tasks").status_code == 200


def test_expired_and_revoked_tokens_are_refused(app):
    api = Api(app, "qa")
    assert api.get("/api/v1/tasks").status_code == 200
    assert api.client.delete("/api/v1/auth/token", headers=api.headers).status_code == 204
    assert api.get("/api/v1/tasks").status_code == 401
    other = Api(app, "qa")
    with app.app_context():
        from webapp.models import ApiToken

        for row in db.session.query(ApiToken).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert other.get("/api/v1/tasks").status_code == 401


def test_tokens_are_stored_hashed(app):
    api = Api(app, "qa")
    raw = api.headers["Authorization"].split()[1]
    with app.app_context():
        from webapp.models import ApiToken

        assert all(raw not in (row.token_hash,) for row in db.session.query(ApiToken))


def test_session_cookie_flags_by_default(app):
    """The app fixture keeps the default cookie settings."""
    response = app.test_client().get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_production_hashes_keep_argon2s_default_cost_and_tests_use_the_cheap_profile(app):
    """Tests hash at argon2's lowest cost; without the test profile the production parameters hold,
    and either hash verifies (a hash carries its own parameters)."""
    from argon2 import PasswordHasher
    from argon2.profiles import RFC_9106_LOW_MEMORY

    from webapp.services.users import _matches, hash_password

    with app.app_context():
        cheap = hash_password("Correct-Horse-9")
    assert "$m=8,t=1,p=1$" in cheap
    default = PasswordHasher()
    app.config["PASSWORD_HASH_PROFILE"] = "production"
    with app.app_context():
        production = hash_password("Correct-Horse-9")
    assert f"$m={default.memory_cost},t={default.time_cost},p={default.parallelism}$" in production
    assert default.memory_cost >= RFC_9106_LOW_MEMORY.memory_cost
    assert _matches(cheap, "Correct-Horse-9") and _matches(production, "Correct-Horse-9")
    assert not _matches(production, "wrong-horse-99")
