"""Every route needs a login; API errors are JSON; pages escape user input and send security headers."""

import re

import pytest

from tests.helpers import DATA_BY_TASK, PASSWORD, Api, Browser, route_url
from webapp.models._types import MAX_INT
from webapp.security import PUBLIC_ENDPOINTS

DUMMY = {
    "task_id": "00000000-0000-0000-0000-000000000000",
    "instance_id": 1,
    "key": "change_control",
    "kind": "material",
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
    "report_id": 1,
    "customer": "X-1",
    "attachment_id": 1,
    "record_id": 1,
    "username": "qa",
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = route_url(rule, DUMMY)
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
    from tests.web.test_web import form_fields

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


def _everyone(app):
    """A user holding every role of the access policy, so every view is reached (no 403 first)."""
    from tests.helpers import _HASH
    from webapp.extensions import db
    from webapp.models import User
    from webapp.permissions import policy
    from webapp.services.users import ensure_roles

    with app.app_context():
        db.session.add(User(username="everyone", password_hash=_HASH[0], roles=ensure_roles(policy()["roles"])))
        db.session.commit()
    return Browser(app, "everyone", PASSWORD), Api(app, "everyone", PASSWORD)


def _int_routes(app, number):
    """(endpoint, method, url) of every route with an `<int:…>` part, each such part set to `number`."""
    for rule in app.url_map.iter_rules():
        ints = set(re.findall(r"<int(?:\([^)]*\))?:(\w+)>", rule.rule))
        if not ints:
            continue
        url = route_url(rule, lambda arg, ints=ints: number if arg in ints else DUMMY[arg])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def _send(browser, api, method, url):
    if url.startswith("/api/"):
        return api.client.open(url, method=method, json={}, headers=api.headers)
    if method == "GET":
        return browser.get(url)
    return browser.client.open(url, method=method, data={"csrf_token": browser.token})


@pytest.mark.parametrize("number", [MAX_INT + 1, 35694008949392000, 10**23])
def test_ids_wider_than_the_database_holds_match_no_route(app, number):
    """Every `<int:…>` is bounded to an INTEGER column: beyond it the route does not match (404; 405 when
    another method's rule has the same path), for a user who may use every route, instead of a query
    that fails (500)."""
    browser, api = _everyone(app)
    routes = list(_int_routes(app, number))
    assert len(routes) >= 30
    for endpoint, method, url in routes:
        assert _send(browser, api, method, url).status_code in (404, 405), (endpoint, method, url)


def test_the_largest_id_reaches_the_view_and_is_not_found(app):
    browser, api = _everyone(app)
    for endpoint, method, url in _int_routes(app, MAX_INT):
        assert _send(browser, api, method, url).status_code < 500, (endpoint, method, url)
    assert api.get(f"/api/v1/lots/{MAX_INT}").status_code == 404
    assert api.get(f"/api/v1/lots?page={MAX_INT}&per_page=500").get_json()["items"] == []


@pytest.mark.parametrize("value", ["2147483648", "35694008949392000", "99999999999999999999999", "-1", "1.5", "x"])
@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/lots?page={}", "page"),
        ("/api/v1/materials?per_page={}", "per_page"),
        ("/api/v1/shipments?page={}", "page"),
        ("/api/v1/movements?lot_id={}", "lot_id"),
        ("/api/v1/tasks?process_instance_id={}", "process_instance_id"),
        ("/api/v1/fefo?material=X-1&quantity={}", "quantity"),
        ("/erp/lots?page={}", "page"),
        ("/erp/materials?page={}", "page"),
        ("/erp/shipments?page={}", "page"),
        ("/audit/?page={}", "page"),
        ("/definitions/change_control?version={}", "version"),
        ("/definitions/change_control/diff?from=1&to={}", "to"),
        ("/definitions/change_control/diff.svg?from={}&to=1", "from"),
        ("/definitions/change_control/migrations?to={}", "to"),
    ],
)
def test_integer_query_parameters_out_of_range_are_400_naming_the_parameter(app, url, field, value):
    browser, api = _everyone(app)
    response = (api if url.startswith("/api/") else browser).get(url.format(value))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    if url.startswith("/api/"):
        assert field in response.get_json()["errors"]
    else:
        assert field in response.get_data(as_text=True)


def _submitted_change_request(app, title):
    """A change request submitted by `requester` with `title`; the id of QA's impact-assessment task."""
    from tests.web.test_web import form_fields

    requester = Browser(app, "requester")
    task_id = requester.post("/processes/change_control/start").headers["Location"].rsplit("/", 1)[-1]
    response = requester.post(f"/tasks/{task_id}", form_fields({**DATA_BY_TASK["submit_request"], "title": title}))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    qa = Browser(app, "qa")
    return qa, re.search(r'href="/tasks/([0-9a-f-]{36})"', qa.get("/").get_data(as_text=True)).group(1)


def test_links_made_from_submitted_data_in_instructions_cannot_run_script(app):
    """The impact assessment's instructions interpolate the title (`### 影响评估：{{ title }}`)."""
    qa, task_id = _submitted_change_request(app, "Seal [点此查看](javascript:alert(document.cookie)) update")
    html = qa.get(f"/tasks/{task_id}").get_data(as_text=True)
    instructions = html.split('class="instructions"', 1)[1].split("</div>", 1)[0]
    assert "点此查看" in instructions and "javascript:" not in instructions


@pytest.mark.parametrize(
    "text, kept, gone",
    [
        ("[x](javascript:alert(1))", "<a", "javascript:"),
        ("[x](JaVaScRiPt:alert(1))", "<a", "javascript:"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "<a", "data:"),
        ("[x](vbscript:msgbox)", "<a", "vbscript:"),
        ("![x](https://evil.example/t.png)", "<p>", "<img"),
        ("[ok](https://example.com/a?b=1)", 'href="https://example.com/a?b=1"', "onclick"),
        ("[ok](mailto:qa@example.com)", 'href="mailto:qa@example.com"', "javascript:"),
        ("[ok](/instances?attention=1)", 'href="/instances?attention=1"', "javascript:"),
        ("<b onclick=alert(1)>x</b>", "&lt;b", "<b"),
    ],
)
def test_rendered_markdown_keeps_only_allowed_tags_attributes_and_url_schemes(text, kept, gone):
    from webapp.templating import render_markdown

    html = str(render_markdown(text))
    assert kept in html and gone not in html.lower(), html


OFF_SITE = [
    "//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\\evil.example",
    "https://evil.example",
    "\t//evil.example",
]


def _location(response):
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def test_login_follows_only_same_site_paths(app):
    from urllib.parse import quote

    from tests.helpers import csrf_token

    for target, expected in [*((t, "/") for t in OFF_SITE), ("/erp/lots?page=2", "/erp/lots?page=2")]:
        client = app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post(
            f"/login?next={quote(target)}", data={"username": "qa", "password": PASSWORD, "csrf_token": token}
        )
        assert _location(response) == expected, target


def test_claim_locale_and_reversal_forms_follow_only_same_site_paths(app):
    from tests.erp_world import build_world, released_stock
    from tests.helpers import user
    from webapp.extensions import db
    from webapp.models import Movement

    qa, task_id = _submitted_change_request(app, "Seal update")
    with app.app_context():
        build_world()
        released_stock(user("qa"))
        movement_ids = [m.id for m in db.session.query(Movement).order_by(Movement.id)]
    for target in OFF_SITE:
        assert _location(qa.post(f"/tasks/{task_id}/claim", {"next": target})) == f"/tasks/{task_id}", target
        qa.post(f"/tasks/{task_id}/unclaim")
        assert _location(qa.post("/locale", {"locale": "en", "next": target})) == "/", target
        reverse = qa.post(f"/erp/movements/{movement_ids[0]}/reverse", {"reason": "wrong lot", "next": target})
        assert _location(reverse) == "/erp/lots", target
    assert _location(qa.post(f"/tasks/{task_id}/claim", {"next": "/instances"})) == "/instances"
    assert _location(qa.post("/locale", {"locale": "zh_CN", "next": "/erp/lots?page=2"})) == "/erp/lots?page=2"
