"""Service-layer tests on a real database session (SQLite and PostgreSQL)."""

import re

import pytest
from sqlalchemy import func, select

from engine import ProcessBundle
from tests.conftest import ROOT
from tests.helpers import DATA_BY_TASK, loop_form, table_snapshot, user
from webapp.errors import Conflict, DeploymentInvalid, FormInvalid, PermissionDenied
from webapp.extensions import db
from webapp.models import AuditEvent, HumanTaskRow, ProcessVersion
from webapp.services import instances, queries, tasks
from webapp.services.deployments import deploy_bundle


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def _open(instance, bpmn_id=None):
    rows = [r for r in queries.instance_tasks(instance.id) if r.completed_at is None]
    return [r for r in rows if bpmn_id is None or r.bpmn_id == bpmn_id]


def _last_action():
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)).first()


def _bundle(text_replace=None):
    """Change control's files (processes/ holds other processes too)."""
    bundle = ProcessBundle.from_paths(ROOT / "processes" / "change_control")
    if text_replace:
        from engine import SourceFile

        bpmn = bundle.get("change_control.bpmn")
        bundle.files[bpmn.name] = SourceFile(bpmn.name, bpmn.text.replace(*text_replace))
    return bundle


def test_same_content_deploys_no_new_version(ctx):
    [result] = deploy_bundle(_bundle())
    assert (result.version, result.created) == (1, False)
    assert (
        db.session.scalar(
            select(func.count()).select_from(ProcessVersion).where(ProcessVersion.key == "change_control")
        )
        == 1
    )


def test_changed_content_deploys_a_new_version_and_keeps_running_instances(ctx):
    running = instances.start_instance(user("requester"), "change_control")
    [result] = deploy_bundle(_bundle(("影响评估", "影响评估(修订)")), comment="rename a step")
    assert (result.version, result.created) == (2, True)
    assert running.version.version == 1
    fresh = instances.start_instance(user("requester"), "change_control")
    assert fresh.version.version == 2
    stored = db.session.scalar(select(ProcessVersion).where(ProcessVersion.version == 2))
    assert "change_control.bpmn" in stored.file_texts and stored.comment == "rename a step"


def test_invalid_bundle_deploys_nothing(ctx):
    before = table_snapshot()
    with pytest.raises(DeploymentInvalid) as info:
        deploy_bundle(_bundle(('<bpmn:userTask id="impact_assessment"', '<bpmn:userTask id="impact_assessment" foo')))
    assert info.value.errors["errors"][0]["file"] == "change_control.bpmn"
    assert table_snapshot() == before


def test_business_keys_count_per_year(ctx):
    first = instances.start_instance(user("requester"), "change_control")
    second = instances.start_instance(user("requester"), "change_control")
    assert re.fullmatch(r"CC-\d{4}-0001", first.business_key)
    assert second.business_key.endswith("-0002")


def test_starting_is_restricted_to_start_roles(ctx):
    before = table_snapshot()
    with pytest.raises(PermissionDenied):
        instances.start_instance(user("board"), "change_control")
    after = table_snapshot()
    after.pop("audit_events"), before.pop("audit_events")
    assert after == before and _last_action() == "process.start_refused"


def test_completing_moves_the_process_and_writes_one_audit_event(ctx):
    instance = instances.start_instance(user("requester"), "change_control")
    [row] = _open(instance, "submit_request")
    events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    tasks.complete_task(user("requester"), row.task_id, DATA_BY_TASK["submit_request"])
    [nxt] = _open(instance)
    assert (nxt.bpmn_id, nxt.candidate_role) == ("impact_assessment", "qa")
    assert nxt.due_at is not None and nxt.instructions
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before + 1
    assert (event.action, event.actor_name, event.entity_id) == ("task.complete", "requester", row.task_id)
    assert event.after["submitted"]["title"] == DATA_BY_TASK["submit_request"]["title"]


def test_wrong_role_is_refused_and_nothing_changes(ctx):
    instance = instances.start_instance(user("requester"), "change_control")
    [row] = _open(instance)
    before = table_snapshot()
    with pytest.raises(PermissionDenied):
        tasks.complete_task(user("qa"), row.task_id, DATA_BY_TASK["submit_request"])
    after = table_snapshot()
    after.pop("audit_events"), before.pop("audit_events")
    assert after == before and _last_action() == "task.complete_refused"


def test_invalid_data_gives_field_errors_and_changes_nothing(ctx):
    instance = instances.start_instance(user("requester"), "change_control")
    [row] = _open(instance)
    bad = {**DATA_BY_TASK["submit_request"], "change_type": "whim", "proposed_effective_date": "next week"}
    del bad["title"]
    bad["affected_products"] = [{"name": "no code"}]
    before = table_snapshot()
    with pytest.raises(FormInvalid) as info:
        tasks.complete_task(user("requester"), row.task_id, bad)
    assert set(info.value.errors) >= {"title", "change_type", "proposed_effective_date", "affected_products.0.code"}
    assert table_snapshot() == before
    assert instances.get_instance(instance.id).status == "running"


def test_completing_a_completed_task_is_a_conflict(ctx):
    instance = instances.start_instance(user("requester"), "change_control")
    [row] = _open(instance)
    tasks.complete_task(user("requester"), row.task_id, DATA_BY_TASK["submit_request"])
    before = table_snapshot()
    with pytest.raises(Conflict):
        tasks.complete_task(user("requester"), row.task_id, DATA_BY_TASK["submit_request"])
    assert table_snapshot() == before


def test_claimed_tasks_belong_to_the_claimer(ctx):
    instance = instances.start_instance(user("requester"), "change_control")
    tasks.complete_task(user("requester"), _open(instance)[0].task_id, DATA_BY_TASK["submit_request"])
    [row] = _open(instance)
    tasks.claim_task(user("qa"), row.task_id)
    assert [t.task_id for t in queries.open_tasks(user("qa"), mine=True)] == [row.task_id]
    assert row.task_id not in [t.task_id for t in queries.open_tasks(user("qa2"))]
    with pytest.raises(PermissionDenied):
        tasks.complete_task(user("qa2"), row.task_id, DATA_BY_TASK["impact_assessment"])
    with pytest.raises(PermissionDenied):
        tasks.unclaim_task(user("qa2"), row.task_id)
    tasks.unclaim_task(user("qa"), row.task_id)
    assert row.task_id in [t.task_id for t in queries.open_tasks(user("qa2"))]


def test_lane_less_tasks_belong_to_the_initiator(ctx):
    """The fixture loop process has no lanes: only its initiator may work it."""
    deploy_bundle(
        ProcessBundle.from_paths(
            ROOT / "tests" / "fixtures" / "rework_loop.bpmn", ROOT / "tests" / "fixtures" / "rework_loop-schema.json"
        )
    )
    instance = instances.start_instance(user("qa"), "rework_loop")
    [row] = _open(instance)
    assert row.candidate_role is None
    assert [t.task_id for t in queries.open_tasks(user("qa"))] == [row.task_id]
    assert queries.open_tasks(user("qa2")) == []
    with pytest.raises(PermissionDenied):
        tasks.complete_task(user("qa2"), row.task_id, {"again": False})
    tasks.complete_task(user("qa"), row.task_id, {"again": False})
    assert instances.get_instance(instance.id).status == "completed"


def test_parallel_reviews_both_open_for_their_roles(ctx):
    instance = instances.start_instance(user("requester"), "change_control")
    tasks.complete_task(user("requester"), _open(instance)[0].task_id, DATA_BY_TASK["submit_request"])
    from tests.helpers import MAJOR_IMPACT

    tasks.complete_task(user("qa"), _open(instance)[0].task_id, MAJOR_IMPACT)
    assert {(r.bpmn_id, r.candidate_role) for r in _open(instance)} == {
        ("board_review", "change_board"),
        ("regulatory_review", "regulatory"),
    }
    assert (
        db.session.scalar(select(func.count()).select_from(HumanTaskRow).where(HumanTaskRow.completed_at.is_(None)))
        == 2
    )


def _loop_bundle(replace=None):
    from engine import SourceFile

    text = (ROOT / "tests" / "fixtures" / "rework_loop.bpmn").read_text()
    if replace:
        text = text.replace(*replace)
    return ProcessBundle([SourceFile("rework_loop.bpmn", text), loop_form()])


def test_a_failing_script_rolls_everything_back_and_leaves_an_incident_naming_the_script(ctx):
    from webapp.errors import IncidentRaised
    from webapp.models import Incident

    deploy_bundle(_loop_bundle(("finished = True", "finished = 1 / 0")))
    instance = instances.start_instance(user("qa"), "rework_loop")
    [row] = _open(instance)
    before = table_snapshot()
    with pytest.raises(IncidentRaised, match="division by zero") as raised:
        tasks.complete_task(user("qa"), row.task_id, {"again": False})
    assert raised.value.errors["script"] == "count" and raised.value.errors["line"] == 1
    assert raised.value.errors["error_type"] == "ZeroDivisionError"
    after = table_snapshot()
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"incidents", "audit_events"}  # the workflow, task rows and data are as they were
    [incident] = db.session.scalars(select(Incident)).all()
    assert incident.instance_id == instance.id and incident.task_id == row.task_id
    assert "count" in incident.message and "division by zero" in incident.message
    assert instances.get_instance(instance.id).status == "running"


def test_deploying_a_lane_with_a_new_role_creates_the_role(ctx):
    from webapp.models import Role

    lanes = (
        '<bpmn:process id="rework_loop" name="Rework loop" isExecutable="true">',
        '<bpmn:process id="rework_loop" name="Rework loop" isExecutable="true">'
        '<bpmn:laneSet id="ls"><bpmn:lane id="mrb" name="Material Review Board">'
        "<bpmn:flowNodeRef>work</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>",
    )
    assert db.session.scalar(select(Role).where(Role.name == "material_review_board")) is None
    deploy_bundle(_loop_bundle(lanes))
    assert db.session.scalar(select(Role).where(Role.name == "material_review_board")) is not None
    instance = instances.start_instance(user("qa"), "rework_loop")
    assert _open(instance)[0].candidate_role == "material_review_board"


def test_cancel_needs_a_reason_and_closes_open_tasks(ctx):
    from webapp.errors import InvalidInput

    instance = instances.start_instance(user("requester"), "change_control")
    before = table_snapshot()
    with pytest.raises(InvalidInput):
        instances.cancel_instance(user("admin"), instance.id, "  ")
    assert table_snapshot() == before
    cancelled = instances.cancel_instance(user("admin"), instance.id, "Raised twice by mistake")
    assert cancelled.status == "cancelled" and _open(cancelled) == []
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.reason) == ("instance.cancel", "Raised twice by mistake")
    with pytest.raises(Conflict):
        instances.cancel_instance(user("admin"), instance.id, "again")
