"""Test helpers: demo users, logins, CSRF tokens and valid form data for change control."""

import re

PASSWORD = "Correct-Horse-9"
USERS = {
    "requester": ["requester", "employee"],
    "requester2": ["requester"],
    "qa": ["qa"],
    "qa2": ["qa"],
    "board": ["change_board"],
    "regulatory": ["regulatory"],
    "admin": ["admin"],
    "warehouse": ["warehouse"],
    "sales": ["sales"],
    "qamanager": ["qa_manager"],
    "purchasing": ["purchasing"],
    "production": ["production"],
    "mrb": ["mrb"],
}


_HASH = []


def create_demo_users():
    """One user per role (two for requester and qa), all with PASSWORD (hashed once per run)."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services.users import ensure_roles, hash_password

    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    for username, roles in USERS.items():
        db.session.add(
            User(username=username, full_name=username.title(), password_hash=_HASH[0], roles=ensure_roles(roles))
        )
    db.session.commit()


def csrf_token(html):
    """The CSRF token embedded in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)


class Browser:
    """A logged-in HTML client that posts forms with the CSRF token, like a browser would."""

    def __init__(self, app, username, password=PASSWORD):
        self.client = app.test_client()
        self.username = username
        page = self.client.get("/login")
        response = self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        self.token = csrf_token(self.client.get("/").get_data(as_text=True))

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, **kwargs):
        body = dict(data or {})
        body.setdefault("csrf_token", self.token)
        return self.client.post(url, data=body, **kwargs)


class Api:
    """A REST API client holding a bearer token; every answer is checked against the OpenAPI document."""

    def __init__(self, app, username, password=PASSWORD):
        self.client = app.test_client()
        response = self.client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        self.headers = {"Authorization": f"Bearer {response.get_json()['token']}"}

    def get(self, url):
        return assert_documented(self.client.application, "GET", url, self.client.get(url, headers=self.headers))

    def post(self, url, json=None):
        response = self.client.post(url, json=json if json is not None else {}, headers=self.headers)
        return assert_documented(self.client.application, "POST", url, response)


CHANGE_REQUEST = {
    "title": "Revise sterilizer pre-conditioning",
    "description": "Extend EO pre-conditioning from 60 to 75 minutes.",
    "change_type": "process",
    "affected_products": [{"code": "CK-100", "name": "Catheter kit"}],
    # Controlled documents named here must be approved and trained before the change becomes
    # effective (tests/integration/test_process_document_control.py): none in the common path.
    "affected_documents": [],
    "reason": "Seal complaints traced to low humidity.",
    "proposed_effective_date": "2026-12-15",
}
MINOR_IMPACT = {
    "product_impact": False,
    "process_impact": True,
    "validation_required": False,
    "labelling_impact": False,
    "registration_impact": "none",
    "risk_level": "low",
    "impact_summary": "Parameter change within the validated range.",
}
MAJOR_IMPACT = {
    **MINOR_IMPACT,
    "registration_impact": "filing",
    "risk_level": "medium",
    "impact_summary": "Sterilization process change; filing required.",
}
DATA_BY_TASK = {
    "submit_request": CHANGE_REQUEST,
    "revise_request": {**CHANGE_REQUEST, "description": "Revised after review."},
    "impact_assessment": MINOR_IMPACT,
    "board_review": {"board_decision": "approve", "board_comments": "ok"},
    "regulatory_review": {
        "regulatory_decision": "approve",
        "regulatory_comments": "ok",
        "filing_plan": "File a change notification with NMPA.",
    },
    "qa_review": {"qa_review_decision": "approve", "qa_review_comments": "ok"},
    "qa_approval": {"approval_decision": "approve", "approval_comments": "approved"},
    "implementation": {
        "actions": [{"action": "Update SOP-STE-004", "owner": "requester", "done": True}],
        "implementation_notes": "SOP revised and trained.",
    },
    "verification": {"verification_result": "pass", "verification_evidence": "Three validation runs passed."},
    "make_effective": {"effective_date": "2026-12-15"},
}
USER_FOR_ROLE = {"requester": "requester", "qa": "qa", "change_board": "board", "regulatory": "regulatory"}
# Segregation of duties: QA approval must be signed by someone other than the assessor/reviewer.
USER_FOR_TASK = {"qa_approval": "qa2"}


def worker_for(bpmn_id, role):
    """The demo user who works task `bpmn_id` in a lane of `role`."""
    return USER_FOR_TASK.get(bpmn_id) or USER_FOR_ROLE[role]


def signature_for(meaning, username=None):
    """The API's signature object for a signature step."""
    body = {"password": PASSWORD, "meaning": meaning}
    if username:
        body["username"] = username
    return body


# Bookkeeping that moves on its own: the audit checkpoint with every audit event (tests pop
# "audit_events" and count those), a browser session's last request time.
NOT_SNAPSHOTTED = {"audit_checkpoint", "user_sessions"}


def table_snapshot():
    """Every row of every table, for asserting that a refused operation changed nothing."""
    from sqlalchemy import select

    from webapp.extensions import db

    db.session.expire_all()
    snapshot = {}
    for table in db.metadata.sorted_tables:
        if table.name in NOT_SNAPSHOTTED:
            continue
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        snapshot[table.name] = [tuple(r) for r in rows]
    return snapshot


def user(username):
    """The User row called `username`."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import User

    return db.session.scalar(select(User).where(User.username == username))


def at_once(app, job, workers=2):
    """Run `job()` in `workers` threads released at the same instant (as several app processes'
    schedulers would); their results. Any exception fails the calling test."""
    import threading

    from webapp.extensions import db

    barrier, results, errors = threading.Barrier(workers), [], []

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                results.append(job())
            except Exception as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def loop_form():
    """The form of tests/fixtures/rework_loop.bpmn's task, for bundles built from its text."""
    from pathlib import Path

    from engine import SourceFile

    path = Path(__file__).resolve().parent / "fixtures" / "rework_loop-schema.json"
    return SourceFile(path.name, path.read_text(encoding="utf-8"))


def shipped_paths():
    """The folders `traceflow deploy` deploys: one per process under processes/, rules/ and forms/."""
    from pathlib import Path

    from webapp.cli import shipped_folders

    root = Path(__file__).resolve().parent.parent
    return shipped_folders(root / "processes", root / "rules", root / "forms")


_OPENAPI = []


def assert_documented(app, method, url, response):
    """`response` (a test client's, to `method url`) is an answer the OpenAPI document gives that
    operation: a documented status code, and the body the document describes for it. A URL the
    document has no operation for (a test of an unknown path or method) is not checked here."""
    import schemathesis

    if not _OPENAPI:
        _OPENAPI.append(schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app))
    operation = _OPENAPI[0].find_operation_by_path(method, url.partition("?")[0])
    if operation is None:
        return response
    status = response.status_code
    assert operation.responses.find_by_status_code(status) is not None, (
        f"{method} {url} answered {status}, which the OpenAPI document does not list: {response.get_data()[:300]!r}"
    )
    operation.validate_response(response)
    return response


def route_url(rule, values):
    """The URL of a Flask rule with each `<arg>`, `<int:arg>` or `<any(a, b):arg>` part replaced by
    `values[arg]` (a mapping, or a function of the argument's name)."""
    import re

    value = values if callable(values) else values.__getitem__
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[^<>]*:)?{arg}>", str(value(arg)), url)
    return url
