"""Shared fixtures: a fresh app and database per test, on SQLite and on PostgreSQL.

Every app-level test runs once per backend. Once per session (and pytest-xdist worker) and backend,
the schema is migrated, the shipped processes are deployed and the demo users created; each test
then gets a copy of that database (a file copy on SQLite; on PostgreSQL the tables are truncated and
refilled from a `seed` schema holding the same rows), so no test pays for migrating or deploying.
PostgreSQL tests skip with a message when the server is unreachable, except in CI (CI=true), where
they fail. Tests hash passwords with argon2 at its lowest cost (`PASSWORD_HASH_PROFILE="test"`).
"""

import os
import re
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def _new_postgres_database():
    """A newly created, empty PostgreSQL database (its SQLAlchemy URL), dropped afterwards; skips
    (fails in CI) when the server is unreachable."""
    import psycopg

    base = os.environ.get("TRACEFLOW_TEST_POSTGRES_URL", DEFAULT_PG)
    try:
        admin = psycopg.connect(_psycopg_url(base), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        message = (
            f"PostgreSQL is not reachable at {base} ({str(exc).strip().splitlines()[0]}); "
            "start it or set TRACEFLOW_TEST_POSTGRES_URL to run the PostgreSQL tests"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = f"traceflow_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _sqlalchemy_url(base.rsplit("/", 1)[0] + "/" + name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test run (dropped at the end)."""
    with _new_postgres_database() as url:
        yield url


@pytest.fixture
def empty_postgres_url():
    """A PostgreSQL database of its own for one test: nothing migrated, nothing deployed."""
    with _new_postgres_database() as url:
        yield url


TEST_CONFIG = {
    "SECRET_KEY": "test-secret",
    "TESTING": True,
    "DEPLOYMENT_APPROVAL": False,
    "PASSWORD_HASH_PROFILE": "test",
}


def _prepare(url):
    """Migrate the schema, deploy the shipped processes and create the demo users at `url`."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from tests.helpers import create_demo_users
        from webapp.cli import deploy_paths, upgrade_schema

        upgrade_schema()
        deploy_paths([])
        create_demo_users()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A prepared SQLite file every test copies."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _prepare(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated(postgres_url):
    """The run's PostgreSQL database, prepared, with a copy of every table's rows in schema `seed`."""
    import psycopg

    _prepare(postgres_url)
    with psycopg.connect(_psycopg_url(postgres_url), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA seed")
        for table in _tables(conn):
            conn.execute(f'CREATE TABLE seed."{table}" AS SELECT * FROM public."{table}"')
    return postgres_url


def _tables(conn):
    return [
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
            "ORDER BY tablename"
        )
    ]


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A database URL with a fresh, empty, migrated schema."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_migrated")
    _restore(url)
    return url


_SEQUENCES = """SELECT s.relname, t.relname, a.attname FROM pg_class s
    JOIN pg_namespace n ON n.oid = s.relnamespace AND n.nspname = 'public'
    JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE s.relkind = 'S'"""


def _restore(url):
    """Put the prepared rows back: empty every table, copy the seed rows in, move each identity
    sequence past them. One transaction, with triggers (and so foreign-key checks) off while the
    rows go in table by table (`session_replication_role` needs the superuser tests run as)."""
    import psycopg

    with psycopg.connect(_psycopg_url(url)) as conn:
        tables = _tables(conn)
        conn.execute("SET LOCAL session_replication_role = replica")
        for table in tables:  # DELETE: far cheaper than TRUNCATE on tables this small
            conn.execute(f'DELETE FROM public."{table}"')
        for table in tables:
            conn.execute(f'INSERT INTO public."{table}" SELECT * FROM seed."{table}"')
        for sequence, table, column in conn.execute(_SEQUENCES).fetchall():
            conn.execute(
                f'SELECT setval(%s, COALESCE((SELECT MAX("{column}") FROM public."{table}"), 0) + 1, false)',
                (f"public.{sequence}",),
            )


@pytest.fixture
def app(database_url, tmp_path):
    """The app on a fresh database with the shipped processes deployed and one user per demo role."""
    app = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "FILE_STORE_DIR": str(tmp_path / "files")}
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client for HTML pages."""
    return app.test_client()
