"""The `traceflow` CLI: init, deploy, create-user, demo."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import ProcessInstance, ProcessVersion, User


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_deploy_twice_creates_no_new_version(app, runner):
    result = runner.invoke(args=["deploy"])
    assert result.exit_code == 0 and "change_control v1 unchanged" in result.output
    assert "subcontract_release v1 unchanged" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProcessVersion)) == len(
            {v.key for v in db.session.scalars(select(ProcessVersion))}
        )


def test_deploy_reports_invalid_files_and_fails(app, runner, tmp_path):
    (tmp_path / "broken.bpmn").write_text("<bpmn:definitions")
    result = runner.invoke(args=["deploy", str(tmp_path)])
    assert result.exit_code != 0 and "broken.bpmn" in result.output


def test_create_user_with_any_role(app, runner):
    result = runner.invoke(
        args=[
            "create-user",
            "mrb_chair",
            "--password",
            "Long-enough-1",
            "--role",
            "mrb_member",
            "--role",
            "qa",
            "--name",
            "Material Review",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        created = db.session.scalar(select(User).where(User.username == "mrb_chair"))
        assert created.role_names == {"mrb_member", "qa"} and created.full_name == "Material Review"
        assert created.password_hash.startswith("$argon2")


def test_create_user_refuses_short_passwords(app, runner):
    result = runner.invoke(args=["create-user", "x", "--password", "short", "--role", "qa"])
    assert result.exit_code != 0 and "10" in result.output


@pytest.mark.parametrize(
    "username, password, reason",
    [
        ("mrb_chair", "aaaaaaaaaa", "密码太容易被猜中（强度 0/4，至少需要 3）：像“aaa”这样的重复很容易被猜中。"),
        ("mrb_chair", "qwertyuiop", "密码太容易被猜中"),
        ("mrb_chair", "Mrb_Chair-Long-enough-1", "密码不得包含用户名"),
    ],
)
def test_create_user_refuses_guessable_passwords_with_the_reason(app, runner, username, password, reason):
    """The CLI speaks the configured default language (zh-CN)."""
    result = runner.invoke(args=["create-user", username, "--password", password, "--role", "qa"])
    assert result.exit_code != 0 and reason in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == username)) is None


def test_init_is_idempotent_and_creates_the_access_policys_roles(app, runner):
    from webapp.models import AuditEvent, Role
    from webapp.permissions import policy

    first = runner.invoke(args=["init"])
    assert first.exit_code == 0 and "roles created: " in first.output  # e.g. process_owner, system
    with app.app_context():
        assert set(policy()["roles"]) <= set(db.session.scalars(select(Role.name)))
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "role.create")).all()
        assert event.after["roles"] and set(event.after["roles"]) <= set(policy()["roles"])
    again = runner.invoke(args=["init"])
    assert again.exit_code == 0 and "roles created" not in again.output


def test_demo_prints_logins_and_starts_instances(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    from webapp.demo import DEMO_USERS

    for username, password, _, _ in DEMO_USERS:
        assert username in result.output and password in result.output
    with app.app_context():
        # which: test_erp_demo.py; with the controlled document under review (the test users' passwords
        # are not the demo's, so the demo signs no approval or training for them: one document instance)
        assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 15
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 15


@pytest.mark.postgres
def test_init_deploy_and_demo_on_a_new_postgresql_database(empty_postgres_url, tmp_path):
    """`make run`'s commands, as processes of their own, on a database nothing has touched: every
    policy role is created in one audited event (its entity id fits the column)."""
    import psycopg

    env = {
        **os.environ,
        "DATABASE_URL": empty_postgres_url,
        "TRACEFLOW_DEPLOYMENT_APPROVAL": "0",
        "TRACEFLOW_SECRET_KEY": "cli-test",
    }
    traceflow = str(Path(sys.executable).with_name("traceflow"))
    for command in ("init", "deploy", "demo"):
        done = subprocess.run(
            [traceflow, command], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, f"traceflow {command}: {done.stdout}{done.stderr}"
    assert "requester" in done.stdout
    with psycopg.connect(empty_postgres_url.replace("+psycopg", "")) as conn:
        [(entity_id, roles)] = conn.execute(
            "SELECT entity_id, after -> 'roles' FROM audit_events WHERE action = 'role.create'"
        ).fetchall()
        assert entity_id == "access_policy" and "process_owner" in roles and len(roles) > 10
        # 14, and three controlled documents (two effective, one under review): 17
        assert conn.execute("SELECT count(*) FROM process_instances").fetchone()[0] == 17
