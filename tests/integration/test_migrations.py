"""Schema migrations: an existing database with data upgrades to the current schema without loss."""

import pytest
from sqlalchemy import create_engine, text

from webapp import create_app
from webapp.extensions import db


def _app(url):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True})


@pytest.fixture
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    import psycopg

    from tests.conftest import _psycopg_url

    base = request.getfixturevalue("postgres_url")
    name = f"{base.rsplit('/', 1)[1]}_mig"
    with psycopg.connect(_psycopg_url(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    create_engine(url).dispose()
    with psycopg.connect(_psycopg_url(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize(
    "empty_database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_upgrade_from_the_initial_schema_keeps_users_and_chains_old_audit_events(empty_database):
    from flask_migrate import upgrade

    app = _app(empty_database)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="3c5585f5b84d")
        from webapp.services.users import hash_password

        db.session.execute(
            text(
                "INSERT INTO users (username, full_name, password_hash, active, created_at) "
                "VALUES ('old', 'Old User', :h, true, '2026-01-02 03:04:05')"
            ),
            {"h": hash_password("Old-Password-1")},
        )
        db.session.execute(text("INSERT INTO roles (name, description) VALUES ('qa', '')"))
        db.session.execute(text("INSERT INTO user_roles (user_id, role_id) VALUES (1, 1)"))
        for n in range(3):
            db.session.execute(
                text(
                    "INSERT INTO audit_events (at, actor_id, actor_name, action, entity_type, "
                    "entity_id) VALUES (:at, 1, 'old', :a, 'user', '1')"
                ),
                {"at": f"2026-01-0{n + 1} 10:00:00", "a": f"old.event{n}"},
            )
        db.session.commit()
        upgrade(directory=directory)
        from webapp.services.audit import record, verify_chain
        from webapp.services.users import authenticate

        report = verify_chain()
        assert report.intact and report.events == 3
        user = authenticate("old", "Old-Password-1")
        assert user.role_names == {"qa"} and user.failed_logins == 0
        record(user, "new.event", "user", user.id)
        db.session.commit()
        assert verify_chain().intact and verify_chain().events == 4
        db.session.remove()
        db.engine.dispose()
