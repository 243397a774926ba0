"""The daily certificate check: warnings at 90, 60 and 30 days (once each), block on expiry."""

import pytest
from sqlalchemy import select

from tests.erp_world import build_world, days
from tests.helpers import at_once, user
from webapp.extensions import db
from webapp.models import AuditEvent, Notification, Supplier
from webapp.services.certificates import check_certificates


def test_warnings_once_per_threshold_then_block_on_expiry(app):
    with app.app_context():
        build_world()
        first = check_certificates(days(230))  # 70 days left
        assert sorted(first["warned"])[:2] == ["STERI/business_licence", "STERI/iso13485"] and not first["blocked"]
        assert check_certificates(days(231))["warned"] == []
        assert len(check_certificates(days(245))["warned"]) == len(first["warned"])  # 55 days: the 60-day warning
        notes = db.session.scalars(
            select(Notification).where(Notification.user_id == user("qa").id, Notification.kind == "certificate")
        ).all()
        assert len(notes) == 2 * len(first["warned"]) and "expires in 70 days" in notes[0].subject
        expired = check_certificates(days(301))
        assert sorted(expired["blocked"]) == ["STERI", "SUP-REAG", "SUP-TUBE"]  # SUP-NEW is still pending
        status = dict(db.session.execute(select(Supplier.code, Supplier.status)).all())
        assert status["SUP-TUBE"] == "blocked" and status["SUP-NEW"] == "pending"
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "supplier.update").order_by(AuditEvent.seq.desc())
        ).first()
        assert event.actor_name == "system:scheduler" and "expired on" in event.reason
        assert check_certificates(days(302))["blocked"] == []


def test_the_cli_runs_the_check(app):
    with app.app_context():
        build_world()
    result = app.test_cli_runner().invoke(args=["timers", "certificates", "--today", str(days(301))])
    assert result.exit_code == 0 and "blocked: " in result.output and "SUP-TUBE" in result.output


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_app_processes_running_the_daily_check_warn_block_and_requalify_once(app):
    from webapp.models import ProcessInstance, ProcessVersion

    with app.app_context():
        build_world()
        db.session.remove()
    warned = at_once(app, lambda: check_certificates(days(230))["warned"])
    assert sorted(len(w) for w in warned)[0] == 0 and sum(len(w) for w in warned) > 0  # one of them warned
    blocked = at_once(app, lambda: check_certificates(days(301))["blocked"])
    assert sorted(code for b in blocked for code in b) == ["STERI", "SUP-REAG", "SUP-TUBE"]
    with app.app_context():
        notes = db.session.scalars(
            select(Notification.subject).where(
                Notification.user_id == user("qa").id, Notification.kind == "certificate"
            )
        ).all()
        assert len(notes) == len(set(notes))  # nobody told twice
        started = db.session.scalars(
            select(ProcessInstance).join(ProcessVersion).where(ProcessVersion.key == "supplier_qualification")
        ).all()
        assert len(started) == 3
