"""The instance driver (services/driver.py): one sequence and one failure policy for every path
that moves an instance, shown at each of its steps on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import select

from engine import ProcessBundle
from tests.conftest import ROOT
from tests.helpers import Api, Browser, table_snapshot, user
from webapp.extensions import db
from webapp.models import AuditEvent, Incident, OutboxMessage, ProcessInstance
from webapp.services import instances, queries, tasks
from webapp.services.deployments import deploy_bundle
from webapp.services.driver import PHASES, phase_hook
from webapp.services.messages import deliver_pending

FIXTURES = ROOT / "tests" / "fixtures"
DRIVER = FIXTURES / "driver"


@pytest.fixture
def ctx(app):
    with app.app_context():
        deploy_bundle(ProcessBundle.from_paths(DRIVER / "sender.bpmn", DRIVER / "broken"))
        deploy_bundle(ProcessBundle.from_paths(FIXTURES / "messages"))
        yield app


def _open(instance_id):
    return [r for r in queries.instance_tasks(instance_id) if r.completed_at is None]


def _instances_of(key):
    return [i for i in db.session.scalars(select(ProcessInstance)).all() if i.version.key == key]


def test_a_failing_delivery_neither_fails_the_committed_sender_nor_blocks_other_messages(ctx):
    api = Api(ctx, "qa")
    started = api.post("/api/v1/process-instances", {"process_key": "sender"})
    assert started.status_code == 201, started.get_json()
    sender = started.get_json()
    [work] = sender["ready_tasks"]
    done = api.post(f"/api/v1/tasks/{work['id']}/complete", {"data": {}})
    # the sender's step is committed and the answer says so: it now waits at its next task
    assert done.status_code == 200, done.get_json()
    assert [t["bpmn_id"] for t in done.get_json()["process_instance"]["ready_tasks"]] == ["next"]
    db.session.expire_all()
    assert [r.bpmn_id for r in _open(sender["id"])] == ["next"]
    # the failed delivery is on its outbox row, on the sender's instance (API and page), with a back-off
    [pending] = api.get(f"/api/v1/process-instances/{sender['id']}").get_json()["pending_messages"]
    assert pending["name"] == "driver_handover" and pending["attempts"] == 1
    assert "take" in pending["reason"] and "KeyError" in pending["reason"] and pending["next_attempt_at"]
    page = Browser(ctx, "qa").get(f"/instances/{sender['id']}").get_data(as_text=True)
    assert "driver_handover" in page and "KeyError" in page
    assert _instances_of("receiver") == []  # the failed start left nothing behind
    # a valid message from another instance is delivered meanwhile, and the failing row is not retried first
    complaint = instances.start_instance(user("qa"), "complaint", {"summary": "seal open"})
    tasks.complete_task(user("qa"), _open(complaint.id)[0].task_id, {})
    assert len(_instances_of("capa_intake")) == 1
    assert deliver_pending() == []
    assert db.session.get(OutboxMessage, pending["id"]).attempts == 1
    # fixing the receiver and retrying delivers it, once
    deploy_bundle(ProcessBundle.from_paths(DRIVER / "fixed"))
    retried = api.post(f"/api/v1/messages/{pending['id']}/retry")
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["pending_messages"] == []
    [receiver] = _instances_of("receiver")
    assert receiver.data["x"] == sender["business_key"] and [r.bpmn_id for r in _open(receiver.id)] == ["handle"]
    assert deliver_pending() == [] and len(_instances_of("receiver")) == 1
    again = api.post(f"/api/v1/messages/{pending['id']}/retry")
    assert again.status_code == 409


def test_a_failing_delivery_to_a_waiting_instance_is_an_incident_there(ctx, tmp_path):
    """The complaint waits for `stub_capa_opened`; a receiver whose step after the catch event fails
    gets the incident, the thrower's row the reason."""
    deploy_bundle(ProcessBundle.from_paths(FIXTURES / "messages" / "capa_stub.bpmn", _failing_complaint(tmp_path)))
    complaint = instances.start_instance(user("qa"), "complaint", {"summary": "x"})
    tasks.complete_task(user("qa"), _open(complaint.id)[0].task_id, {})
    [capa] = _instances_of("capa_intake")
    [confirm] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.name == "stub_capa_opened")).all()
    assert confirm.delivered_at is None and f"instance {complaint.id}" in confirm.last_error
    [incident] = db.session.scalars(select(Incident)).all()
    assert incident.instance_id == complaint.id and "division by zero" in incident.message
    assert [r.bpmn_id for r in _open(capa.id)] == ["investigate"]  # the thrower's own step stayed committed


def _failing_complaint(path):
    source = (FIXTURES / "messages" / "complaint.bpmn").read_text(encoding="utf-8")
    source = source.replace(
        '<bpmn:userTask id="close" name="Close the complaint"><bpmn:incoming>f4</bpmn:incoming>',
        '<bpmn:scriptTask id="after_capa"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>'
        "<bpmn:script>ratio = 1 / 0</bpmn:script></bpmn:scriptTask>"
        '<bpmn:sequenceFlow id="f6" sourceRef="after_capa" targetRef="close" />'
        '<bpmn:userTask id="close" name="Close the complaint"><bpmn:incoming>f6</bpmn:incoming>',
    ).replace(
        'targetRef="close" />\n    <bpmn:sequenceFlow id="f5"',
        'targetRef="after_capa" />\n    <bpmn:sequenceFlow id="f5"',
    )
    (path / "complaint.bpmn").write_text(source, encoding="utf-8")
    return path / "complaint.bpmn"


class Fault(Exception):
    """The failure a test injects at one phase of the driver."""


def _fail_at(phase):
    def hook(name):
        if name == phase:
            raise Fault(phase)

    return hook


ACTIONS = {
    "start": lambda instance, work: instances.start_instance(user("qa"), "sender"),
    "complete": lambda instance, work: tasks.complete_task(user("qa"), work.task_id, {}),
    "cancel": lambda instance, work: instances.cancel_instance(user("admin"), instance.id, "duplicate"),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("phase", [p for p in PHASES if p != "committed"])
def test_a_fault_at_any_step_before_the_commit_leaves_the_database_as_before(ctx, phase, action):
    instance = instances.start_instance(user("qa"), "sender")
    [work] = _open(instance.id)
    before = table_snapshot()
    with phase_hook(_fail_at(phase)), pytest.raises(Fault):
        ACTIONS[action](instance, work)
    assert table_snapshot() == before
    ACTIONS[action](instance, work)  # without the fault the same call goes through
    assert table_snapshot() != before


def test_an_engine_failure_at_the_engine_step_leaves_the_state_as_before_and_records_the_incident(ctx):
    """The engine step failing (a script error raised right after it) takes the incident path:
    workflow state, task rows and data are as before; only the failure's own records are added."""
    from engine.errors import ScriptError
    from webapp.errors import IncidentRaised

    def fail(name):
        if name == "stepped":
            raise ScriptError("injected after the engine step")

    instance = instances.start_instance(user("qa"), "sender")
    [work] = _open(instance.id)
    before = table_snapshot()
    with phase_hook(fail), pytest.raises(IncidentRaised, match="injected"):
        tasks.complete_task(user("qa"), work.task_id, {})
    after = table_snapshot()
    assert {name for name in after if after[name] != before[name]} == {"incidents", "audit_events"}
    [incident] = db.session.scalars(select(Incident)).all()
    assert incident.instance_id == instance.id and incident.task_id == work.task_id


def test_a_fault_after_the_commit_keeps_the_committed_step_and_answers_success(ctx):
    api = Api(ctx, "qa")
    instance = instances.start_instance(user("qa"), "sender")
    [work] = _open(instance.id)
    with phase_hook(_fail_at("committed")):
        done = api.post(f"/api/v1/tasks/{work.task_id}/complete", {"data": {}})
    assert done.status_code == 200, done.get_json()
    db.session.expire_all()
    assert [r.bpmn_id for r in _open(instance.id)] == ["next"]
    completed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "task.complete", AuditEvent.entity_id == work.task_id)
    ).all()
    assert len(completed) == 1
