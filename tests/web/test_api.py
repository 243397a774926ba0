"""REST API v1: the fixed contract, end to end, through HTTP alone."""

import pytest

from tests.helpers import DATA_BY_TASK, MAJOR_IMPACT, Api, signature_for, worker_for

TASK_KEYS = {"id", "process_instance_id", "bpmn_id", "title", "type", "lane", "instructions", "form", "assignee"}
INSTANCE_KEYS = {"id", "process_key", "version", "status", "business_key", "data", "ready_tasks"}


@pytest.fixture
def api(app):
    clients = {}

    def get(username):
        if username not in clients:
            clients[username] = Api(app, username)
        return clients[username]

    return get


def run_through_api(api, instance, choices):
    """Complete ready tasks, each by the user of its lane's role, until the instance completes."""
    seen = []
    while instance["status"] == "running":
        task = instance["ready_tasks"][0]
        assert set(task) >= TASK_KEYS
        worker = api(worker_for(task["bpmn_id"], task["lane"].lower().replace(" ", "_")))
        listed = worker.get(f"/api/v1/tasks?process_instance_id={instance['id']}").get_json()
        assert task["id"] in [t["id"] for t in listed]
        data = choices.get(task["bpmn_id"])
        data = data.pop(0) if isinstance(data, list) else data
        body = {"data": data or DATA_BY_TASK[task["bpmn_id"]]}
        if task["signature"]:
            body["signature"] = signature_for(task["signature"]["meaning"])
        response = worker.post(f"/api/v1/tasks/{task['id']}/complete", body)
        assert response.status_code == 200, response.get_json()
        instance = response.get_json()["process_instance"]
        assert set(instance) >= INSTANCE_KEYS
        seen.append(task["bpmn_id"])
    return instance, seen


def test_token_is_required_and_bad_passwords_get_401(app):
    client = app.test_client()
    assert client.get("/api/v1/process-definitions").status_code == 401
    response = client.post("/api/v1/auth/token", json={"username": "qa", "password": "wrong-password"})
    assert response.status_code == 401
    assert set(response.get_json()) == {"code", "message", "errors"} and response.get_json()["code"] == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_process_definitions_list_versions(api):
    [definition] = [d for d in api("qa").get("/api/v1/process-definitions").get_json() if d["key"] == "change_control"]
    assert definition == {"key": "change_control", "name": definition["name"], "version": 1, "versions": [1]}


@pytest.mark.parametrize(
    "impact, reviews", [("minor", {"qa_review"}), ("major", {"board_review", "regulatory_review"})]
)
def test_change_request_from_submission_to_closure(api, impact, reviews):
    response = api("requester").post("/api/v1/process-instances", {"process_key": "change_control"})
    assert response.status_code == 201
    instance = response.get_json()
    assert instance["status"] == "running" and instance["business_key"].startswith("CC-")
    choices = {"impact_assessment": MAJOR_IMPACT} if impact == "major" else {}
    instance, seen = run_through_api(api, instance, choices)
    assert instance["status"] == "completed" and instance["data"]["closed"] is True
    assert reviews <= set(seen)
    fetched = api("qa").get(f"/api/v1/process-instances/{instance['id']}").get_json()
    assert fetched["status"] == "completed" and fetched["ready_tasks"] == []


def test_rejection_loop_through_the_api(api):
    instance = api("requester").post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    reject = {"board_decision": "reject", "board_comments": "Needs a validation plan."}
    instance, seen = run_through_api(
        api,
        instance,
        {"impact_assessment": [MAJOR_IMPACT, MAJOR_IMPACT], "board_review": [reject, DATA_BY_TASK["board_review"]]},
    )
    assert seen.count("revise_request") == 1 and seen.count("board_review") == 2
    assert instance["status"] == "completed"


def test_invalid_data_is_400_with_field_errors_and_changes_nothing(api):
    instance = api("requester").post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    task_id = instance["ready_tasks"][0]["id"]
    bad = {**DATA_BY_TASK["submit_request"], "proposed_effective_date": "soon"}
    del bad["reason"]
    response = api("requester").post(f"/api/v1/tasks/{task_id}/complete", {"data": bad})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400 and {"reason", "proposed_effective_date"} <= set(body["errors"])
    again = api("requester").get(f"/api/v1/process-instances/{instance['id']}").get_json()
    assert again == instance


def test_wrong_role_is_403_and_completed_task_is_409(api):
    instance = api("requester").post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    task_id = instance["ready_tasks"][0]["id"]
    denied = api("qa").post(f"/api/v1/tasks/{task_id}/complete", {"data": DATA_BY_TASK["submit_request"]})
    assert denied.status_code == 403 and denied.get_json()["code"] == 403
    ok = api("requester").post(f"/api/v1/tasks/{task_id}/complete", {"data": DATA_BY_TASK["submit_request"]})
    assert ok.status_code == 200
    again = api("requester").post(f"/api/v1/tasks/{task_id}/complete", {"data": DATA_BY_TASK["submit_request"]})
    assert again.status_code == 409


def test_missing_data_member_is_400(api):
    instance = api("requester").post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    response = api("requester").post(f"/api/v1/tasks/{instance['ready_tasks'][0]['id']}/complete", {})
    assert response.status_code == 400 and "data" in response.get_json()["errors"]


def test_claim_and_unclaim(api):
    instance = api("requester").post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    first = instance["ready_tasks"][0]["id"]
    instance = (
        api("requester")
        .post(f"/api/v1/tasks/{first}/complete", {"data": DATA_BY_TASK["submit_request"]})
        .get_json()["process_instance"]
    )
    task_id = instance["ready_tasks"][0]["id"]
    claimed = api("qa").post(f"/api/v1/tasks/{task_id}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "qa"
    assert [t["id"] for t in api("qa").get("/api/v1/tasks?mine=true").get_json()] == [task_id]
    assert api("qa2").post(f"/api/v1/tasks/{task_id}/claim").status_code == 403
    assert api("qa2").get("/api/v1/tasks").get_json() == []
    assert api("qa").post(f"/api/v1/tasks/{task_id}/unclaim").get_json()["assignee"] is None
    assert [t["id"] for t in api("qa2").get("/api/v1/tasks").get_json()] == [task_id]


def test_unknown_process_and_task_are_404(api):
    assert api("requester").post("/api/v1/process-instances", {"process_key": "nope"}).status_code == 404
    assert api("qa").post("/api/v1/tasks/0000/complete", {"data": {}}).status_code == 404
    assert api("qa").get("/api/v1/process-instances/999").status_code == 404


def test_openapi_document_describes_the_contract(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/token",
        "/api/v1/process-definitions",
        "/api/v1/process-instances",
        "/api/v1/process-instances/{id}",
        "/api/v1/tasks",
        "/api/v1/tasks/{id}/claim",
        "/api/v1/tasks/{id}/unclaim",
        "/api/v1/tasks/{id}/complete",
    ):
        assert path in doc["paths"], path
    assert set(doc["components"]["schemas"]["Task"]["properties"]) >= TASK_KEYS
    assert set(doc["components"]["schemas"]["ProcessInstance"]["properties"]) >= INSTANCE_KEYS


@pytest.mark.parametrize("version", [2**31, 10**23, 1e30, 1.5, -1, 0])
def test_a_version_beyond_the_database_or_fractional_is_400(api, version):
    requester = api("requester")
    started = requester.post("/api/v1/process-instances", {"process_key": "change_control", "version": version})
    assert started.status_code == 400 and "version" in started.get_json()["errors"]
    instance = requester.post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    moved = api("admin").post(
        f"/api/v1/process-instances/{instance['id']}/migrate", {"version": version, "reason": "r"}
    )
    assert moved.status_code == 400 and "version" in moved.get_json()["errors"]


def test_a_405_says_which_methods_the_url_has(api):
    admin = api("admin")
    refused = admin.client.delete("/api/v1/process-definitions", headers=admin.headers)
    assert refused.status_code == 405
    assert set(refused.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert refused.get_json()["code"] == 405


@pytest.mark.parametrize("method", ["get", "patch", "post"])
@pytest.mark.parametrize("lot_id", ["0", str(2**31), "007x"])
def test_an_id_no_route_takes_is_404_for_every_method(api, method, lot_id):
    """PATCH /lots/0 matches no rule (ids are 1..MAX_INT), though GET /lots/<id> exists: 404, not 405."""
    admin = api("admin")
    response = getattr(admin.client, method)(f"/api/v1/lots/{lot_id}", json={}, headers=admin.headers)
    assert response.status_code == 404, response.get_json()


@pytest.mark.parametrize(("mine", "status"), [("true", 200), ("1", 200), ("no", 200), ("ture", 400), ("", 400)])
def test_mine_is_a_boolean(api, mine, status):
    response = api("qa").get(f"/api/v1/tasks?mine={mine}")
    assert response.status_code == status, response.get_json()
    if status == 400:
        assert "mine" in response.get_json()["errors"]
