"""CAPA (processes/capa/capa.bpmn, processes/capa/capa_risk.dmn, forms/capa_*) through the REST API, along every
gateway branch to the signed closure; timers fired with run_due at a controlled `now`; the lot hold,
the escalation notice and the change request opened by a CAPA action asserted in the database."""

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from engine import Engine, ProcessBundle, VersionRef, compile_bundle
from engine.operations import OperationRegistry
from tests.conftest import ROOT
from tests.erp_world import build_world, receive, released_stock
from tests.helpers import Api, Browser, shipped_paths, signature_for
from webapp.extensions import db
from webapp.models import Lot, Notification, OutboxMessage, ProcessInstance, User
from webapp.models._types import utcnow
from webapp.operations import register as register_operations
from webapp.services import messages, timers

REQUEST = {
    "source": "complaint",
    "source_ref": "CMP-2026-014",
    "title": "Open pouch seals on catheter kits",
    "description": "Two hospitals report open pouch seals on one kit lot.",
    "severity": 4,
    "occurrence": 3,
}
CONTAINMENT = {"containment_actions": "Stop shipments, segregate stock, inform the two hospitals.", "hold_lots": False}
INVESTIGATION = {
    "five_whys": [
        {"why": "Seal open: seal strength low"},
        {"why": "Low humidity in pre-conditioning"},
        {"why": "Pre-conditioning step shortened by the sterilizer"},
    ],
    "fishbone": [
        {"category": "method", "cause": "Pre-conditioning time"},
        {"category": "environment", "cause": "Humidity"},
    ],
    "root_cause": "The sterilizer shortened the EO pre-conditioning step.",
}
ACTIONS = [
    {"action": "Audit the sterilizer's pre-conditioning records", "owner": "qa2", "due_date": "2026-12-20"},
    {"action": "Add a seal-strength test to incoming inspection", "owner": "qa", "due_date": "2026-12-31"},
]
IMPLEMENTED = {"completion_notes": "Done, records attached.", "completed_on": "2026-12-15"}
VERIFIED = {"verification_result": "pass", "verification_evidence": "Audit report AR-77; inspection plan rev. D."}
EFFECTIVE = {"effectiveness_result": "effective", "effectiveness_evidence": "No seal complaints in 90 days."}
CLOSURE = {"closure_summary": "Root cause removed, no recurrence."}


@pytest.fixture
def world(app):
    with app.app_context():
        qa = build_world()
        released_stock(qa, "TUBE", "T1")
        receive(qa, "TUBE", "T2")
    return app


def run_due(app, now):
    """Fire the timers due at `now` (the scheduler's job, at a controlled time)."""
    with app.app_context():
        return timers.run_due(now)


def deliver_pending(app):
    """Deliver the outbox (the scheduler's job)."""
    with app.app_context():
        return messages.deliver_pending()


def _lot_status(app, number):
    with app.app_context():
        db.session.expire_all()
        return db.session.scalar(select(Lot.status).where(Lot.lot_number == number))


class Capa:
    """One CAPA instance driven through the API by the demo users."""

    def __init__(self, app, body=None, starter="qa"):
        self.app, self.apis = app, {}
        self.body = body or self.api(starter).post("/api/v1/process-instances", {"process_key": "capa"}).get_json()

    def api(self, username):
        if username not in self.apis:
            self.apis[username] = Api(self.app, username)
        return self.apis[username]

    @property
    def open(self):
        return sorted(t["bpmn_id"] for t in self.body["ready_tasks"])

    @property
    def data(self):
        return self.body["data"]

    def task(self, bpmn_id):
        [task] = [t for t in self.body["ready_tasks"] if t["bpmn_id"] == bpmn_id]
        return task

    def refresh(self):
        self.body = self.api("qa").get(f"/api/v1/process-instances/{self.body['id']}").get_json()
        return self

    def attempt(self, username, bpmn_id, data, signature=None, task=None):
        task = task or self.task(bpmn_id)
        body = {"data": data, **({"signature": signature} if signature else {})}
        return self.api(username).post(f"/api/v1/tasks/{task['id']}/complete", body)

    def complete(self, username, bpmn_id, data, signature=None, task=None):
        response = self.attempt(username, bpmn_id, data, signature, task)
        assert response.status_code == 200, response.get_json()
        self.body = response.get_json()["process_instance"]
        return self

    def implement_all(self):
        """Each action's task completed by its owner."""
        for task in [t for t in self.body["ready_tasks"] if t["bpmn_id"] == "implement_action"]:
            owner = task["assignee"] or task["instructions"].split("负责人：", 1)[1].split("，", 1)[0]
            self.complete(owner, "implement_action", IMPLEMENTED, task=task)
        return self

    def to_investigation(self, request=None, containment=None):
        self.complete("qa", "capa_request", request or REQUEST)
        return self.complete("qa", "containment", containment or CONTAINMENT)

    def to_verification(self, actions=None):
        self.complete("qa", "investigation", INVESTIGATION)
        self.complete("qa", "action_plan", {"actions": actions or ACTIONS})
        return self.implement_all()

    def close_from_verification(self):
        """Verification passes, the effectiveness timer fires, the actions are effective, qa2 signs the closure."""
        verified_at = utcnow()
        self.complete("qa", "verification", VERIFIED)
        assert self.open == [] and self.body["status"] == "running"
        days = self.data["effectiveness_days"]
        assert self.body["id"] not in run_due(self.app, verified_at + timedelta(days=days) - timedelta(hours=1))
        assert self.body["id"] in run_due(self.app, verified_at + timedelta(days=days, hours=1))
        assert self.refresh().open == ["effectiveness_check"]
        self.complete("qa", "effectiveness_check", EFFECTIVE)
        assert self.open == ["qa_closure"]
        self.complete("qa2", "qa_closure", CLOSURE, signature_for("approved"))
        assert self.body["status"] == "completed" and self.data["closed"] is True
        return self


# --- the risk matrix -------------------------------------------------------------------------------

# Severity (rows, 5 = catastrophic) x occurrence (columns 1..5), written independently of the DMN.
MATRIX = {5: "MHHHH", 4: "MMHHH", 3: "LMMHH", 2: "LLMMH", 1: "LLLMM"}
TARGETS = {"H": ("high", 30, 14, 90), "M": ("medium", 60, 21, 90), "L": ("low", 90, 30, 60)}
CELLS = [(s, o, TARGETS[MATRIX[s][o - 1]]) for s in range(5, 0, -1) for o in range(1, 6)]
# One cell per DMN rule (Rule_<id> in processes/capa/capa_risk.dmn): every row of the table is hit.
RULE_CELLS = {
    "S5_O2_5": (5, 2),
    "S4_O3_5": (4, 3),
    "S3_O4_5": (3, 4),
    "S2_O5": (2, 5),
    "S5_O1": (5, 1),
    "S4_O1_2": (4, 1),
    "S3_O2_3": (3, 2),
    "S2_O3_4": (2, 3),
    "S1_O4_5": (1, 4),
    "S3_O1": (3, 1),
    "S2_O1_2": (2, 1),
    "S1_O1_3": (1, 1),
}


@pytest.fixture(scope="module")
def capa_ref():
    bundle = ProcessBundle.from_paths(*shipped_paths())
    registry = OperationRegistry()
    register_operations(registry)
    [compiled] = [c for c in compile_bundle(bundle, operations=registry.definitions()) if c.key == "capa"]
    return VersionRef(compiled.content_hash, compiled.spec_json, {f.name: f.text for f in compiled.files})


def _assess(ref, severity, occurrence):
    engine = Engine()
    workflow = engine.start(ref)
    [request] = engine.ready_human_tasks(workflow, ref)
    engine.complete_task(workflow, request.id, {**REQUEST, "severity": severity, "occurrence": occurrence})
    assert [t.bpmn_id for t in engine.ready_human_tasks(workflow, ref)] == ["containment"]
    data = engine.data(workflow)
    return data["priority"], data["due_days"], data["investigation_days"], data["effectiveness_days"]


def test_the_dmn_has_one_rule_per_listed_cell_group():
    text = (ROOT / "processes" / "capa" / "capa_risk.dmn").read_text(encoding="utf-8")
    assert sorted(RULE_CELLS) == sorted(part.split('"')[0] for part in text.split('<rule id="Rule_')[1:])
    assert 'hitPolicy="UNIQUE"' in text


@pytest.mark.parametrize("rule", sorted(RULE_CELLS))
def test_each_dmn_rule_sets_priority_and_deadlines(capa_ref, rule):
    severity, occurrence = RULE_CELLS[rule]
    assert _assess(capa_ref, severity, occurrence) == TARGETS[MATRIX[severity][occurrence - 1]]


@pytest.mark.parametrize("severity, occurrence, expected", CELLS, ids=[f"S{s}xO{o}" for s, o, _ in CELLS])
def test_every_cell_of_the_risk_matrix_hits_exactly_one_rule(capa_ref, severity, occurrence, expected):
    assert _assess(capa_ref, severity, occurrence) == expected


# --- the process through the API -----------------------------------------------------------------


def test_effective_first_time_with_lots_on_hold_to_signed_closure(world):
    capa = Capa(world)
    assert capa.body["business_key"].startswith("CAPA-") and capa.open == ["capa_request"]
    assert capa.task("capa_request")["candidate_role"] == "qa"
    capa.complete("qa", "capa_request", {**REQUEST, "affected_lots": [{"lot": "TUBE/T1"}, {"lot": "TUBE/T2"}]})
    assert (capa.data["priority"], capa.data["due_days"]) == ("high", 30)
    assert capa.open == ["containment"]
    capa.complete("qa", "containment", {**CONTAINMENT, "hold_lots": True})
    assert capa.data["hold_result"] == {"held": ["TUBE T1", "TUBE T2"], "count": 2}
    assert _lot_status(world, "T1") == _lot_status(world, "T2") == "hold"
    assert capa.open == ["investigation"]
    capa.complete("qa", "investigation", INVESTIGATION)
    capa.complete("qa", "action_plan", {"actions": ACTIONS})
    tasks = [t for t in capa.body["ready_tasks"] if t["bpmn_id"] == "implement_action"]
    assert len(tasks) == 2 and {t["instructions"].split("\n")[0] for t in tasks} == {
        f"### 实施措施：{a['action']}" for a in ACTIONS
    }
    assert sorted((t["assignee"], t["due_at"][:10]) for t in tasks) == sorted(
        (a["owner"], a["due_date"]) for a in ACTIONS
    )
    capa.implement_all()
    assert capa.open == ["verification"]
    assert [(r["action"], r["completion_notes"], r["completed"]) for r in capa.data["action_results"]] == [
        (a["action"], IMPLEMENTED["completion_notes"], True) for a in ACTIONS
    ]
    capa.close_from_verification()
    with world.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == []


def test_containment_holds_nothing_unless_asked_and_lots_were_listed(world):
    listed = Capa(world).to_investigation(
        request={**REQUEST, "affected_lots": [{"lot": "TUBE/T1"}]}, containment={**CONTAINMENT, "hold_lots": False}
    )
    assert "hold_result" not in listed.data and _lot_status(world, "T1") == "released"
    listed.to_verification().close_from_verification()
    asked = Capa(world).to_investigation(containment={**CONTAINMENT, "hold_lots": True})
    assert asked.data["affected_lots"] == [] and "hold_result" not in asked.data
    assert _lot_status(world, "T1") == "released" and asked.open == ["investigation"]
    asked.to_verification().close_from_verification()


def test_a_failed_verification_returns_to_the_action_plan(world):
    capa = Capa(world).to_investigation().to_verification()
    capa.complete("qa", "verification", {"verification_result": "fail", "verification_evidence": "Audit not done."})
    assert capa.open == ["action_plan"] and "Audit not done." in capa.task("action_plan")["instructions"]
    revised = ACTIONS[:1] + [{"action": "Re-audit on site", "owner": "qa2", "due_date": "2027-01-10"}]
    capa.complete("qa", "action_plan", {"actions": revised})
    assert [t["bpmn_id"] for t in capa.body["ready_tasks"]] == ["implement_action", "implement_action"]
    capa.implement_all()
    assert [r["action"] for r in capa.data["action_results"]] == [a["action"] for a in revised]
    capa.close_from_verification()


def test_actions_found_not_effective_send_the_capa_back_to_investigation(world):
    capa = Capa(world).to_investigation().to_verification()
    verified_at = utcnow()
    capa.complete("qa", "verification", VERIFIED)
    assert capa.data["effectiveness_days"] == 90
    assert run_due(world, verified_at + timedelta(days=91)) == [capa.body["id"]]
    capa.refresh().complete(
        "qa",
        "effectiveness_check",
        {"effectiveness_result": "not_effective", "effectiveness_evidence": "Another open seal in week 6."},
    )
    assert capa.open == ["investigation"]
    assert "Another open seal in week 6." in capa.task("investigation")["instructions"]
    capa.to_verification().close_from_verification()


def test_an_overdue_investigation_is_escalated_to_the_qa_manager(world):
    capa = Capa(world)
    capa.complete("qa", "capa_request", REQUEST)
    started = utcnow()
    capa.complete("qa", "containment", CONTAINMENT)
    assert capa.data["investigation_days"] == 14
    due = capa.task("investigation")["due_at"]
    assert due[:10] in {(started + timedelta(days=d)).date().isoformat() for d in (14, 15)}
    assert run_due(world, started + timedelta(days=13)) == []
    assert capa.refresh().open == ["investigation"]
    assert run_due(world, started + timedelta(days=14, hours=1)) == [capa.body["id"]]
    assert capa.refresh().open == ["escalated_investigation"]
    task = capa.task("escalated_investigation")
    assert (task["lane"], task["candidate_role"]) == ("QA Manager", "qa_manager")
    with world.app_context():
        notes = db.session.execute(
            select(User.username, Notification.kind, Notification.subject)
            .join(User, User.id == Notification.user_id)
            .where(Notification.kind == "escalated")
        ).all()
        assert notes == [("qamanager", "escalated", f"CAPA investigation overdue: {REQUEST['title']}")]
    assert capa.attempt("qa", "escalated_investigation", INVESTIGATION).status_code == 403
    capa.complete("qamanager", "escalated_investigation", INVESTIGATION)
    assert capa.open == ["action_plan"] and capa.data["root_cause"] == INVESTIGATION["root_cause"]
    capa.complete("qa", "action_plan", {"actions": ACTIONS}).implement_all().close_from_verification()


def test_an_action_needing_change_opens_a_prefilled_change_request(world):
    capa = Capa(world).to_investigation()
    capa.complete("qa", "investigation", INVESTIGATION)
    change = {
        "action": "Revise the EO pre-conditioning specification",
        "owner": "qa2",
        "due_date": "2027-01-31",
        "needs_change": True,
        "change_type": "process",
    }
    capa.complete("qa", "action_plan", {"actions": [change, ACTIONS[1]]})
    deliver_pending(world)  # the outbox is also delivered right after the commit that threw
    with world.app_context():
        [thrown] = db.session.scalars(select(OutboxMessage)).all()
        [cc] = db.session.scalars(select(ProcessInstance).where(ProcessInstance.id != capa.body["id"])).all()
        assert (thrown.name, thrown.source_instance_id, thrown.delivered_to) == (
            "open_change_request",
            capa.body["id"],
            [cc.id],
        )
        cc_id, initiator = cc.id, cc.initiator.username
    assert initiator == "qa"
    requester = Api(world, "requester")
    shown = requester.get(f"/api/v1/process-instances/{cc_id}").get_json()
    assert shown["process_key"] == "change_control" and shown["business_key"].startswith("CC-")
    assert shown["data"]["request"] == {
        "title": change["action"],
        "change_type": "process",
        "source": "capa",
        "source_ref": capa.body["business_key"],
        "description": f"CAPA action: {change['action']} (owner qa2, due 2027-01-31)",
        "reason": f"CAPA {REQUEST['title']}: root cause: {INVESTIGATION['root_cause']}",
    }
    assert (shown["data"]["title"], shown["data"]["change_type"]) == (change["action"], "process")
    [submit] = shown["ready_tasks"]
    assert (submit["bpmn_id"], submit["candidate_role"]) == ("submit_request", "requester")
    assert "capa" in submit["instructions"] and capa.body["business_key"] in submit["instructions"]
    page = Browser(world, "requester").get(f"/tasks/{submit['id']}").get_data(as_text=True)
    assert f'value="{change["action"]}"' in page and INVESTIGATION["root_cause"] in page

    # The CAPA goes on; a re-planned action keeps its one change request, a new one gets its own.
    capa.implement_all()
    capa.complete("qa", "verification", {"verification_result": "fail", "verification_evidence": "Spec pending."})
    extra = {
        "action": "Add a humidity alarm to the sterilizer",
        "owner": "qa",
        "due_date": "2027-02-28",
        "needs_change": True,
        "change_type": "design",
    }
    capa.complete("qa", "action_plan", {"actions": [change, extra]})
    deliver_pending(world)
    with world.app_context():
        sent = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.name, m.delivered_at is not None) for m in sent] == [("open_change_request", True)] * 2
        requests = db.session.scalars(
            select(ProcessInstance).where(ProcessInstance.id != capa.body["id"]).order_by(ProcessInstance.id)
        ).all()
        assert [r.data["title"] for r in requests] == [change["action"], extra["action"]]
        assert requests[1].data["change_type"] == "design"
    capa.implement_all().close_from_verification()


def test_a_message_from_another_process_opens_a_prefilled_capa(world):
    with world.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "capa_source"))
    qa = Api(world, "qa")
    source = qa.post("/api/v1/process-instances", {"process_key": "capa_source_stub"}).get_json()
    qa.post(f"/api/v1/tasks/{source['ready_tasks'][0]['id']}/complete", {"data": {}})
    deliver_pending(world)
    with world.app_context():
        [thrown] = db.session.scalars(select(OutboxMessage)).all()
        assert thrown.name == "open_capa" and thrown.delivered_at is not None
        [row] = db.session.scalars(select(ProcessInstance).where(ProcessInstance.id != source["id"])).all()
        capa_id = row.id
    capa = Capa(world, qa.get(f"/api/v1/process-instances/{capa_id}").get_json())
    assert capa.body["process_key"] == "capa" and capa.body["initiator"] == "qa"
    assert capa.open == ["capa_request"]
    payload = {
        "source": "complaint",
        "source_ref": "CMP-2026-021",
        "title": "Cracked luer on BP cuff",
        "description": "Luer connector cracked on delivery.",
    }
    assert capa.data["request"] == payload
    assert {k: capa.data[k] for k in payload} == payload
    assert "CMP-2026-021" in capa.task("capa_request")["instructions"]
    page = Browser(world, "qa").get(f"/tasks/{capa.task('capa_request')['id']}").get_data(as_text=True)
    assert 'value="Cracked luer on BP cuff"' in page and 'value="CMP-2026-021"' in page
    capa.to_investigation(request={**payload, "severity": 2, "occurrence": 2})
    assert capa.data["priority"] == "low"
    capa.to_verification().close_from_verification()


def test_closure_needs_a_signature_by_someone_other_than_initiator_and_investigator(world):
    capa = Capa(world).to_investigation().to_verification()
    verified_at = utcnow()
    capa.complete("qa", "verification", VERIFIED)
    run_due(world, verified_at + timedelta(days=91))
    capa.refresh().complete("qa", "effectiveness_check", EFFECTIVE)
    unsigned = capa.attempt("qa2", "qa_closure", CLOSURE)
    assert unsigned.status_code == 400 and "signature" in unsigned.get_json()["errors"]
    by_initiator = capa.attempt("qa", "qa_closure", CLOSURE, signature_for("approved"))
    assert by_initiator.status_code == 403 and "initiator" in by_initiator.get_json()["message"]
    assert capa.refresh().open == ["qa_closure"]
    capa.complete("qa2", "qa_closure", CLOSURE, signature_for("approved"))
    [signature] = capa.body["signatures"]
    assert (signature["signer"], signature["meaning"], signature["bpmn_id"], signature["valid"]) == (
        "qa2",
        "approved",
        "qa_closure",
        True,
    )


def test_the_investigator_may_not_sign_the_closure(world):
    capa = Capa(world).to_investigation()
    capa.complete("qa2", "investigation", INVESTIGATION)
    capa.complete("qa", "action_plan", {"actions": ACTIONS}).implement_all()
    verified_at = utcnow()
    capa.complete("qa", "verification", VERIFIED)
    run_due(world, verified_at + timedelta(days=91))
    capa.refresh().complete("qa", "effectiveness_check", EFFECTIVE)
    refused = capa.attempt("qa2", "qa_closure", CLOSURE, signature_for("approved"))
    assert refused.status_code == 403 and "segregation of duties" in refused.get_json()["message"]
    assert capa.refresh().open == ["qa_closure"] and capa.body["status"] == "running"


def test_every_capa_form_renders_as_html(world):
    capa, browser = Capa(world), Browser(world, "qa")
    steps = [
        ("capa_request", REQUEST),
        ("containment", CONTAINMENT),
        ("investigation", INVESTIGATION),
        ("action_plan", {"actions": ACTIONS}),
        ("implement_action", None),
        ("verification", VERIFIED),
    ]
    for step, data in steps:
        task = [t for t in capa.body["ready_tasks"] if t["bpmn_id"] == step][0]
        page = browser.get(f"/tasks/{task['id']}")
        assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True), step
        capa.implement_all() if data is None else capa.complete("qa", step, data)


def test_each_action_task_is_assigned_to_its_owner_with_its_due_date(world):
    capa = Capa(world).to_investigation()
    capa.complete("qa", "investigation", INVESTIGATION)
    capa.complete(
        "qa",
        "action_plan",
        {
            "actions": [
                {"action": "Retrain the packing line", "owner": "production", "due_date": "2026-12-20"},
                {"action": "Update the inspection plan", "owner": "qa2", "due_date": "2026-12-31"},
            ]
        },
    )
    tasks = sorted(
        (t for t in capa.body["ready_tasks"] if t["bpmn_id"] == "implement_action"), key=lambda t: t["assignee"] or ""
    )
    assert [(t["assignee"], t["due_at"][:10]) for t in tasks] == [("production", "2026-12-20"), ("qa2", "2026-12-31")]
    assert capa.attempt("qa", "implement_action", IMPLEMENTED, task=tasks[0]).status_code == 403
    assert capa.attempt("qa2", "implement_action", IMPLEMENTED, task=tasks[0]).status_code == 403
    capa.complete("production", "implement_action", IMPLEMENTED, task=tasks[0])
    capa.complete("qa2", "implement_action", IMPLEMENTED, task=tasks[1])
    assert capa.open == ["verification"]


def test_an_overdue_action_is_escalated_to_the_qa_manager_as_well_as_its_owner(world):
    from datetime import datetime

    from webapp.services import notifications

    capa = Capa(world).to_investigation()
    capa.complete("qa", "investigation", INVESTIGATION)
    capa.complete(
        "qa",
        "action_plan",
        {"actions": [{"action": "Retrain the packing line", "owner": "production", "due_date": "2026-12-20"}]},
    )

    def told(kind):
        with world.app_context():
            rows = db.session.execute(
                select(User.username, Notification.subject).join(User).where(Notification.kind == kind)
            ).all()
        return sorted((name, subject.split(":")[0]) for name, subject in rows)

    with world.app_context():
        notifications.remind_due(datetime(2026, 12, 20, 6, tzinfo=UTC))  # due soon: the owner only
    assert told("due_soon") == [("production", "Due soon")] and told("escalated") == []
    with world.app_context():
        notifications.remind_due(datetime(2026, 12, 21, tzinfo=UTC))  # overdue: owner and manager
        notifications.remind_due(datetime(2026, 12, 22, tzinfo=UTC))  # once
    assert told("overdue") == [("production", "Overdue")]
    assert told("escalated") == [("qamanager", "Escalated, overdue")]


def test_the_capa_and_change_control_files_validate_cleanly():
    from engine.deployment import validate_bundle

    registry = OperationRegistry()
    register_operations(registry)
    report = validate_bundle(
        ProcessBundle.from_paths(*shipped_paths()),
        operations=registry.definitions(),
        known_roles={"qa", "qa_manager", "requester", "change_board", "regulatory"},
    )
    mine = ("capa.bpmn", "capa_risk.dmn", "change_control.bpmn")
    assert [e for e in report.errors if e.get("file") in mine or str(e.get("file", "")).startswith("capa_")] == []
    assert [w for w in report.warnings if w.get("file") in mine] == []


def test_escalate_to_a_role_that_does_not_exist_is_a_warning():
    from engine.deployment import validate_bundle

    registry = OperationRegistry()
    register_operations(registry)
    bundle = ProcessBundle.from_paths(*shipped_paths())
    roles = {"qa", "requester", "change_board", "regulatory"}  # no qa_manager
    report = validate_bundle(bundle, operations=registry.definitions(), known_roles=roles)
    warned = [w for w in report.warnings if w.get("file") == "capa.bpmn" and "escalateTo" in w["message"]]
    assert len(warned) == 6 and all("'qa_manager'" in w["message"] for w in warned)
