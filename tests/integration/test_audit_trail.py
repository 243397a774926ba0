"""The hash-chained audit trail: verification finds edited, deleted and reordered events."""

import pytest
from sqlalchemy import text

from tests.helpers import DATA_BY_TASK, Api, Browser
from webapp.extensions import db
from webapp.services import audit
from webapp.services.audit import verify_chain


@pytest.fixture
def trail(app):
    """A few real events: logins, a start and a completion."""
    api = Api(app, "requester")
    instance = api.post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    api.post(f"/api/v1/tasks/{instance['ready_tasks'][0]['id']}/complete", {"data": DATA_BY_TASK["submit_request"]})
    return app


def _tamper(app, *statements):
    """Change the tables directly, as someone with database access would, bypassing the append-only
    triggers (disabled on PostgreSQL; on SQLite, which cannot disable one, dropped and recreated)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL session_replication_role = replica"))  # no triggers fire
            for statement in statements:
                db.session.execute(text(statement))
        else:
            triggers = db.session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'audit_%'")
            ).all()
            assert len(triggers) == 4
            for name, _sql in triggers:
                db.session.execute(text(f"DROP TRIGGER {name}"))
            for statement in statements:
                db.session.execute(text(statement))
            for _name, sql in triggers:
                db.session.execute(text(sql))
        db.session.commit()


def _report(app):
    with app.app_context():
        return verify_chain()


def test_untouched_trail_verifies(trail):
    report = _report(trail)
    assert report.intact and report.events >= 3 and report.checkpoint["events"] == report.events
    result = trail.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output
    assert f"checkpoint seq {report.events}" in result.output


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
        "checkpoint": body["checkpoint"],
    }
    assert body["checkpoint"]["seq"] > seq


def test_the_database_refuses_update_and_delete_of_audit_events(trail):
    """On PostgreSQL and on SQLite alike; the checkpoint can be neither deleted nor moved back."""
    import sqlalchemy.exc

    with trail.app_context():
        for statement, refusal in (
            ("UPDATE audit_events SET actor_name = 'x' WHERE seq = 1", "append-only"),
            ("DELETE FROM audit_events", "append-only"),
            ("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)", "append-only"),
            ("DELETE FROM audit_checkpoint", "only moves forward"),
            ("UPDATE audit_checkpoint SET head_seq = head_seq - 1, events = events - 1", "only moves forward"),
        ):
            with pytest.raises(sqlalchemy.exc.DBAPIError, match=refusal):
                db.session.execute(text(statement))
            db.session.rollback()
    assert _report(trail).intact


def _more_events(app, n):
    with app.app_context():
        for i in range(n):
            audit.record(None, "test.event", "test", i)
        db.session.commit()


def test_the_checkpoint_follows_every_append(trail):
    _more_events(trail, 3)
    with trail.app_context():
        last = db.session.execute(text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")).one()
        count = db.session.scalar(text("SELECT COUNT(*) FROM audit_events"))
        assert audit.checkpoint() | {"at": None} == {"seq": last.seq, "hash": last.hash, "events": count, "at": None}
    report = _report(trail)
    assert report.intact and report.checkpoint["seq"] == report.events == count


def test_events_cut_off_the_end_are_found(trail):
    qa = Browser(trail, "qa")
    _more_events(trail, 25)
    with trail.app_context():
        head = db.session.scalar(text("SELECT MAX(seq) FROM audit_events"))
    _tamper(trail, f"DELETE FROM audit_events WHERE seq > {head - 20}")
    report = _report(trail)
    problem = f"truncated: the trail ends at seq {head - 20} but the checkpoint says {head}"
    assert (report.intact, report.events, report.first_bad_seq, report.problem) == (
        False,
        head - 20,
        head - 19,
        problem,
    )
    result = trail.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and problem in result.output and "intact" not in result.output
    page = qa.get("/audit/?verify=1").get_data(as_text=True)
    chain_report = page.split('<p class="flash error" id="chain-report">')[1].split("</p>")[0]
    assert str(head - 20) in chain_report and str(head) in chain_report
    # The trail grows on (a login is audited) after the checkpoint's head: the cut stays a gap.
    Browser(trail, "qa2")
    report = _report(trail)
    assert (report.intact, report.first_bad_seq, report.problem) == (False, head + 1, "event missing before this one")


def test_cutting_the_end_and_moving_the_checkpoint_back_is_found_by_an_export(trail):
    """Someone able to bypass both triggers can rewind the checkpoint too; the checkpoint in an
    earlier export still shows the cut."""
    _more_events(trail, 5)
    qa = Browser(trail, "qa")
    exported = qa.get("/audit/export.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert exported[-3:-1] == ["", "checkpoint_seq,checkpoint_hash,checkpoint_events,checkpoint_at_utc"]
    seq, digest, events, _at = exported[-1].split(",")
    with trail.app_context():
        assert audit.checkpoint()["seq"] == int(seq) + 1 == int(events) + 1  # the export audited itself
        assert db.session.scalar(text(f"SELECT hash FROM audit_events WHERE seq = {seq}")) == digest
        keep = int(seq) - 3
        kept = db.session.execute(text(f"SELECT hash FROM audit_events WHERE seq = {keep}")).scalar()
    _tamper(
        trail,
        f"DELETE FROM audit_events WHERE seq > {keep}",
        f"UPDATE audit_checkpoint SET head_seq = {keep}, head_hash = '{kept}', events = {keep}",
    )
    report = _report(trail)
    assert report.intact and report.events == keep < int(seq)  # consistent again inside the database …
    assert report.checkpoint["seq"] < int(seq)  # … but behind the checkpoint the export carries


def test_a_missing_checkpoint_is_reported(trail):
    _tamper(trail, "DELETE FROM audit_checkpoint")
    report = _report(trail)
    assert (report.intact, report.problem) == (False, "the audit checkpoint is missing")
    _more_events(trail, 1)  # the next append starts a new checkpoint, which counts from there
    report = _report(trail)
    assert not report.intact and report.problem.startswith("the checkpoint counts 1 events up to seq")


def test_audit_views_filter_and_export(trail):
    qa = Browser(trail, "qa")
    page = qa.get("/audit/?action=task.&user=requester").get_data(as_text=True)
    rows = page[page.index('<table class="list audit">') :]  # the events (the filter dropdowns list every action)
    assert "task.complete" in rows and "auth.login" not in rows
    csv_text = qa.get("/audit/export.csv?action=task.").get_data(as_text=True)
    header = csv_text.lstrip("\ufeff").splitlines()[0]
    assert header.startswith("seq,at_utc,actor,action") and "task.complete" in csv_text
    assert csv_text.splitlines()[-2].startswith("checkpoint_seq,checkpoint_hash")
    pdf = qa.get("/audit/export.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "审计检查点：序号" in _pdf_text(pdf.data)
    assert "exported" not in page
    with trail.app_context():
        from webapp.models import AuditEvent

        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.seq)]
        assert "audit.export_csv" in actions and "audit.export_pdf" in actions
    assert Browser(trail, "requester").get("/audit/").status_code == 403


def test_instance_pdf_shows_signatures(app):
    from tests.integration.test_signatures import advance_to

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
    text_content = _pdf_text(pdf.data)
    assert "Qa2 (qa2)" in text_content and "批准" in text_content and "UTC" in text_content
    assert "审计检查点：序号" in text_content


def _pdf_text(data):
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
