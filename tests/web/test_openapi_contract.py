"""The OpenAPI document and the server agree: a bounded schemathesis run over every operation.

The document is loaded from the app (GET /api/v1/openapi.json, in-process over WSGI) and every
operation is called, by a user holding every role, with a few generated requests per phase
(examples, coverage, fuzzing; short stateful sequences), valid and invalid, deterministic and
without shrinking, under every check schemathesis has: no 5xx, only documented status codes, content types and headers, bodies as
the document describes them, spec-valid requests accepted, spec-invalid ones refused, 405s with
`Allow`, credentials not ignored, and so on. The database holds the ERP test world and a running
change control, which the operations find through the answers of the list calls.
"""

import os
import time

import pytest
import schemathesis
from schemathesis.engine import Status, events
from schemathesis.generation.meta import REQUEST_SHAPE_PROBES, coverage_scenario
from schemathesis.transport.wsgi import WSGI_TRANSPORT

from tests.helpers import PASSWORD, USERS, Api

# A few examples per operation and phase in `make test`; more (and another seed) for a deeper run:
# TRACEFLOW_CONTRACT_EXAMPLES=50 TRACEFLOW_CONTRACT_SEED=7 pytest tests/test_openapi_contract.py
MAX_EXAMPLES = int(os.environ.get("TRACEFLOW_CONTRACT_EXAMPLES", "5"))
SEED = int(os.environ.get("TRACEFLOW_CONTRACT_SEED", "20260101"))

CONFIG = {
    "seed": SEED,
    "cache": {"enabled": False},  # no replay of earlier runs' findings (and no .schemathesis/ folder)
    "generation": {
        "mode": "all",
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "no-shrink": True,
        "database": "none",
    },
    "checks": {
        "enabled": True,
        # A well-formed request may still be refused for what it says: 400 naming the field for a code
        # that names no record or a voided one, a duplicate code, a GS1 string that does not parse;
        # 422 naming the rule or the rows for a compliance guard, an invalid bundle or CSV file. No
        # OpenAPI schema says which records exist, so these two are accepted answers to valid data;
        # `request_validation_conformance` below still fails every valid request that the server's
        # own request schema refuses, which is where the document and the server disagree.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", 400, 401, 403, 404, 409, 422, 429, "5xx"]},
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": True, "max-steps": 5},
    },
    "workers": 1,
    "continue-on-failure": True,
}


# The API's refusals by its request schemas (webapp/api/routes.py `_load`), as opposed to refusals
# by the services of what a well-formed request asks for.
REQUEST_SCHEMA_REFUSALS = {"the request is invalid", "the request body must be a JSON object"}


@schemathesis.check
def request_validation_conformance(ctx, response, case):
    """A request valid by the document passes the server's request validation."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or coverage_scenario(case) in REQUEST_SHAPE_PROBES:
        return None
    if response.status_code == 400:
        body = response.json() if "json" in response.headers.get("content-type", [""])[0] else {}
        if isinstance(body, dict) and body.get("message") in REQUEST_SCHEMA_REFUSALS:
            raise AssertionError(
                f"a request valid by the OpenAPI document was refused by the server's request schema: {body}"
            )
    return None


def _in_process_send(send):
    """WSGITransport.send, minus the socket-level options (max_redirects, verify, cert, proxies) that
    schemathesis's auth probes (the `ignored_auth` check) pass without a session and that Werkzeug's
    test client refuses (TypeError); the transport drops them itself only when given a session."""

    def wrapper(case, *, session=None, **kwargs):
        if session is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return send(case, session=session, **kwargs)

    return wrapper


def _failures(schema):
    """Every check failure of the run, one text each (operation, check, what, the request as curl and
    the response), and the errors schemathesis itself ran into."""
    found, errors = set(), []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status == Status.FAILURE:
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        found.add(_describe(event.recorder, case_id, check))
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return sorted(found), errors


def _describe(recorder, case_id, check):
    failure = check.failure_info.failure
    response = recorder.find_response(case_id=failure.case_id or case_id) or recorder.find_response(case_id=case_id)
    answer = f"-> {response.status_code} {response.content[:300]!r}" if response is not None else "-> no response"
    return (
        f"{failure.operation} [{check.name}] {failure.title}\n{failure.message}\n"
        f"{check.failure_info.code_sample}\n{answer}"
    )


def _all_roles_user(app):
    """A user holding every demo role, so that few operations answer 403 alone."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services.users import ensure_roles, hash_password

    roles = sorted({role for names in USERS.values() for role in names})
    with app.app_context():
        db.session.add(
            User(
                username="contract",
                full_name="Contract",
                password_hash=hash_password(PASSWORD),
                roles=ensure_roles(roles),
            )
        )
        db.session.commit()
    return "contract"


def _seed(app):
    """Records for the operations to find (through the list calls' answers): the ERP world with
    released stock, and a running change control with a ready task."""
    from tests.erp_world import build_world, released_stock
    from webapp.extensions import db

    with app.app_context():
        released_stock(build_world())
        db.session.commit()
    started = Api(app, "requester").post("/api/v1/process-instances", {"process_key": "change_control"})
    assert started.status_code == 201, started.get_json()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_server_does_what_its_openapi_document_says(app, monkeypatch):
    monkeypatch.setattr(WSGI_TRANSPORT, "send", _in_process_send(WSGI_TRANSPORT.send))
    username = _all_roles_user(app)
    _seed(app)
    # DELETE /auth/token revokes the token it is called with: it gets a token of its own.
    revoked = {"include-path": "/api/v1/auth/token", "include-method": "DELETE", "headers": Api(app, username).headers}
    config = schemathesis.Config.from_dict({**CONFIG, "headers": Api(app, username).headers, "operations": [revoked]})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    started = time.monotonic()
    failures, errors = _failures(schema)
    elapsed = time.monotonic() - started
    server_errors = [f for f in failures if "[not_a_server_error]" in f]
    print(f"schemathesis: {len(failures)} failures ({len(server_errors)} server errors) in {elapsed:.0f} s")
    assert not errors, "schemathesis could not run:\n" + "\n".join(errors)
    assert not failures, (
        f"{len(failures)} disagreements between the server and its OpenAPI document, "
        f"{len(server_errors)} of them server errors:\n\n" + "\n\n".join(failures)
    )


def _integers(schema, components, seen=()):
    """Every integer schema inside `schema` (following $refs once each)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                yield from _integers(components[name], components, (*seen, name))
            return
        if schema.get("type") == "integer":
            yield schema
        for value in schema.values():
            yield from _integers(value, components, seen)
    elif isinstance(schema, list):
        for item in schema:
            yield from _integers(item, components, seen)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_integer_a_request_carries_is_bounded_in_the_document(app):
    """bounds.py refuses numbers outside 1..MAX_INT (or a field's own range): the document says so."""
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    components = doc["components"]["schemas"]
    unbounded = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            inputs = [p["schema"] for p in op.get("parameters", [])]
            inputs += [c["schema"] for c in op.get("requestBody", {}).get("content", {}).values()]
            for integer in _integers(inputs, components):
                if "minimum" not in integer or "maximum" not in integer:
                    unbounded.append(f"{method.upper()} {path}: {integer}")
    assert not unbounded, "\n".join(unbounded)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_api_route_is_in_the_document(app):
    """The run above reaches only what the document lists: every /api/v1 route is there (the
    process packages' too), and nothing else is."""
    import re

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    documented = {(method.upper(), path) for path, operations in doc["paths"].items() for method in operations}
    routes = {
        (method, re.sub(r"<(?:\w+:)?\w+>", "{}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.rule != "/api/v1/openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == {(method, re.sub(r"\{\w+\}", "{}", path)) for method, path in documented}
