"""Diagrams saved by Camunda Modeler and bundles exported from SpiffArena deploy and run to completion."""

import io
import json
import zipfile

from tests.conftest import ROOT
from tests.helpers import Api

MODELERS = ROOT / "tests" / "fixtures" / "modelers"


def _deploy(api, files):
    response = api.client.post(
        "/api/v1/deployments", headers=api.headers, content_type="multipart/form-data", data={"files": files}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_camunda_modeler_diagram_deploys_and_runs(app):
    admin = Api(app, "admin")
    path = MODELERS / "camunda_purchase_review.bpmn"
    # Camunda's embedded forms are not ours: the tasks declare their data with a form schema each
    # (a task without a form takes no data), the diagram is otherwise as Camunda Modeler saved it.
    text = path.read_text(encoding="utf-8")
    forms = {
        "Activity_request": {"type": "object", "properties": {"item": {"type": "string"}}},
        "Activity_review": {"type": "object", "properties": {"approved": {"type": "boolean"}}},
    }
    for task in forms:
        start = text.index(f'<bpmn:userTask id="{task}"')
        close = text.index(">", start) + 1
        text = (
            text[:close]
            + '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
            + f'value="{task}-schema.json" /></spiffworkflow:properties></bpmn:extensionElements>'
            + text[close:]
        )
    if "xmlns:spiffworkflow" not in text:
        text = text.replace(
            "<bpmn:definitions ",
            '<bpmn:definitions xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" ',
            1,
        )
    files = [(io.BytesIO(text.encode()), path.name)]
    files += [(io.BytesIO(json.dumps(schema).encode()), f"{task}-schema.json") for task, schema in forms.items()]
    _deploy(admin, files)
    requester, qa = Api(app, "requester"), Api(app, "qa")
    instance = requester.post("/api/v1/process-instances", {"process_key": "purchase_review"}).get_json()
    for worker, bpmn_id, data in (
        (requester, "Activity_request", {"item": "EO indicators"}),
        (qa, "Activity_review", {"approved": False}),
        (requester, "Activity_request", {"item": "EO indicators, 2 boxes"}),
        (qa, "Activity_review", {"approved": True}),
    ):
        [task] = instance["ready_tasks"]
        assert task["bpmn_id"] == bpmn_id
        instance = worker.post(f"/api/v1/tasks/{task['id']}/complete", {"data": data}).get_json()["process_instance"]
    assert instance["status"] == "completed" and instance["data"]["recorded"] == "approved by QA"


def test_spiffarena_export_deploys_as_a_zip_and_runs(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in (MODELERS / "spiffarena").iterdir():
            archive.write(path, f"complaint-intake/{path.name}")
    deployed = _deploy(Api(app, "admin"), [(io.BytesIO(buffer.getvalue()), "complaint-intake.zip")])
    assert [p["key"] for p in deployed["processes"]] == ["complaint_intake"]
    employee = Api(app, "qa")
    instance = employee.post("/api/v1/process-instances", {"process_key": "complaint_intake"}).get_json()
    [task] = instance["ready_tasks"]
    assert task["form"]["schema"]["properties"]["severity"]["enum"] == ["minor", "serious", "death"]
    assert task["instructions"] == "Register the complaint about **the device**."
    bad = employee.post(f"/api/v1/tasks/{task['id']}/complete", {"data": {"device": "BP monitor"}})
    assert bad.status_code == 400 and "severity" in bad.get_json()["errors"]
    instance = employee.post(
        f"/api/v1/tasks/{task['id']}/complete", {"data": {"device": "BP monitor", "severity": "serious"}}
    ).get_json()["process_instance"]
    [ack] = instance["ready_tasks"]
    assert ack["type"] == "manualTask" and ack["instructions"] == "Priority **high**: report within 20 days."
    done = employee.post(f"/api/v1/tasks/{ack['id']}/complete", {"data": {}}).get_json()["process_instance"]
    assert done["status"] == "completed" and done["data"]["acknowledged"] is True
