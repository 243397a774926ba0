"""Service tasks acting on ERP records in the task's transaction; failures become retryable incidents."""

import pytest
from sqlalchemy import select

from engine import ProcessBundle, SourceFile
from tests.conftest import ROOT
from tests.erp_world import build_world, released_stock
from tests.helpers import Api, Browser, table_snapshot
from webapp.extensions import db
from webapp.models import AuditEvent, Lot

FIXTURE = ROOT / "tests" / "fixtures" / "operations"


@pytest.fixture
def world(app):
    with app.app_context():
        qa = build_world()
        released_stock(qa, "TUBE", "T1")
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(FIXTURE))
    return app


def _lot_status(app, number):
    with app.app_context():
        return db.session.scalar(select(Lot.status).where(Lot.lot_number == number))


def test_service_task_holds_the_lot_in_the_completion_transaction(world):
    api = Api(world, "qa")
    instance = api.post("/api/v1/process-instances", {"process_key": "hold_for_review"}).get_json()
    done = api.post(
        f"/api/v1/tasks/{instance['ready_tasks'][0]['id']}/complete",
        {"data": {"material": "TUBE", "lot": "T1", "why": "seal complaint"}},
    ).get_json()["process_instance"]
    assert done["ready_tasks"][0]["bpmn_id"] == "confirm"
    assert done["data"]["hold_result"] == {"held": ["TUBE T1"], "count": 1}
    assert _lot_status(world, "T1") == "hold"
    with world.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lot.hold")).one()
        assert event.actor_name == "qa" and event.reason == "review: seal complaint"


def test_a_failing_service_task_saves_nothing_and_leaves_a_retryable_incident(world):
    api = Api(world, "qa")
    instance = api.post("/api/v1/process-instances", {"process_key": "hold_for_review"}).get_json()
    task_id = instance["ready_tasks"][0]["id"]
    with world.app_context():
        before = table_snapshot()
    failed = api.post(f"/api/v1/tasks/{task_id}/complete", {"data": {"material": "TUBE", "lot": "NOPE", "why": "x"}})
    assert failed.status_code == 422 and "erp.hold_lots" in failed.get_json()["message"]
    with world.app_context():
        after = table_snapshot()
    for table in ("process_instances", "human_tasks", "erp_lots", "erp_movements"):
        assert after[table] == before[table], table
    [_incident] = after["incidents"]
    shown = api.get(f"/api/v1/process-instances/{instance['id']}").get_json()
    assert shown["status"] == "running" and shown["ready_tasks"][0]["id"] == task_id
    assert shown["incidents"][0]["operation"] == "erp.hold_lots" and "NOPE" in shown["incidents"][0]["message"]
    page = Browser(world, "qa").get(f"/instances/{instance['id']}").get_data(as_text=True)
    assert "incident-" in page and "erp.hold_lots" in page
    again = api.post(f"/api/v1/incidents/{shown['incidents'][0]['id']}/retry")
    assert again.status_code == 422
    assert api.get(f"/api/v1/process-instances/{instance['id']}").get_json()["incidents"][0]["attempts"] == 2
    with world.app_context():
        from webapp.models import Incident

        db.session.get(Incident, shown["incidents"][0]["id"]).payload = {
            "data": {"material": "TUBE", "lot": "T1", "why": "corrected lot"}
        }
        db.session.commit()
    retried = api.post(f"/api/v1/incidents/{shown['incidents'][0]['id']}/retry").get_json()
    assert retried["ready_tasks"][0]["bpmn_id"] == "confirm" and retried["incidents"] == []
    assert _lot_status(world, "T1") == "hold"


def test_typed_parameters_are_checked_at_deploy_time_and_before_the_handler_runs():
    from engine import ServiceError
    from engine.deployment import validate_bundle
    from engine.operations import OperationRegistry
    from webapp.operations import register

    registry = OperationRegistry()
    register(registry)
    text = (FIXTURE / "hold_for_review.bpmn").read_text()
    wrong = text.replace('id="lots" type="list"', 'id="lots" type="str"')
    report = validate_bundle(
        ProcessBundle(
            [
                SourceFile("hold_for_review.bpmn", wrong),
                SourceFile("choose-schema.json", (FIXTURE / "choose-schema.json").read_text()),
            ]
        ),
        operations=registry.definitions(),
    )
    assert [e["message"] for e in report.errors] == [
        "service operation 'erp.hold_lots' takes parameter 'lots' as list, not str"
    ]
    assert (
        validate_bundle(
            ProcessBundle(
                [
                    SourceFile("hold_for_review.bpmn", text),
                    SourceFile("choose-schema.json", (FIXTURE / "choose-schema.json").read_text()),
                ]
            ),
            operations=registry.definitions(),
        ).errors
        == ()
    )

    called = []
    typed = OperationRegistry()
    typed.register(
        "count.days",
        lambda params: called.append(params) or params["days"],
        required={"days": "int"},
        optional={"note": "str"},
    )
    with pytest.raises(ServiceError) as info:
        typed.call("count.days", {"days": {"value": "12", "type": "int"}})
    assert "parameter 'days' must be int, not str" in str(info.value) and called == []
    with pytest.raises(ServiceError):
        typed.call("count.days", {"days": {"value": True}})  # a bool is not a number of days
    assert typed.call("count.days", {"days": {"value": 12}, "note": {"value": None}}) == "12"
    with pytest.raises(ValueError):
        typed.register("bad", lambda params: None, required={"x": "integer"})


def test_a_failing_timer_step_is_an_incident_retried_with_back_off_and_resolved_when_it_runs(world):
    from datetime import timedelta

    from tests.erp_world import receive
    from tests.helpers import user
    from webapp.models import Incident, ProcessInstance
    from webapp.models._types import utcnow
    from webapp.services import instances
    from webapp.services.timers import run_due

    with world.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "timer_service"))
        instance = instances.start_instance(user("qa"), "late_hold", {"lot": "LATE"})  # no such lot yet
        instance_id = instance.id
        now = utcnow() + timedelta(days=1, hours=1)
        before = table_snapshot()
        assert run_due(now) == []  # the hold fails: nothing saved but the incident
        after = table_snapshot()
        for table in ("human_tasks", "erp_lots", "erp_movements"):
            assert after[table] == before[table], table
        [incident] = db.session.scalars(select(Incident)).all()
        assert (incident.operation, incident.task_id, incident.attempts) == ("erp.hold_lots", None, 1)
        assert "LATE" in incident.message
        retry_at = db.session.get(ProcessInstance, instance.id).next_timer_at
        assert retry_at == now + timedelta(minutes=5)
        assert run_due(now + timedelta(minutes=1)) == []  # not retried (nor audited) every sweep
        assert db.session.get(Incident, incident.id).attempts == 1
        assert run_due(now + timedelta(minutes=6)) == []  # second attempt, then 10 minutes
        db.session.expire_all()
        assert db.session.get(Incident, incident.id).attempts == 2
        assert db.session.get(ProcessInstance, instance.id).next_timer_at == now + timedelta(minutes=16)
        receive(user("qa"), "TUBE", "LATE", 10)  # the lot arrives
        assert run_due(now + timedelta(minutes=17)) == [instance.id]
        db.session.expire_all()
        assert db.session.get(Incident, incident.id).resolved_at is not None
        resolved = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "incident.resolved")).one()
        assert resolved.actor_name == "system:scheduler" and resolved.after["attempts"] == 2
    assert _lot_status(world, "LATE") == "hold"
    shown = Api(world, "qa").get(f"/api/v1/process-instances/{instance_id}").get_json()
    assert shown["incidents"] == [] and [t["bpmn_id"] for t in shown["ready_tasks"]] == ["confirm"]


def test_a_script_failing_after_a_timer_is_an_incident_too(world):
    from datetime import timedelta

    from tests.helpers import user
    from webapp.models import Incident, ProcessInstance
    from webapp.models._types import utcnow
    from webapp.services import instances
    from webapp.services.timers import run_due

    with world.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "timer_service"))
        instance = instances.start_instance(user("qa"), "late_script")  # expected_count is missing
        now = utcnow() + timedelta(days=1, hours=1)
        assert run_due(now) == []
        [incident] = db.session.scalars(select(Incident)).all()
        assert incident.operation == "process" and "expected_count" in incident.message
        assert db.session.get(ProcessInstance, instance.id).next_timer_at == now + timedelta(minutes=5)
        instance_id = instance.id
    page = Browser(world, "qa").get(f"/instances/{instance_id}").get_data(as_text=True)
    assert (
        "expected_count" in page and "调度器将于" in page and "/retry" not in page
    )  # no button: the scheduler retries
