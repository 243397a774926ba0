"""Messages between instances: thrown into the outbox with the state, delivered to a waiting
instance or used to start a process, in their own transactions, audited."""

import pytest
from sqlalchemy import select

from engine import ProcessBundle
from tests.conftest import ROOT
from tests.helpers import user
from webapp.extensions import db
from webapp.models import AuditEvent, OutboxMessage
from webapp.services import instances, queries, tasks
from webapp.services.messages import deliver_pending


@pytest.fixture
def ctx(app):
    with app.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "messages"))
        yield app


def _open(instance_id):
    return [r for r in queries.instance_tasks(instance_id) if r.completed_at is None]


def test_a_message_starts_a_process_and_its_answer_reaches_the_waiting_sender(ctx):
    complaint = instances.start_instance(user("qa"), "complaint", {"summary": "seal open"})
    [assess] = _open(complaint.id)
    tasks.complete_task(user("qa"), assess.task_id, {})
    capa = db.session.scalars(
        select(instances.ProcessInstance).where(instances.ProcessInstance.id != complaint.id)
    ).one()
    assert capa.version.key == "capa_intake" and capa.initiator.username == "qa"
    assert [r.bpmn_id for r in _open(capa.id)] == ["investigate"]
    assert capa.data["request"] == {"source": "complaint", "summary": "seal open"}
    db.session.expire_all()
    assert [r.bpmn_id for r in _open(complaint.id)] == ["close"]
    assert instances.get_instance(complaint.id).data["capa"] == {"number": "CAPA for seal open"}
    sent = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.name, m.delivered_to) for m in sent] == [
        ("stub_open_capa", [capa.id]),
        ("stub_capa_opened", [complaint.id]),
    ]
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions.count("message.delivered") == 2


def test_a_process_with_a_plain_and_a_message_start_runs_only_the_path_it_was_started_on(ctx):
    by_hand = instances.start_instance(user("qa"), "capa_intake", {"request": {"summary": "by hand"}})
    assert [r.bpmn_id for r in _open(by_hand.id)] == ["investigate"]
    assert db.session.scalars(select(OutboxMessage)).all() == []
    complaint = instances.start_instance(user("qa"), "complaint", {"summary": "seal open"})
    tasks.complete_task(user("qa"), _open(complaint.id)[0].task_id, {})
    by_message = db.session.scalars(
        select(instances.ProcessInstance).where(instances.ProcessInstance.id.not_in([by_hand.id, complaint.id]))
    ).one()
    assert [r.bpmn_id for r in _open(by_message.id)] == ["investigate"]
    states = engine_states(by_message)
    assert states["start_by_hand"] == "cancelled" and states["start_by_message"] == "completed"
    start = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "instance.start", AuditEvent.entity_id == str(by_message.id))
    ).one()
    assert start.after["message"] == "stub_open_capa"


def engine_states(instance):
    from webapp.services.deployments import version_ref
    from webapp.services.engine_access import engine

    ref = version_ref(instance.version)
    return engine().element_states(engine().load(ref, instance.state_json))[0]


def test_a_message_nobody_waits_for_stays_pending(ctx):
    from webapp.models import ProcessVersion

    for version in db.session.scalars(select(ProcessVersion).where(ProcessVersion.key == "capa_intake")):
        version.status = "rejected"
    db.session.commit()
    complaint = instances.start_instance(user("qa"), "complaint", {"summary": "x"})
    tasks.complete_task(user("qa"), _open(complaint.id)[0].task_id, {})
    [pending] = db.session.scalars(select(OutboxMessage)).all()
    assert pending.delivered_at is None and _open(complaint.id) == []
    assert deliver_pending() == [] and deliver_pending() == []
    reason = "no running instance waits for 'stub_open_capa' and no active process starts with it"
    db.session.expire_all()
    assert db.session.get(OutboxMessage, pending.id).last_error == reason
    # shown on the throwing instance (API and page) and audited once, not on every delivery run
    from tests.helpers import Api, Browser

    shown = Api(ctx, "qa").get(f"/api/v1/process-instances/{complaint.id}").get_json()
    assert [(m["name"], m["reason"]) for m in shown["pending_messages"]] == [("stub_open_capa", reason)]
    browser = Browser(ctx, "qa")
    page = browser.get(f"/instances/{complaint.id}").get_data(as_text=True)
    assert "消息未送达" in page and "stub_open_capa" in page
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "message.undeliverable")).all()
    assert [e.after["reason"] for e in events] == [reason]
    # the instance list marks it and can show only the instances needing attention
    other = instances.start_instance(user("qa"), "complaint", {"summary": "fine"})
    listed = browser.get("/instances").get_data(as_text=True)
    assert complaint.business_key in listed and other.business_key in listed and "未送达消息 1" in listed
    attention = browser.get("/instances?attention=1").get_data(as_text=True)
    assert complaint.business_key in attention and other.business_key not in attention


def test_a_message_the_throwers_initiator_may_not_use_to_start_a_process_says_so(ctx):
    from webapp.models import ProcessVersion

    intake = db.session.scalars(select(ProcessVersion).where(ProcessVersion.key == "capa_intake")).one()
    intake.start_roles = ["qa_manager"]
    db.session.commit()
    complaint = instances.start_instance(user("qa"), "complaint", {"summary": "x"})
    tasks.complete_task(user("qa"), _open(complaint.id)[0].task_id, {})
    [pending] = db.session.scalars(select(OutboxMessage)).all()
    assert pending.delivered_at is None
    assert pending.last_error == (
        "no running instance waits for 'stub_open_capa'; qa may not start capa_intake (start roles: qa_manager)"
    )
    intake.start_roles = ["qa"]  # the process owner widens the start roles
    db.session.commit()
    assert pending.id in deliver_pending()  # (and the started intake's reply after it)
    shown = instances.get_instance(complaint.id)
    from webapp.api.presenters import instance_json

    assert instance_json(shown)["pending_messages"] == []


@pytest.fixture
def correlated(app):
    with app.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "correlation"))
        yield app


def test_a_reply_reaches_the_instance_its_correlation_key_names_not_the_first_waiting(correlated):
    first = instances.start_instance(user("qa"), "stub_requester", {"ref": "A"})
    second = instances.start_instance(user("qa"), "stub_requester", {"ref": "B"})
    responders = db.session.scalars(
        select(instances.ProcessInstance)
        .where(instances.ProcessInstance.id.not_in([first.id, second.id]))
        .order_by(instances.ProcessInstance.id)
    ).all()
    assert [r.data["request"]["ref"] for r in responders] == ["A", "B"]
    [answer_b] = _open(responders[1].id)
    tasks.complete_task(user("qa"), answer_b.task_id, {"answer": "for B"})
    db.session.expire_all()
    assert _open(first.id) == [] and [r.bpmn_id for r in _open(second.id)] == ["read_reply"]
    assert instances.get_instance(second.id).data["reply"] == {"ref": "B", "answer": "for B"}
    [answer_a] = _open(responders[0].id)
    tasks.complete_task(user("qa"), answer_a.task_id, {"answer": "for A"})
    db.session.expire_all()
    assert instances.get_instance(first.id).data["reply"] == {"ref": "A", "answer": "for A"}


def test_unnamed_message_and_signal_events_deploy_with_a_warning_and_run(app):
    """A bundle in SpiffArena's style: an unnamed boundary signal (a "signal button") and an unnamed
    message throw. Deploying warns about both; the instance runs to its end, no 500 on the way."""
    from tests.helpers import Api
    from webapp.services.deployments import deploy_bundle, validate

    with app.app_context():
        bundle = ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "unnamed_events")
        report = validate(bundle)
        assert report.errors == ()
        unnamed = sorted(w["element"] for w in report.warnings if "without a name" in w["message"])
        assert unnamed == ["MessageEventDefinition_unnamed", "SignalEventDefinition_unnamed"]
        deploy_bundle(bundle)
    api = Api(app, "qa")
    started = api.post("/api/v1/process-instances", {"process_key": "quiz_basics"})
    assert started.status_code == 201, started.get_json()
    instance = started.get_json()
    for answers in ({}, {"sealed": True, "validated": True, "reused": False}, {}):
        [task] = instance["ready_tasks"]
        done = api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": answers})
        assert done.status_code == 200, done.get_json()
        instance = done.get_json()["process_instance"]
        if instance["ready_tasks"] and instance["ready_tasks"][0]["bpmn_id"] == "Activity_review":
            assert instance["ready_tasks"][0]["instructions"].strip() == "All three right."
    assert instance["status"] == "completed" and instance["data"]["score"] == 3
    with app.app_context():
        from webapp.models import MessageSubscription

        assert db.session.scalars(select(MessageSubscription)).all() == []
        [thrown] = db.session.scalars(select(OutboxMessage)).all()  # SpiffWorkflow names it after its element
        assert thrown.name == "Tell nobody in particular" and thrown.delivered_at is None and thrown.last_error
