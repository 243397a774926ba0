"""The demo scenario of DOMAIN.md, loaded by `traceflow demo`: a meaningful trace and held records."""

import pytest
from sqlalchemy import select

from tests.helpers import Api, Browser, user
from webapp.errors import GuardRefused
from webapp.extensions import db
from webapp.models import HumanTaskRow, ProcessInstance, ProcessVersion, Shipment
from webapp.processes.recall.models import Recall
from webapp.services import queries
from webapp.services.erp import parties, shipments, trace
from webapp.services.erp import queries as erp_queries
from webapp.services.erp.common import by_code, find_lot


def test_demo_scenario(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0  # idempotent
    with app.app_context():
        forward = trace.trace("TUBE-PVC", "T-2610", "forward").as_dict()
        assert [r["lot"] for r in forward["lots"]] == ["K-26110", "K-26111"]
        # US-DIST: five kits of K-26111 shipped by the complaint demo (webapp/processes/complaint/demo.py)
        assert {c["code"] for c in forward["customers"]} == {"HOSP-A", "HOSP-B", "US-DIST"}
        assert find_lot(by_code("material", "RGT-50"), "R-2611").status == "hold"
        assert "STERI-EO" in {c.supplier.code for c in parties.expiring_certificates()}
        held = db.session.scalar(select(Shipment).where(Shipment.status == "draft"))
        assert held.customer.code == "DIST-C"
        with pytest.raises(GuardRefused) as info:
            shipments.ship(None, held)
        assert info.value.rule == "SHP-CUSTOMER-LICENCE"


def _open(app):
    """{process key: sorted open task ids} per instance, in start order, from the database."""
    with app.app_context():
        rows = db.session.execute(
            select(ProcessVersion.key, ProcessInstance.business_key, HumanTaskRow.bpmn_id)
            .join(ProcessInstance, ProcessInstance.version_id == ProcessVersion.id)
            .outerjoin(
                HumanTaskRow, (HumanTaskRow.instance_id == ProcessInstance.id) & HumanTaskRow.completed_at.is_(None)
            )
            .order_by(ProcessInstance.id, HumanTaskRow.bpmn_id)
        ).all()
    found = {}
    for key, business_key, bpmn_id in rows:
        found.setdefault(business_key, (key, []))[1].append(bpmn_id)
    return [(key, tasks) for key, tasks in found.values()]


def test_demo_processes_leave_work_in_every_inbox(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    first = _open(app)
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert _open(app) == first  # a second run starts nothing
    assert first == [
        ("change_control", ["submit_request"]),
        ("change_control", ["impact_assessment"]),
        ("capa", ["investigation"]),  # a CAPA in investigation
        ("recall", ["rc_health_hazard"]),  # the kit recall, ready to be scoped
        ("recall", ["rc_acknowledgement"]),  # the drill: scoped, notice out
        ("supplier_qualification", ["sq_documents"]),  # the sterilizer's re-qualification
        ("subcontract_release", ["sr_processing_record"]),
        ("subcontract_release", ["sr_mrb_disposition"]),  # EO residual over the limit
        ("subcontract_release", ["sr_order"]),
        ("change_control", ["board_review", "regulatory_review"]),
        # the serious injury: China and US reports running beside the investigation
        ("complaint", ["cp_investigation", "regulator_reports_task", "regulator_reports_task"]),
        ("complaint", ["cp_investigation"]),  # the monitor malfunction, no harm: nothing to report
        ("complaint", ["cp_investigation"]),  # the first open seal on K-26110
        ("complaint", ["cp_trend_assessment"]),  # the third open seal in 30 days: the trend task
        ("document_control", ["dc_review", "dc_review"]),  # SOP-QA-010 under review by two reviewers
    ]
    with app.app_context():
        from webapp.processes.complaint.models import Complaint

        complaints = db.session.scalars(select(Complaint).order_by(Complaint.id)).all()
        assert [(c.markets, sorted(r.rule for r in c.reports)) for c in complaints] == [
            (["CN", "US"], ["CN-SERIOUS-20D", "US-MDR-30D"]),
            (["CN"], []),
            (["CN"], []),
            (["CN"], []),
        ]
        assert (complaints[3].trend["count_30"], complaints[3].trend["crossed"]) == (3, True)
        serious = complaints[0].business_key
    page = Browser(app, "qa").get(f"/erp/complaints/{serious}").get_data(as_text=True)
    assert "SC-K-26111" in page and "STERI-EO" in page  # the lot's sterilization, for the device-history review
    with app.app_context():
        for username in ("requester", "qa", "board", "regulatory", "sales", "purchasing", "production", "mrb"):
            assert queries.open_tasks(user(username)), username
        # K-26113 went out to the sterilizer and came back into quarantine, where the MRB decides on it
        assert [(r["location"], r["status"]) for r in erp_queries.stock("CK-100", "K-26113")] == [
            ("WH-QUA", "quarantine")
        ]
        assert [r["location"] for r in erp_queries.stock("CK-100", "K-26112")] == ["EO-STERI"]


def test_the_demo_recall_is_scoped_by_the_forward_trace_once_its_hazard_is_evaluated(app):
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        [drill] = db.session.scalars(select(Recall)).all()  # the kit recall is not scoped yet
        assert drill.drill and drill.scoped_at is not None and drill.held == []
        recall = db.session.scalar(
            select(ProcessInstance).where(
                ProcessInstance.business_key != drill.business_key, ProcessInstance.business_key.like("RC-%")
            )
        )
        traced = [trace.trace("CK-100", lot, "forward").as_dict() for lot in ("K-26110", "K-26111")]
        expected_customers = {c["code"] for t in traced for c in t["customers"]}
        in_stock = {r["lot"] for t in traced for r in t["stock"] if r["material"] == "CK-100"}
    qa = Api(app, "qa")
    [task] = qa.get(f"/api/v1/process-instances/{recall.id}").get_json()["ready_tasks"]
    response = qa.post(
        f"/api/v1/tasks/{task['id']}/complete",
        {
            "data": {
                "hazard_description": "Open seals: sterility not assured.",
                "worst_outcome": "temporary_or_reversible",
                "probability": "reasonable",
                "affected_population": "Hospital patients",
                "hhe_summary": "Class II.",
            }
        },
    )
    assert response.status_code == 200, response.get_json()
    scoped = qa.get(f"/api/v1/recalls/{recall.business_key}").get_json()
    assert {c["code"] for c in scoped["scope"]["customers"]} == expected_customers == {"HOSP-A", "HOSP-B", "US-DIST"}
    assert in_stock == {"K-26111"}
    with app.app_context():
        assert find_lot(by_code("material", "CK-100"), "K-26111").status == "hold"
