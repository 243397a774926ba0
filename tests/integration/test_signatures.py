"""Electronic signatures (21 CFR 11.50, 11.70, 11.200) and segregation of duties."""

import hashlib
import json

import pytest
from sqlalchemy import text

from engine import ProcessBundle
from tests.conftest import ROOT
from tests.helpers import DATA_BY_TASK, MAJOR_IMPACT, PASSWORD, Api, Browser, signature_for, table_snapshot, user
from webapp.extensions import db


@pytest.fixture
def api(app):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = Api(app, name)
        return cache[name]

    return get


def advance_to(api, bpmn_id, impact=None):
    """Start a change request and complete tasks (signing where needed) until `bpmn_id` is ready."""
    from tests.helpers import worker_for

    instance = api("requester").post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    while True:
        task = instance["ready_tasks"][0]
        if task["bpmn_id"] == bpmn_id:
            return instance, task
        worker = api(worker_for(task["bpmn_id"], task["lane"].lower().replace(" ", "_")))
        data = impact if task["bpmn_id"] == "impact_assessment" and impact else DATA_BY_TASK[task["bpmn_id"]]
        body = {"data": data}
        if task["signature"]:
            body["signature"] = signature_for(task["signature"]["meaning"])
        instance = worker.post(f"/api/v1/tasks/{task['id']}/complete", body).get_json()["process_instance"]


def test_tasks_declare_their_signature(api):
    _instance, task = advance_to(api, "submit_request")
    assert task["signature"] is None
    _, approval = advance_to(api, "qa_approval")
    assert approval["signature"]["required"] is True and approval["signature"]["meaning"] == "approved"


def test_missing_signature_is_400_and_changes_nothing(app, api):
    _, task = advance_to(api, "qa_approval")
    api("qa2")
    with app.app_context():
        before = table_snapshot()
    response = api("qa2").post(f"/api/v1/tasks/{task['id']}/complete", {"data": DATA_BY_TASK["qa_approval"]})
    assert response.status_code == 400 and "signature" in response.get_json()["errors"]
    wrong_meaning = api("qa2").post(
        f"/api/v1/tasks/{task['id']}/complete",
        {"data": DATA_BY_TASK["qa_approval"], "signature": signature_for("reviewed")},
    )
    assert wrong_meaning.status_code == 400
    with app.app_context():
        assert table_snapshot() == before


def test_wrong_password_is_401_leaves_the_task_and_counts_towards_lockout(app, api):
    instance, task = advance_to(api, "qa_approval")
    api("qa2")
    with app.app_context():
        before = table_snapshot()
    response = api("qa2").post(
        f"/api/v1/tasks/{task['id']}/complete",
        {"data": DATA_BY_TASK["qa_approval"], "signature": {"password": "not-my-password", "meaning": "approved"}},
    )
    assert response.status_code == 401
    with app.app_context():
        after = table_snapshot()
        assert user("qa2").failed_logins == 1
        from webapp.models import AuditEvent

        assert db.session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first().action == "signature.failed"
    for table in ("process_instances", "human_tasks", "signatures"):
        assert after[table] == before[table]
    assert (
        api("qa2").get(f"/api/v1/process-instances/{instance['id']}").get_json()["ready_tasks"][0]["id"] == task["id"]
    )


def test_signature_record_holds_name_time_meaning_and_hash_of_what_was_signed(app, api):
    instance, task = advance_to(api, "qa_approval")
    record_before = api("qa2").get(f"/api/v1/process-instances/{instance['id']}").get_json()["data"]
    response = api("qa2").post(
        f"/api/v1/tasks/{task['id']}/complete",
        {"data": DATA_BY_TASK["qa_approval"], "signature": signature_for("approved")},
    )
    assert response.status_code == 200
    [sig] = [s for s in response.get_json()["process_instance"]["signatures"] if s["bpmn_id"] == "qa_approval"]
    assert (sig["signer"], sig["printed_name"], sig["meaning"], sig["valid"]) == ("qa2", "Qa2", "approved", True)
    assert sig["signed_at"].endswith("+00:00")
    with app.app_context():
        from webapp.models import Signature

        stored = db.session.get(Signature, sig["id"])
        assert stored.content["data"] == DATA_BY_TASK["qa_approval"] and stored.content["record"] == record_before
        canonical = json.dumps(stored.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert sig["content_hash"] == hashlib.sha256(canonical.encode()).hexdigest()


def test_signature_breaks_when_the_signed_content_changes(app, api):
    instance, task = advance_to(api, "qa_approval")
    api("qa2").post(
        f"/api/v1/tasks/{task['id']}/complete",
        {"data": DATA_BY_TASK["qa_approval"], "signature": signature_for("approved")},
    )
    with app.app_context():
        db.session.execute(
            text("UPDATE human_tasks SET submitted_data = :d WHERE task_id = :t"),
            {"d": json.dumps({**DATA_BY_TASK["qa_approval"], "approval_comments": "edited"}), "t": task["id"]},
        )
        db.session.commit()
    sigs = api("qa").get(f"/api/v1/process-instances/{instance['id']}").get_json()["signatures"]
    assert [s["valid"] for s in sigs if s["bpmn_id"] == "qa_approval"] == [False]
    page = Browser(app, "qa").get(f"/instances/{instance['id']}").get_data(as_text=True)
    assert "BROKEN" in page or "已被更改" in page


def test_initiator_may_not_sign_their_own_change(app, api):
    with app.app_context():
        from webapp.services.users import create_user

        create_user("author", PASSWORD, ["requester", "change_board"], "Author Board")
    author = api("author")
    instance = author.post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    task = instance["ready_tasks"][0]
    instance = author.post(f"/api/v1/tasks/{task['id']}/complete", {"data": DATA_BY_TASK["submit_request"]}).get_json()[
        "process_instance"
    ]
    impact = instance["ready_tasks"][0]
    instance = (
        api("qa").post(f"/api/v1/tasks/{impact['id']}/complete", {"data": MAJOR_IMPACT}).get_json()["process_instance"]
    )
    board = next(t for t in instance["ready_tasks"] if t["bpmn_id"] == "board_review")
    response = author.post(
        f"/api/v1/tasks/{board['id']}/complete",
        {"data": DATA_BY_TASK["board_review"], "signature": signature_for("reviewed")},
    )
    assert response.status_code == 403 and "initiator" in response.get_json()["message"]


def test_approver_must_differ_from_the_assessor(api):
    _, task = advance_to(api, "qa_approval")
    response = api("qa").post(
        f"/api/v1/tasks/{task['id']}/complete",
        {"data": DATA_BY_TASK["qa_approval"], "signature": signature_for("approved")},
    )
    assert response.status_code == 403 and "segregation of duties" in response.get_json()["message"]


def test_a_two_signature_step_needs_two_distinct_signers(app, api):
    with app.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "two_signers"))
    instance = api("requester").post("/api/v1/process-instances", {"process_key": "dual_release"}).get_json()
    task = instance["ready_tasks"][0]
    assert task["signature"]["count"] == 2 and task["signature"]["meaning"] == "released"
    body = {"data": {}, "signature": signature_for("released")}
    first = api("qa").post(f"/api/v1/tasks/{task['id']}/complete", body).get_json()["process_instance"]
    assert first["status"] == "running" and first["ready_tasks"][0]["signature"]["signed"] == 1
    again = api("qa").post(f"/api/v1/tasks/{task['id']}/complete", body)
    assert again.status_code == 403 and "different" in again.get_json()["message"]
    second = api("qa2").post(f"/api/v1/tasks/{task['id']}/complete", body).get_json()["process_instance"]
    assert second["status"] == "completed"
    assert sorted(s["signer"] for s in second["signatures"]) == ["qa", "qa2"]


def test_first_signing_in_a_web_session_needs_the_username(app, api):
    _, task = advance_to(api, "qa_approval")
    qa2 = Browser(app, "qa2")
    page = qa2.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert 'name="signature_username"' in page and "批准" in page
    fields = {
        "approval_decision": "approve",
        "approval_comments": "ok",
        "signature_meaning": "approved",
        "signature_password": PASSWORD,
    }
    response = qa2.post(f"/tasks/{task['id']}", fields)
    assert response.status_code == 400
    response = qa2.post(f"/tasks/{task['id']}", {**fields, "signature_username": "qa2"})
    assert response.status_code == 302
    _, next_task = advance_to(api, "qa_approval")
    page = qa2.get(f"/tasks/{next_task['id']}").get_data(as_text=True)
    assert 'name="signature_username"' not in page
    assert qa2.post(f"/tasks/{next_task['id']}", fields).status_code == 302


def test_inbox_marks_signature_steps(app, api):
    advance_to(api, "qa_approval")
    inbox = Browser(app, "qa2").get("/").get_data(as_text=True)
    assert "signature-step" in inbox


def test_a_task_writes_only_its_own_forms_fields_and_a_later_change_shows_on_the_signature(app, api):
    """The regulatory reviewer cannot rewrite the board's decision or the title with their own
    review (400 naming the fields, nothing changed); when the rework legitimately revises what the
    board signed, the board's signature says so, naming who changed it and when."""
    instance, task = advance_to(api, "regulatory_review", impact=MAJOR_IMPACT)
    api("regulatory")  # logged in before the snapshot
    with app.app_context():
        before = table_snapshot()
    forged = {**DATA_BY_TASK["regulatory_review"], "board_decision": "reject", "title": "Another change"}
    body = {"data": forged, "signature": signature_for(task["signature"]["meaning"])}
    refused = api("regulatory").post(f"/api/v1/tasks/{task['id']}/complete", body)
    assert refused.status_code == 400, refused.get_json()
    assert set(refused.get_json()["errors"]) == {"board_decision", "title"}
    with app.app_context():
        assert table_snapshot() == before
    rejected = {**DATA_BY_TASK["regulatory_review"], "regulatory_decision": "reject", "regulatory_comments": "no"}
    body = {"data": rejected, "signature": signature_for(task["signature"]["meaning"])}
    instance = api("regulatory").post(f"/api/v1/tasks/{task['id']}/complete", body).get_json()["process_instance"]
    [revise] = instance["ready_tasks"]
    assert revise["bpmn_id"] == "revise_request"
    board = [s for s in instance["signatures"] if s["bpmn_id"] == "board_review"]
    assert board and board[0]["changed_after_signing"] is None
    revised = (
        api("requester")
        .post(f"/api/v1/tasks/{revise['id']}/complete", {"data": DATA_BY_TASK["revise_request"]})
        .get_json()["process_instance"]
    )
    [board] = [s for s in revised["signatures"] if s["bpmn_id"] == "board_review"]
    changed = board["changed_after_signing"]
    assert "description" in changed["fields"] and "board_decision" in changed["fields"]
    assert changed["by"] == "requester" and changed["at"]
    assert board["valid"]  # the record itself is intact; what it signed was changed afterwards, visibly
    page = Browser(app, "qa").get(f"/instances/{revised['id']}").get_data(as_text=True)
    assert "签名后被修改" in page


def test_nested_objects_and_formless_tasks_refuse_undeclared_fields():
    from webapp.services.forms import undeclared_fields

    schema = {
        "type": "object",
        "properties": {
            "actions": {"type": "array", "items": {"type": "object", "properties": {"action": {"type": "string"}}}},
            "decision": {"type": "string"},
        },
        "if": {"properties": {"decision": {"const": "reject"}}},
        "then": {"properties": {"reason": {"type": "string"}}},
    }
    assert undeclared_fields(schema, {"decision": "reject", "reason": "x", "actions": [{"action": "a"}]}) == []
    assert undeclared_fields(schema, {"actions": [{"action": "a", "owner": "eve"}], "title": "t"}) == [
        "actions.0.owner",
        "title",
    ]
    assert undeclared_fields({}, {"anything": 1}) == ["anything"]
    assert undeclared_fields({"type": "object", "additionalProperties": {"type": "string"}}, {"k": "v"}) == []
