"""Every route needs a login; API errors are JSON; pages escape user input and send security headers."""

import re

from tests.helpers import DATA_BY_TASK, Browser
from webapp.security import PUBLIC_ENDPOINTS

DUMMY = {
    "task_id": "00000000-0000-0000-0000-000000000000",
    "instance_id": 1,
    "key": "change_control",
    "user_id": 1,
    "entity_type": "user",
    "entity_id": "1",
    "deployment_id": 1,
    "number": 1,
    "name": "x.bpmn",
    "filename": "app.css",
    "code": "X-1",
    "lot_id": 1,
    "movement_id": 1,
    "shipment_id": 1,
    "certificate_id": 1,
    "plural": "materials",
    "incident_id": 1,
    "message_id": 1,
    "business_key": "RC-1",
    "customer": "X-1",
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = rule.rule
        for arg in rule.arguments:  # <arg>, <int:arg>, <any(a, b):arg>
            url = re.sub(rf"<(?:[^<>]*:)?{arg}>", str(DUMMY[arg]), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_non_public_route_requires_authentication(app):
    client = app.test_client()
    checked = 0
    for endpoint, method, url in _routes(app):
        response = client.open(url, method=method)
        if url.startswith("/api/"):
            assert response.status_code == 401, (endpoint, method)
            assert response.get_json()["code"] == 401
        else:
            # GET → login page; POST is refused first by the CSRF check, which sends the user back.
            assert response.status_code == 302, (endpoint, method, response.status_code)
            expected = "/login" if method == "GET" else "/"
            assert response.headers["Location"].startswith(expected), (endpoint, method)
        checked += 1
    assert checked >= 15


def test_unknown_api_path_is_a_json_404(app):
    response = app.test_client().get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["code"] == 404


def test_pages_escape_submitted_text_and_send_security_headers(app):
    requester = Browser(app, "requester")
    task_id = requester.post("/processes/change_control/start").headers["Location"].rsplit("/", 1)[-1]
    from tests.test_web import form_fields

    evil = {**DATA_BY_TASK["submit_request"], "title": "<script>alert(1)</script>"}
    response = requester.post(f"/tasks/{task_id}", form_fields(evil))
    page = requester.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    qa = Browser(app, "qa")
    inbox = qa.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in inbox
    qa_task = re.search(r'href="/tasks/([0-9a-f-]{36})"', inbox).group(1)
    assert "<script>alert(1)</script>" not in qa.get(f"/tasks/{qa_task}").get_data(as_text=True)


def test_every_endpoint_declares_a_permission_held_by_some_role(app):
    import json

    from tests.conftest import ROOT
    from webapp.permissions import ENDPOINT_PERMISSIONS

    policy = json.loads((ROOT / "rules" / "access_policy.json").read_text())
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        permission = ENDPOINT_PERMISSIONS.get(rule.endpoint)
        assert permission, f"{rule.endpoint} declares no permission"
        assert policy["permissions"].get(permission), f"{permission} is held by no role"


def test_an_undeclared_endpoint_is_refused_to_everyone(app):
    from webapp.permissions import ENDPOINT_PERMISSIONS

    client = Browser(app, "admin")
    del ENDPOINT_PERMISSIONS["main.instance_list"]
    try:
        assert client.get("/instances").status_code == 403
    finally:
        ENDPOINT_PERMISSIONS["main.instance_list"] = "workflow.use"
    assert client.get("/instances").status_code == 200
