"""Shared fixtures: a fresh app and database per test, on SQLite and on PostgreSQL.

Every app-level test runs once per backend. The schema is created through the migrations once per
session and backend; each test then gets a copy (SQLite) or emptied tables (PostgreSQL). PostgreSQL
tests skip with a message when the server is unreachable, except in CI (CI=true), where they fail.
"""
from pathlib import Path
import os
import re
import shutil
import uuid

import pytest

from webapp import create_app
from webapp.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _psycopg_url(url):
    return re.sub(r"^postgresql(\+psycopg)?://", "postgresql://", url)


def _sqlalchemy_url(url):
    return re.sub(r"^postgresql(\+psycopg)?://", "postgresql+psycopg://", url)


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test run (dropped at the end)."""
    import psycopg
    base = os.environ.get("TRACEFLOW_TEST_POSTGRES_URL", DEFAULT_PG)
    try:
        admin = psycopg.connect(_psycopg_url(base), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        message = (f"PostgreSQL is not reachable at {base} ({str(exc).strip().splitlines()[0]}); "
                   "start it or set TRACEFLOW_TEST_POSTGRES_URL to run the PostgreSQL tests")
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = f"traceflow_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    yield _sqlalchemy_url(base.rsplit("/", 1)[0] + "/" + name)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _migrate(url, instance_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context():
        from webapp.cli import upgrade_schema
        upgrade_schema()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file every test copies."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _migrate(f"sqlite:///{path}", path.parent)
    return path


@pytest.fixture(scope="session")
def postgres_migrated(postgres_url):
    """The run's PostgreSQL database with the schema migrated."""
    _migrate(postgres_url, None)
    return postgres_url


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A database URL with a fresh, empty, migrated schema."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_migrated")
    _truncate(url)
    return url


def _truncate(url):
    import psycopg
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
        conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


@pytest.fixture
def app(database_url, tmp_path):
    """The app on a fresh database, with change control deployed and one user per demo role."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret", "TESTING": True,
                      "DEPLOYMENT_APPROVAL": False})
    with app.app_context():
        from webapp.cli import deploy_paths
        deploy_paths([])
        from tests.helpers import create_demo_users
        create_demo_users()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client for HTML pages."""
    return app.test_client()
