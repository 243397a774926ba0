"""The hash-chained audit trail: verification finds edited, deleted and reordered events."""

import pytest
from sqlalchemy import text

from tests.helpers import DATA_BY_TASK, Api, Browser
from webapp.extensions import db
from webapp.services.audit import verify_chain


@pytest.fixture
def trail(app):
    """A few real events: logins, a start and a completion."""
    api = Api(app, "requester")
    instance = api.post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    api.post(f"/api/v1/tasks/{instance['ready_tasks'][0]['id']}/complete", {"data": DATA_BY_TASK["submit_request"]})
    return app


def _tamper(app, *statements):
    """Change the table directly, as someone with database access would (bypassing PostgreSQL's trigger)."""
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:
            db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete"))
        for statement in statements:
            db.session.execute(text(statement))
        if postgres:
            db.session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete"))
        db.session.commit()


def _report(app):
    with app.app_context():
        return verify_chain()


def test_untouched_trail_verifies(trail):
    report = _report(trail)
    assert report.intact and report.events >= 3
    result = trail.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output


def test_edited_event_is_found(trail):
    _tamper(trail, "UPDATE audit_events SET actor_name = 'someone-else' WHERE seq = 3")
    report = _report(trail)
    assert (report.intact, report.first_bad_seq, report.problem) == (False, 3, "content altered")
    result = trail.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "seq 3" in result.output


def test_deleted_event_is_found(trail):
    _tamper(trail, "DELETE FROM audit_events WHERE seq = 2")
    report = _report(trail)
    assert (report.intact, report.first_bad_seq, report.problem) == (False, 3, "event missing before this one")


def test_reordered_events_are_found(trail):
    _tamper(
        trail,
        "UPDATE audit_events SET seq = -2 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = -2",
    )
    report = _report(trail)
    assert (report.intact, report.first_bad_seq, report.problem) == (False, 2, "order altered")


def test_api_reports_the_chain_state_to_qa_only(trail):
    assert Api(trail, "requester").get("/api/v1/audit/verify").status_code == 403
    qa = Api(trail, "qa")
    assert qa.get("/api/v1/audit/verify").get_json()["intact"] is True
    with trail.app_context():  # the instance start (its seq depends on how many processes were deployed)
        seq = db.session.scalar(text("SELECT seq FROM audit_events WHERE action = 'instance.start'"))
    _tamper(trail, f"UPDATE audit_events SET after = NULL WHERE seq = {seq}")
    body = qa.get("/api/v1/audit/verify").get_json()
    assert body == {
        "intact": False,
        "events": seq,
        "first_bad_seq": seq,
        "first_bad_id": body["first_bad_id"],
        "problem": "content altered",
    }


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_refuses_update_and_delete_of_audit_events(trail):
    import sqlalchemy.exc

    with trail.app_context():
        for statement in ("UPDATE audit_events SET actor_name = 'x' WHERE seq = 1", "DELETE FROM audit_events"):
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
    assert _report(trail).intact


def test_audit_views_filter_and_export(trail):
    qa = Browser(trail, "qa")
    page = qa.get("/audit/?action=task.&user=requester").get_data(as_text=True)
    assert "task.complete" in page and "auth.login" not in page
    csv_text = qa.get("/audit/export.csv?action=task.").get_data(as_text=True)
    header = csv_text.lstrip("\ufeff").splitlines()[0]
    assert header.startswith("seq,at_utc,actor,action") and "task.complete" in csv_text
    pdf = qa.get("/audit/export.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "exported" not in page
    with trail.app_context():
        from webapp.models import AuditEvent

        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.seq)]
        assert "audit.export_csv" in actions and "audit.export_pdf" in actions
    assert Browser(trail, "requester").get("/audit/").status_code == 403


def test_instance_pdf_shows_signatures(app):
    from tests.test_signatures import advance_to

    clients = {}

    def api(name):
        if name not in clients:
            clients[name] = Api(app, name)
        return clients[name]

    instance, task = advance_to(api, "qa_approval")
    from tests.helpers import signature_for

    api("qa2").post(
        f"/api/v1/tasks/{task['id']}/complete",
        {"data": DATA_BY_TASK["qa_approval"], "signature": signature_for("approved")},
    )
    pdf = Browser(app, "qa").get(f"/audit/instances/{instance['id']}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    import io

    from pypdf import PdfReader

    text_content = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Qa2 (qa2)" in text_content and "approved" in text_content and "UTC" in text_content
