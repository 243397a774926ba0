"""Supplier qualification (供应商资质评审, ISO 13485 7.4.1, GSP 首营) through the REST API along every
branch, with the ERP changes of its service tasks asserted in the database, timers fired at a
controlled `now`, the DMN tables row by row, and the re-qualification the certificate check starts."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import Engine, ProcessBundle, SourceFile, compile_bundle
from tests.conftest import ROOT
from tests.erp_world import build_world, days
from tests.helpers import PASSWORD, Api, shipped_paths, signature_for
from webapp.extensions import db
from webapp.models import AuditEvent, ProcessInstance, Supplier, SupplierCertificate
from webapp.models._types import utcnow
from webapp.services.timers import run_due

KEY = "supplier_qualification"


@pytest.fixture
def api(app):
    with app.app_context():
        build_world()
    clients = {}

    def get(username):
        if username not in clients:
            clients[username] = Api(app, username)
        return clients[username]

    get.app = app
    return get


def request(supplier="SUP-NEW", category="secondary_packaging", materials=("TUBE",), services=()):
    return {
        "supplier": supplier,
        "supply_category": category,
        "materials": [{"material": m} for m in materials],
        "services": [{"service": s} for s in services],
        "request_reason": "First-time supplier (首营)",
    }


def certificates(suffix="1", until=700):
    return {
        "certificates": [
            {
                "type": "iso13485",
                "number": f"ISO-{suffix}",
                "valid_from": str(days(-10)),
                "valid_until": str(days(until)),
            },
            {
                "type": "business_licence",
                "number": f"BL-{suffix}",
                "valid_from": str(days(-10)),
                "valid_until": str(days(until + 100)),
            },
        ]
    }


QUESTIONNAIRE = {
    "qms_established": True,
    "qms_certified": True,
    "change_notification": True,
    "traceability": True,
    "nonconformance_control": True,
    "quality_agreement": True,
    "questionnaire_notes": "All yes.",
}


def audit(score):
    return {
        "audit_date": str(days(0)),
        "auditor": "Li Wei",
        "audit_score": score,
        "audit_findings": "Minor gaps in training records.",
    }


def approval(decision, materials=("TUBE", "BPM"), services=()):
    return {
        "approval_decision": decision,
        "approved_materials": [{"material": m} for m in materials],
        "approved_services": [{"service": s} for s in services],
        "approval_comments": f"QA {decision}",
    }


def start(api, username="purchasing", data=None):
    response = api(username).post("/api/v1/process-instances", {"process_key": KEY, "data": data or {}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ready(instance):
    return [t["bpmn_id"] for t in instance["ready_tasks"]]


def complete(api, username, instance, bpmn_id, data, status=200, password=PASSWORD):
    [task] = [t for t in instance["ready_tasks"] if t["bpmn_id"] == bpmn_id]
    body = {"data": data}
    if task["signature"]:
        body["signature"] = {**signature_for(task["signature"]["meaning"]), "password": password}
    response = api(username).post(f"/api/v1/tasks/{task['id']}/complete", body)
    assert response.status_code == status, response.get_json()
    return response.get_json()["process_instance"] if status == 200 else response.get_json()


def fetch(api, instance):
    return api("qa").get(f"/api/v1/process-instances/{instance['id']}").get_json()


def to_approval(api, instance, req, audit_score=None):
    """Request → documents → questionnaire (→ on-site audit); returns the instance after the last step."""
    instance = complete(api, "purchasing", instance, "sq_request", req)
    instance = complete(api, "purchasing", instance, "sq_documents", certificates())
    instance = complete(api, "purchasing", instance, "sq_questionnaire", QUESTIONNAIRE)
    if audit_score is not None:
        assert ready(instance) == ["sq_onsite_audit"]
        instance = complete(api, "qa", instance, "sq_onsite_audit", audit(audit_score))
    return instance


def supplier_state(api, code):
    """(status, sorted material codes, sorted services, certificate numbers) of a supplier, from the database."""
    with api.app.app_context():
        supplier = db.session.scalar(select(Supplier).where(Supplier.code == code))
        return (
            supplier.status,
            sorted(s.material.code for s in supplier.scope if s.material),
            sorted(s.service for s in supplier.scope if s.service),
            sorted(c.number for c in supplier.certificates if not c.voided),
        )


def last_event(api, action):
    with api.app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
        ).first()


def next_timer(api, instance):
    with api.app.app_context():
        return db.session.get(ProcessInstance, instance["id"]).next_timer_at


def wake(api, instance, after_days):
    """Fire the re-evaluation timer `after_days` from now; the instance afterwards."""
    with api.app.app_context():
        assert run_due(utcnow() + timedelta(days=after_days - 1)) == []
        assert run_due(utcnow() + timedelta(days=after_days + 1)) == [instance["id"]]
    return fetch(api, instance)


# --- the branches -------------------------------------------------------------------------------


def test_minor_supplier_is_approved_without_audit_then_continued_and_discontinued_at_re_evaluation(api):
    instance = start(api)
    assert instance["business_key"].startswith("SQ-") and ready(instance) == ["sq_request"]
    with api.app.app_context():  # started by hand: the message start event does not wait for messages
        from webapp.models import MessageSubscription

        assert db.session.scalars(select(MessageSubscription)).all() == []
    instance = to_approval(api, instance, request())
    assert ready(instance) == ["sq_qa_approval"]  # minor: no on-site audit
    assert instance["data"]["risk_tier"] == "minor" and instance["data"]["reevaluation_days"] == 1095
    assert supplier_state(api, "SUP-NEW")[3] == ["BL-1", "BL-1", "ISO-1", "ISO-1"]  # the world's and ours
    with api.app.app_context():
        stored = db.session.scalars(
            select(SupplierCertificate)
            .where(SupplierCertificate.number == "ISO-1")
            .order_by(SupplierCertificate.id.desc())
        ).first()
        assert stored.valid_until == days(700) and stored.type == "iso13485"
    assert last_event(api, "supplier_certificate.create").actor_name == "purchasing"

    instance = complete(api, "qa", instance, "sq_qa_approval", approval("approve"))
    assert supplier_state(api, "SUP-NEW")[:3] == ("approved", ["BPM", "TUBE"], [])
    assert instance["status"] == "running" and ready(instance) == []
    assert last_event(api, "supplier.scope").actor_name == "qa"
    assert timedelta(days=1094) < next_timer(api, instance) - utcnow() < timedelta(days=1096)

    instance = wake(api, instance, 1095)
    assert ready(instance) == ["sq_reevaluation"]
    instance = complete(
        api,
        "qa",
        instance,
        "sq_reevaluation",
        {"performance_summary": "No complaints; 100% accepted.", "reevaluation_outcome": "continue"},
    )
    assert ready(instance) == [] and instance["status"] == "running"  # back to the timer
    assert supplier_state(api, "SUP-NEW")[0] == "approved"
    instance = wake(api, instance, 1095)
    instance = complete(
        api,
        "qa",
        instance,
        "sq_reevaluation",
        {
            "performance_summary": "Two rejected lots.",
            "reevaluation_outcome": "discontinue",
            "reevaluation_comments": "Repeated nonconformances.",
        },
    )
    assert instance["status"] == "completed"
    assert supplier_state(api, "SUP-NEW")[0] == "blocked"
    assert "discontinued: Repeated nonconformances." in last_event(api, "supplier.update").reason


def _deliveries(supplier="SUP-NEW"):
    """Five lots received from `supplier` now: one stays in quarantine, one released, one rejected, one on
    hold, and one whose receipt was reversed (a booking error, not a delivery)."""
    from tests.erp_world import receive
    from tests.helpers import user
    from webapp.services.erp import ledger, lots

    qa = user("qa")
    for number in ("N1", "N2", "N3", "N4", "N5"):
        receipt = receive(qa, "TUBE", number, 100, supplier)
        if number == "N2":
            lots.release_lot(qa, receipt.lot, "incoming inspection passed")
        elif number in ("N3", "N4"):
            lots.set_status(qa, receipt.lot, "rejected" if number == "N3" else "hold", "incoming inspection")
        elif number == "N5":
            ledger.reverse_movement(qa, receipt.movements[0].id, "booked against the wrong supplier")


def test_re_evaluation_shows_the_suppliers_scorecard_from_the_ledger(api):
    instance = to_approval(api, start(api), request())
    instance = complete(api, "qa", instance, "sq_qa_approval", approval("approve"))
    with api.app.app_context():
        _deliveries()
    instance = wake(api, instance, 1095)
    card = instance["data"]["scorecard"]
    assert {
        k: card[k]
        for k in (
            "supplier",
            "days",
            "deliveries",
            "lots",
            "quantity",
            "quarantine",
            "released",
            "rejected",
            "hold",
            "recalled",
            "acceptance_rate_pct",
        )
    } == {
        "supplier": "SUP-NEW",
        "days": 1095,
        "deliveries": 4,
        "lots": 4,
        "quantity": 400,
        "quarantine": 1,
        "released": 1,
        "rejected": 1,
        "hold": 1,
        "recalled": 0,
        "acceptance_rate_pct": 50.0,
    }
    [task] = instance["ready_tasks"]
    assert task["bpmn_id"] == "sq_reevaluation"
    assert "拒收 1" in task["instructions"] and "合格率 50.0%" in task["instructions"]


def test_the_scorecard_counts_only_the_period_and_says_when_nothing_was_decided(api):
    from webapp.services.erp.scorecard import supplier_scorecard

    with api.app.app_context():
        _deliveries("SUP-TUBE")
        supplier = db.session.scalar(select(Supplier).where(Supplier.code == "SUP-TUBE"))
        assert supplier_scorecard(supplier, 30)["lots"] == 4
        later = supplier_scorecard(supplier, 1, until=utcnow() + timedelta(days=2))  # the receipts are older
        assert (later["lots"], later["deliveries"], later["acceptance_rate_pct"]) == (0, 0, None)
        other = db.session.scalar(select(Supplier).where(Supplier.code == "SUP-REAG"))
        assert supplier_scorecard(other, 30)["lots"] == 0


def test_critical_supplier_passes_the_audit_and_is_re_qualified_at_re_evaluation(api):
    instance = start(api, "qa")
    req = request("STERI", "sterilization_service", materials=(), services=("EO sterilization", "BI testing"))
    instance = to_approval(api, instance, req, audit_score=85)
    assert instance["data"]["risk_tier"] == "critical" and instance["data"]["audit_outcome"] == "approve"
    assert ready(instance) == ["sq_qa_approval"]
    instance = complete(
        api,
        "qa2",
        instance,
        "sq_qa_approval",
        approval("approve", materials=(), services=("EO sterilization", "BI testing")),
    )
    assert supplier_state(api, "STERI")[:3] == ("approved", [], ["BI testing", "EO sterilization"])
    assert timedelta(days=364) < next_timer(api, instance) - utcnow() < timedelta(days=366)

    instance = wake(api, instance, 365)
    instance = complete(
        api,
        "qa",
        instance,
        "sq_reevaluation",
        {
            "performance_summary": "Sterilizer replaced.",
            "reevaluation_outcome": "requalify",
            "reevaluation_comments": "New sterilizer: documents and audit again.",
        },
    )
    assert ready(instance) == ["sq_documents"]
    instance = complete(api, "purchasing", instance, "sq_documents", certificates("2"))
    assert "ISO-2" in supplier_state(api, "STERI")[3]
    instance = complete(api, "purchasing", instance, "sq_questionnaire", QUESTIONNAIRE)
    instance = complete(api, "qa", instance, "sq_onsite_audit", audit(92))
    instance = complete(
        api, "qa2", instance, "sq_qa_approval", approval("approve", materials=(), services=("EO sterilization",))
    )
    assert supplier_state(api, "STERI")[:3] == ("approved", [], ["EO sterilization"])
    assert instance["status"] == "running" and next_timer(api, instance) is not None


def test_audit_score_60_to_79_limits_the_approval_to_conditional(api):
    instance = to_approval(api, start(api), request("SUP-NEW", "implant_component"), audit_score=70)
    assert instance["data"]["audit_outcome"] == "conditional"
    instance = complete(api, "qa2", instance, "sq_qa_approval", approval("approve", materials=("TUBE",)))
    assert instance["data"]["supplier_status"] == "conditional"
    assert supplier_state(api, "SUP-NEW")[:3] == ("conditional", ["TUBE"], [])


def test_qa_may_also_approve_conditionally(api):
    instance = to_approval(api, start(api), request("SUP-NEW", "patient_contact_material"))
    assert instance["data"]["risk_tier"] == "major" and ready(instance) == ["sq_qa_approval"]
    complete(api, "qa", instance, "sq_qa_approval", approval("conditional", materials=("TUBE",)))
    assert supplier_state(api, "SUP-NEW")[:3] == ("conditional", ["TUBE"], [])


def test_a_failed_audit_blocks_the_supplier_without_an_approval_step(api):
    instance = to_approval(api, start(api), request("SUP-NEW", "sterile_barrier_packaging"), audit_score=55)
    assert instance["status"] == "completed" and instance["data"]["audit_outcome"] == "reject"
    assert supplier_state(api, "SUP-NEW")[:3] == ("blocked", ["TUBE"], [])  # scope untouched
    event = last_event(api, "supplier.update")
    assert event.actor_name == "qa" and "On-site audit failed with score 55" in event.reason


def test_qa_rejection_blocks_the_supplier_with_the_reason(api):
    instance = to_approval(api, start(api), request())
    instance = complete(api, "qa", instance, "sq_qa_approval", approval("reject", materials=()))
    assert instance["status"] == "completed" and instance["data"]["supplier_status"] == "blocked"
    assert supplier_state(api, "SUP-NEW")[:3] == ("blocked", ["TUBE"], [])
    assert last_event(api, "supplier.update").reason == "QA rejected the qualification: QA reject"


# --- refusals ------------------------------------------------------------------------------------


def test_an_expired_certificate_is_refused_as_an_incident_and_nothing_is_stored(api):
    instance = complete(api, "purchasing", start(api), "sq_request", request())
    expired = {
        "certificates": [
            {"type": "iso13485", "number": "ISO-OLD", "valid_from": str(days(-800)), "valid_until": str(days(-1))}
        ]
    }
    refused = complete(api, "purchasing", instance, "sq_documents", expired, status=422)
    assert "erp.add_certificates" in refused["message"] and "expired" in refused["message"]
    shown = fetch(api, instance)
    assert ready(shown) == ["sq_documents"] and shown["incidents"][0]["operation"] == "erp.add_certificates"
    assert "ISO-OLD" not in supplier_state(api, "SUP-NEW")[3]
    instance = complete(api, "purchasing", shown, "sq_documents", certificates("9"))
    assert ready(instance) == ["sq_questionnaire"] and "ISO-9" in supplier_state(api, "SUP-NEW")[3]


def test_a_request_names_an_existing_supplier_and_what_it_supplies(api):
    instance = start(api)
    bad = complete(api, "purchasing", instance, "sq_request", request("NO-SUCH"), status=400)
    assert "supplier" in str(bad["errors"])
    nothing = complete(api, "purchasing", instance, "sq_request", request(materials=()), status=400)
    assert nothing["code"] == 400
    # a blocked supplier may be chosen (re-qualification), unlike in forms that pick a supplier to buy from
    with api.app.app_context():
        from tests.helpers import user
        from webapp.services.erp import parties

        parties.set_supplier_status(
            user("qa"), db.session.scalar(select(Supplier).where(Supplier.code == "STERI")), "blocked", "test"
        )
        db.session.commit()
    assert ready(complete(api, "purchasing", instance, "sq_request", request("STERI"))) == ["sq_documents"]


def test_only_start_roles_start_it_and_approval_is_signed_by_someone_other_than_the_initiator(api):
    assert api("warehouse").post("/api/v1/process-instances", {"process_key": KEY}).status_code == 403
    instance = to_approval(api, start(api, "qa"), request())
    assert complete(api, "purchasing", instance, "sq_qa_approval", approval("approve"), status=403)
    assert complete(api, "qa", instance, "sq_qa_approval", approval("approve"), status=403)  # the initiator
    assert complete(api, "qa2", instance, "sq_qa_approval", approval("approve"), status=401, password="wrong-one")
    assert supplier_state(api, "SUP-NEW")[0] == "pending"
    done = complete(api, "qa2", instance, "sq_qa_approval", approval("approve"))
    assert supplier_state(api, "SUP-NEW")[0] == "approved" and ready(done) == []
    with api.app.app_context():
        from webapp.models import Signature

        signed = db.session.scalars(select(Signature).where(Signature.instance_id == instance["id"])).all()
        assert [(s.bpmn_id, s.signer.username, s.meaning) for s in signed] == [("sq_qa_approval", "qa2", "approved")]


# --- re-qualification when a certificate expires --------------------------------------------------


def test_an_expired_certificate_blocks_the_supplier_and_starts_one_re_qualification(api):
    from webapp.services.certificates import check_certificates

    with api.app.app_context():
        first = check_certificates(days(301))  # the world's certificates expire at day 300
        assert sorted(first["blocked"]) == ["STERI", "SUP-REAG", "SUP-TUBE"]
        assert first["requalification"]["SUP-TUBE"][0] == "started"
        running = db.session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)).all()
        assert len(running) == 3 and {i.data["supplier"] for i in running} == {"STERI", "SUP-REAG", "SUP-TUBE"}
        sq = next(i for i in running if i.data["supplier"] == "SUP-TUBE")
        sq_id = sq.id
        assert sq.version.key == KEY and sq.status == "running" and sq.initiator.username == "system:scheduler"
        assert sq.data["request_reason"] == f"Re-qualification: certificate iso13485 ISO-1 expired on {days(300)}"
        assert not sq.initiator.active and sq.initiator.role_names == {"system"}
        start_event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "instance.start", AuditEvent.entity_id == str(sq.id))
        ).one()
        assert start_event.after["message"] == "requalify_supplier" and start_event.actor_name == "system:scheduler"
        again = check_certificates(days(302))
        assert again["blocked"] == [] and again["requalification"] == {}
        assert db.session.scalar(select(db.func.count(ProcessInstance.id))) == 3
    instance = fetch(api, {"id": sq_id})
    assert ready(instance) == ["sq_request"] and instance["data"]["supplier"] == "SUP-TUBE"
    assert instance["data"]["requalification_requested"] is True
    [task] = api("purchasing").get(f"/api/v1/tasks?process_instance_id={sq_id}").get_json()
    assert "Re-qualification" in task["instructions"] and "expired on" in task["instructions"]
    # the re-qualification runs like any other: QA approval lifts the block (signed: the initiator is the scheduler)
    instance = complete(api, "purchasing", instance, "sq_request", request("SUP-TUBE", materials=("TUBE", "BPM")))
    instance = complete(api, "purchasing", instance, "sq_documents", certificates("R"))
    instance = complete(api, "purchasing", instance, "sq_questionnaire", QUESTIONNAIRE)
    complete(api, "qa", instance, "sq_qa_approval", approval("approve"))
    assert supplier_state(api, "SUP-TUBE")[:3] == ("approved", ["BPM", "TUBE"], [])
    with api.app.app_context():  # the renewed certificates replace the expired ones: no new block, no warning
        later = check_certificates(days(303))
        assert "SUP-TUBE" not in later["blocked"] and not [w for w in later["warned"] if w.startswith("SUP-TUBE")]
        assert db.session.scalar(select(Supplier.status).where(Supplier.code == "SUP-TUBE")) == "approved"
        assert db.session.scalar(select(db.func.count(ProcessInstance.id))) == 3


def test_the_scheduler_account_cannot_log_in_and_blocking_does_not_wait_for_the_process(api):
    from webapp.models import ProcessVersion
    from webapp.services.certificates import check_certificates

    with api.app.app_context():
        for version in db.session.scalars(select(ProcessVersion).where(ProcessVersion.key == KEY)):
            version.status = "retired"
        db.session.commit()
        result = check_certificates(days(301))
        assert result["requalification"]["SUP-TUBE"][0] == "not_started"
        assert db.session.scalar(select(Supplier.status).where(Supplier.code == "SUP-TUBE")) == "blocked"
        assert db.session.scalars(select(ProcessInstance)).all() == []
    for password in ("!", "", PASSWORD):
        response = api.app.test_client().post(
            "/api/v1/auth/token", json={"username": "system:scheduler", "password": password}
        )
        assert response.status_code == 401


def test_started_by_hand_with_values_they_are_prefilled(api):
    instance = start(api, data={"supplier": "SUP-NEW", "request_reason": "New tubing source"})
    assert ready(instance) == ["sq_request"] and instance["data"]["supplier"] == "SUP-NEW"
    assert "requalification_requested" not in instance["data"]


def test_no_second_re_qualification_while_one_is_under_way(api):
    from webapp.services.certificates import check_certificates

    instance = complete(api, "purchasing", start(api), "sq_request", request("SUP-TUBE"))
    assert ready(instance) == ["sq_documents"]
    with api.app.app_context():
        result = check_certificates(days(301))
        assert result["requalification"]["SUP-TUBE"] == ["running", instance["business_key"]]
        rows = db.session.scalars(select(ProcessInstance)).all()
        assert [i.data.get("supplier") for i in rows].count("SUP-TUBE") == 1
        assert db.session.scalar(select(Supplier.status).where(Supplier.code == "SUP-TUBE")) == "blocked"


def test_a_qualification_waiting_for_re_evaluation_is_superseded_by_the_re_qualification(api):
    from webapp.services.certificates import check_certificates

    instance = complete(api, "purchasing", start(api), "sq_request", request("SUP-TUBE"))
    instance = complete(api, "purchasing", instance, "sq_documents", certificates("S", until=200))
    instance = complete(api, "purchasing", instance, "sq_questionnaire", QUESTIONNAIRE)
    instance = complete(api, "qa", instance, "sq_qa_approval", approval("approve"))
    assert ready(instance) == [] and instance["status"] == "running"
    with api.app.app_context():
        result = check_certificates(days(301))
        outcome, business_key = result["requalification"]["SUP-TUBE"]
        assert outcome == "started" and business_key != instance["business_key"]
        old = db.session.get(ProcessInstance, instance["id"])
        assert old.status == "cancelled"
        cancel = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "instance.cancel")).one()
        assert business_key in cancel.reason and cancel.actor_name == "system:scheduler"


def test_the_cli_reports_the_re_qualification(api):
    result = api.app.test_cli_runner().invoke(args=["timers", "certificates", "--today", str(days(301))])
    assert result.exit_code == 0 and "re-qualification: " in result.output and "SUP-TUBE started SQ-" in result.output


# --- the decision tables, row by row (engine level) ------------------------------------------------

PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="probe" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="decide"><bpmn:extensionElements><spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId></bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="decide" /><bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


def decide(decision, **inputs):
    from engine.runtime import VersionRef

    dmn = (ROOT / "processes" / "supplier_qualification" / f"{decision}.dmn").read_text()
    [compiled] = compile_bundle(
        ProcessBundle([SourceFile("probe.bpmn", PROBE.format(decision=decision)), SourceFile(f"{decision}.dmn", dmn)])
    )
    ref = VersionRef(compiled.content_hash, compiled.spec_json, {f.name: f.text for f in compiled.files})
    engine = Engine()
    return engine.data(engine.start(ref, inputs))


@pytest.mark.parametrize(
    "category, tier, audit_needed, period",
    [
        ("sterilization_service", "critical", True, 365),
        ("implant_component", "critical", True, 365),
        ("sterile_barrier_packaging", "critical", True, 365),
        ("patient_contact_material", "major", False, 730),
        ("electronic_component", "major", False, 730),
        ("secondary_packaging", "minor", False, 1095),
        ("other", "minor", False, 1095),
    ],
)
def test_risk_tier_rows(category, tier, audit_needed, period):
    data = decide("supplier_risk_tier", supply_category=category)
    assert (data["risk_tier"], data["on_site_audit"], data["reevaluation_days"]) == (tier, audit_needed, period)


@pytest.mark.parametrize(
    "score, outcome",
    [(100, "approve"), (80, "approve"), (79, "conditional"), (60, "conditional"), (59, "reject"), (0, "reject")],
)
def test_audit_outcome_rows(score, outcome):
    assert decide("supplier_audit_outcome", audit_score=score)["audit_outcome"] == outcome


@pytest.mark.parametrize(
    "decision, audited, audit_outcome, status",
    [
        ("reject", True, "approve", "blocked"),
        ("reject", False, None, "blocked"),
        ("conditional", True, "approve", "conditional"),
        ("conditional", False, None, "conditional"),
        ("approve", True, "approve", "approved"),
        ("approve", False, None, "approved"),
        ("approve", True, "conditional", "conditional"),
    ],
)
def test_approval_status_rows(decision, audited, audit_outcome, status):
    inputs = {"approval_decision": decision, "on_site_audit": audited}
    if audit_outcome:
        inputs["audit_outcome"] = audit_outcome
    assert decide("supplier_approval_status", **inputs)["supplier_status"] == status


def test_the_bundle_validates_without_errors():
    from engine import OperationRegistry, validate_bundle
    from webapp.operations import register

    registry = OperationRegistry()
    register(registry)
    report = validate_bundle(ProcessBundle.from_paths(*shipped_paths()), operations=registry.definitions())
    assert list(report.errors) == []
    assert KEY in [c.key for c in report.processes]


def test_the_task_pages_render_and_take_the_forms(api):
    from tests.helpers import Browser

    instance = start(api)
    browser = Browser(api.app, "purchasing")
    url = f"/tasks/{instance['ready_tasks'][0]['id']}"
    html = browser.get(url).get_data(as_text=True)
    assert "supply_category" in html and "SUP-NEW" in html and 'data-table="materials"' in html
    posted = browser.post(
        url,
        {
            "supplier": "SUP-NEW",
            "supply_category": "other",
            "materials-0-material": "TUBE",
            "services-0-service": "Cleanroom packing",
            "request_reason": "New",
        },
    )
    assert posted.status_code == 302, posted.get_data(as_text=True)
    instance = fetch(api, instance)
    assert instance["data"]["materials"] == [{"material": "TUBE"}]
    assert instance["data"]["services"] == [{"service": "Cleanroom packing"}]
    instance = complete(api, "purchasing", instance, "sq_documents", certificates())
    instance = complete(api, "purchasing", instance, "sq_questionnaire", QUESTIONNAIRE)
    page = Browser(api.app, "qa").get(f"/tasks/{instance['ready_tasks'][0]['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-table="approved_materials"' in html and "approval_decision" in html
    assert "TUBE" in html and "Cleanroom packing" in html  # the instructions list what was requested


def test_the_operations_are_guarded_by_the_erp_permissions(api):
    from tests.helpers import user
    from webapp.errors import PermissionDenied
    from webapp.processes.supplier_qualification.operations import add_certificates, set_supplier_scope
    from webapp.services.acting import acting_as

    cert = certificates("G")["certificates"][:1]
    with api.app.app_context():
        with acting_as(user("warehouse")), pytest.raises(PermissionDenied):
            add_certificates({"supplier": "SUP-NEW", "certificates": cert})
        with acting_as(user("purchasing")), pytest.raises(PermissionDenied):  # may edit, not approve
            set_supplier_scope({"supplier": "SUP-NEW", "materials": ["BPM"], "services": [], "reason": "x"})
        with acting_as(user("purchasing")):
            assert (
                add_certificates({"supplier": "SUP-NEW", "certificates": cert})["certificates"][0]["number"] == "ISO-G"
            )
        with acting_as(user("qa")):
            assert set_supplier_scope(
                {"supplier": "SUP-NEW", "materials": ["BPM"], "services": ["Assembly"], "reason": "x"}
            ) == {"supplier": "SUP-NEW", "materials": ["BPM"], "services": ["Assembly"]}
