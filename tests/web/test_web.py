"""HTML pages: login, inbox, task forms and instance pages, worked by the user of each role."""

import re

import pytest

from tests.helpers import DATA_BY_TASK, MAJOR_IMPACT, PASSWORD, Browser, csrf_token, table_snapshot, worker_for

RADIO_FIELDS = {"product_impact", "process_impact", "validation_required", "labelling_impact"}


def form_fields(data):
    """Flatten task data into what the HTML form posts: rows as `name-i-col`, booleans as the widgets send them."""
    fields = {}
    for name, value in data.items():
        if isinstance(value, list):
            for i, row in enumerate(value):
                for col, cell in row.items():
                    if cell is True:
                        fields[f"{name}-{i}-{col}"] = "true"
                    elif cell is not False:
                        fields[f"{name}-{i}-{col}"] = str(cell)
        elif isinstance(value, bool):
            if name in RADIO_FIELDS:
                fields[name] = "true" if value else "false"
            elif value:
                fields[name] = "true"
        else:
            fields[name] = str(value)
    return fields


def task_links(html):
    """Task ids listed in the inbox's task tables (not the notification links)."""
    return re.findall(r'href="/tasks/([0-9a-f-]{36})" class="task-link"', html)


@pytest.fixture
def browsers(app):
    cache = {}

    def get(username):
        if username not in cache:
            cache[username] = Browser(app, username)
        return cache[username]

    return get


def start_change(browsers):
    response = browsers("requester").post("/processes/change_control/start")
    assert response.status_code == 302
    task_id = response.headers["Location"].rsplit("/", 1)[-1]
    return task_id


def _open_row(app, instance_id):
    """(task_id, bpmn_id, candidate_role) of the first open task, or None; read in its own app context
    (requests must not share one: Flask-WTF keeps the CSRF token in `g`)."""
    with app.app_context():
        from webapp.services import queries

        rows = [r for r in queries.instance_tasks(instance_id) if r.completed_at is None]
        if not rows:
            return None
        meaning = (rows[0].signature_properties or {}).get("signature")
        return rows[0].task_id, rows[0].bpmn_id, rows[0].candidate_role, meaning


def _instance_of(app, task_id):
    with app.app_context():
        from webapp.services.tasks import get_task

        return get_task(task_id).instance_id


def work_until_closed(app, browsers, task_id, choices):
    """Complete each task through its HTML page, each by the user holding the lane's role."""
    seen = []
    instance_id = _instance_of(app, task_id)
    while (row := _open_row(app, instance_id)) is not None:
        task_id, bpmn_id, role, meaning = row
        worker = browsers(worker_for(bpmn_id, role))
        assert task_id in task_links(worker.get("/").get_data(as_text=True)), "task not in the inbox"
        assert worker.get(f"/tasks/{task_id}").status_code == 200
        data = choices.get(bpmn_id)
        data = data.pop(0) if isinstance(data, list) else data
        fields = form_fields(data or DATA_BY_TASK[bpmn_id])
        if meaning:
            fields.update(signature_password=PASSWORD, signature_meaning=meaning, signature_username=worker.username)
        response = worker.post(f"/tasks/{task_id}", fields)
        assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
        seen.append(bpmn_id)
    with app.app_context():
        from webapp.services.instances import get_instance

        instance = get_instance(instance_id)
        return (instance.status, instance.id, instance.business_key), seen


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/instances/1").status_code == 302


def test_wrong_password_is_refused(client):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "qa", "password": "nope-nope-nope", "csrf_token": token})
    assert response.status_code == 401 and client.get("/").status_code == 302


def test_forms_without_csrf_token_change_nothing(app, browsers):
    qa = browsers("requester")
    with app.app_context():
        before = table_snapshot()
    response = qa.client.post("/processes/change_control/start", data={})
    assert response.status_code in (302, 400)
    with app.app_context():
        assert table_snapshot() == before


def test_interface_is_chinese_by_default_and_switches_to_english(browsers):
    requester = browsers("requester")
    assert "待办" in requester.get("/").get_data(as_text=True)
    task_id = start_change(browsers)
    assert "变更标题" in requester.get(f"/tasks/{task_id}").get_data(as_text=True)
    requester.post("/locale", {"locale": "en", "next": "/"})
    assert "Inbox" in requester.get("/").get_data(as_text=True)
    page = requester.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Submit change request" in page and ">Title" in page


@pytest.mark.parametrize("branch", ["minor", "major"])
def test_change_request_from_submission_to_closure_in_the_browser(app, browsers, branch):
    task_id = start_change(browsers)
    choices = {"impact_assessment": MAJOR_IMPACT} if branch == "major" else {}
    (status, instance_id, business_key), seen = work_until_closed(app, browsers, task_id, choices)
    assert status == "completed"
    assert ("board_review" in seen) == (branch == "major") and ("qa_review" in seen) == (branch == "minor")
    page = browsers("qa").get(f"/instances/{instance_id}").get_data(as_text=True)
    assert business_key in page and DATA_BY_TASK["verification"]["verification_evidence"] in page
    assert "requester" in page.lower()


def test_rejection_loops_back_in_the_browser(app, browsers):
    task_id = start_change(browsers)
    reject = {"approval_decision": "reject", "approval_comments": "Missing training record."}
    (status, _, _), seen = work_until_closed(
        app, browsers, task_id, {"qa_approval": [reject, DATA_BY_TASK["qa_approval"]]}
    )
    assert seen.count("revise_request") == 1 and seen.count("qa_approval") == 2
    assert status == "completed"


def test_invalid_form_shows_field_errors_and_keeps_input(app, browsers):
    task_id = start_change(browsers)
    data = form_fields({**DATA_BY_TASK["submit_request"], "title": "", "proposed_effective_date": "31/12/2026"})
    with app.app_context():
        before = table_snapshot()
    response = browsers("requester").post(f"/tasks/{task_id}", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    title_field = re.search(r'data-field="title".*?</div>', html, re.S).group(0)
    assert 'class="error"' in title_field and "必填" in title_field
    date_field = re.search(r'data-field="proposed_effective_date".*?</div>', html, re.S).group(0)
    assert 'class="error"' in date_field and 'value="31/12/2026"' in date_field
    assert DATA_BY_TASK["submit_request"]["reason"] in html
    with app.app_context():
        assert table_snapshot() == before


def test_wrong_role_gets_403_page(app, browsers):
    task_id = start_change(browsers)
    browsers("qa")
    with app.app_context():
        before = table_snapshot()
    response = browsers("qa").post(f"/tasks/{task_id}", form_fields(DATA_BY_TASK["submit_request"]))
    assert response.status_code == 403
    with app.app_context():
        after = table_snapshot()
    after.pop("audit_events"), before.pop("audit_events")
    assert after == before


def test_claim_from_the_inbox(app, browsers):
    task_id = start_change(browsers)
    browsers("requester").post(f"/tasks/{task_id}", form_fields(DATA_BY_TASK["submit_request"]))
    inbox = browsers("qa").get("/").get_data(as_text=True)
    [qa_task] = task_links(inbox)
    browsers("qa").post(f"/tasks/{qa_task}/claim")
    assert qa_task not in task_links(browsers("qa2").get("/").get_data(as_text=True))
    mine = browsers("qa").get("/").get_data(as_text=True)
    assert "退回" in mine
