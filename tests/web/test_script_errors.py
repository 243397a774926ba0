"""A failing script answers 422 with the script's element, line and message, and leaves an incident
on the instance; nothing else is saved (issue 12, finding 6)."""

import pytest
from sqlalchemy import select

from engine import ProcessBundle, SourceFile
from tests.conftest import ROOT
from tests.helpers import Api, loop_form, table_snapshot

SCRIPTS = {
    "name_error": ("finished = undefined_name + 1", "NameError"),
    "huge_decimal": ("finished = decimal.Decimal(10) ** 999999999", None),
    "zero_division": ("x = 1\nfinished = x / 0", "ZeroDivisionError"),
}


@pytest.mark.parametrize("case", sorted(SCRIPTS))
def test_a_failing_script_is_a_422_naming_the_script_and_an_incident(app, case):
    from webapp.models import Incident
    from webapp.services.deployments import deploy_bundle

    script, error_type = SCRIPTS[case]
    bpmn = (ROOT / "tests" / "fixtures" / "rework_loop.bpmn").read_text().replace("finished = True", script)
    with app.app_context():
        deploy_bundle(ProcessBundle([SourceFile("rework_loop.bpmn", bpmn), loop_form()]))
    api = Api(app, "qa")
    instance = api.post("/api/v1/process-instances", {"process_key": "rework_loop"}).get_json()
    [task] = instance["ready_tasks"]
    with app.app_context():
        before = table_snapshot()
    answer = api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": {"again": False}})
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert body["errors"]["script"] == "count" and body["errors"]["incident"]
    assert body["errors"]["line"] == script.count("\n") + 1 or error_type is None
    if error_type:
        assert body["errors"]["error_type"] == error_type and error_type in body["message"]
    with app.app_context():
        from webapp.extensions import db

        after = table_snapshot()
        assert {t for t in after if after[t] != before[t]} == {"incidents", "audit_events"}
        [incident] = db.session.scalars(select(Incident)).all()
        assert incident.task_id == task["id"] and incident.instance_id == instance["id"]
