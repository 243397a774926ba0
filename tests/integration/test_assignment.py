"""Tasks the process assigns (`assignTo`), due dates from task data (`dueDate`, Jinja `dueInDays`)
and user-picking form fields (`"x-record": "user"`)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine import ProcessBundle
from tests.conftest import ROOT
from tests.helpers import Api, user
from webapp.extensions import db
from webapp.models import HumanTaskRow, Notification

PLAN = {
    "actions": [
        {"action": "Revise SOP-STE-004", "owner": "warehouse", "due_date": "2026-12-20"},
        {"action": "Retrain operators", "owner": "production", "due_date": "2027-01-15"},
    ],
    "review_days": 7,
}


@pytest.fixture
def api(app):
    with app.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "assign"))
    return lambda username: Api(app, username)


def _start_and_plan(api, plan=PLAN):
    instance = api("qa").post("/api/v1/process-instances", {"process_key": "action_plan"}).get_json()
    [task] = instance["ready_tasks"]
    owner_field = task["form"]["schema"]["properties"]["actions"]["items"]["properties"]["owner"]
    assert {"production", "qa"} <= set(owner_field["enum"])
    return api("qa").post(f"/api/v1/tasks/{task['id']}/complete", {"data": plan})


def test_each_action_is_assigned_to_its_owner_with_its_due_date(app, api):
    response = _start_and_plan(api)
    assert response.status_code == 200, response.get_json()
    instance = response.get_json()["process_instance"]
    tasks = {t["assignee"]: t for t in instance["ready_tasks"]}
    assert set(tasks) == {"warehouse", "production"}
    with app.app_context():
        rows = {
            r.assignee.username: r
            for r in db.session.scalars(select(HumanTaskRow).where(HumanTaskRow.bpmn_id == "do_action"))
        }
        assert rows["warehouse"].due_at.date().isoformat() == "2026-12-20"
        assert rows["production"].due_at.date().isoformat() == "2027-01-15"
        notified = db.session.scalars(select(Notification.user_id).where(Notification.kind == "task_assigned")).all()
        assert sorted(notified) == sorted([user("production").id, user("warehouse").id])
    # The owner works it although the lane is QA's; QA may not take it over.
    refused = api("qa").post(f"/api/v1/tasks/{tasks['warehouse']['id']}/complete", {"data": {}})
    assert refused.status_code == 403
    assert tasks["warehouse"]["id"] in [t["id"] for t in api("warehouse").get("/api/v1/tasks").get_json()]
    assert api("warehouse").post(f"/api/v1/tasks/{tasks['warehouse']['id']}/complete", {"data": {}}).status_code == 200
    done = api("production").post(f"/api/v1/tasks/{tasks['production']['id']}/complete", {"data": {}}).get_json()
    [review] = done["process_instance"]["ready_tasks"]
    assert review["bpmn_id"] == "review" and review["assignee"] is None
    with app.app_context():
        row = db.session.scalar(select(HumanTaskRow).where(HumanTaskRow.bpmn_id == "review"))
        due = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC)
        assert timedelta(days=6, hours=23) < due - datetime.now(UTC) <= timedelta(days=7)


def test_an_owner_who_is_not_a_user_is_a_field_error(app, api):
    plan = {**PLAN, "actions": [{**PLAN["actions"][0], "owner": "nobody"}]}
    response = _start_and_plan(api, plan)
    assert response.status_code == 400
    assert any("owner" in key for key in response.get_json()["errors"])


def test_an_inactive_owner_leaves_the_task_in_the_role_queue(app, api):
    with app.app_context():
        user("warehouse").active = False
        db.session.commit()
    response = _start_and_plan(api, {**PLAN, "actions": [PLAN["actions"][1]]})
    [task] = response.get_json()["process_instance"]["ready_tasks"]
    assert task["assignee"] == "production"
