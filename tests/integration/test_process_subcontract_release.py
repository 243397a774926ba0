"""Subcontract release (委外加工放行): the process through the REST API along every branch, its ERP
effects asserted in the database, the sampling-plan and sterilization decision tables against the
standards' values, and the rule that a lot back from a subcontractor leaves quarantine only this way."""

import pytest
from sqlalchemy import select

from engine import Engine, ProcessBundle, SourceFile, VersionRef, compile_bundle
from tests.conftest import ROOT
from tests.erp_world import build_world
from tests.helpers import Api, Browser, signature_for, table_snapshot
from webapp.extensions import db
from webapp.models import AuditEvent, Incident, Location, Lot, Movement
from webapp.services.erp import ledger, lots, materials

ORDER = {
    "lot": "KIT/K1",
    "quantity": 500,
    "subcontractor": "STERI",
    "service": "EO sterilization",
    "from_location": "PROD",
    "subcontractor_location": "STER",
    "return_location": "QUA",
    "subcontract_order_no": "SO-2026-118",
    "order_notes": "EO cycle per SOP-STE-004",
}
RECORD = {
    "certificate_number": "STC-4711",
    "cycle_number": "C-17",
    "processed_on": "2026-11-20",
    "preconditioning_time_min": 75,
    "preconditioning_temperature_c": 50,
    "preconditioning_humidity_pct": 60,
    "eo_concentration_mg_l": 600,
    "exposure_time_min": 240,
    "exposure_temperature_c": 50,
    "aeration_time_h": 48,
    "aeration_temperature_c": 45,
    "bi_result": "negative",
    "eo_residual_mg": 1.2,
    "ech_residual_mg": 2.0,
}
PLAN = {"inspection_level": "II", "aql": "1.0"}  # lot 500, level II: H; AQL 1.0: n=50, Ac=1, Re=2
ACCEPT = {"sample_inspected": 50, "defects_found": 1, "inspection_report_no": "IR-1"}
REJECT = {"sample_inspected": 50, "defects_found": 2, "inspection_report_no": "IR-2"}
RELEASE = {"records_reviewed": True, "release_comments": "Batch record complete."}
WORKER = {
    "sr_order": "production",
    "sr_processing_record": "qa",
    "sr_inspection_plan": "qa",
    "sr_inspection": "qa",
    "sr_qa_release": "qa2",
    "sr_mrb_disposition": "mrb",
}


@pytest.fixture
def world(app):
    """The ERP world plus a production lot KIT/K1 of 500 at PROD, not yet sterilized (quarantine)."""
    with app.app_context():
        qa = build_world()
        materials.create_location(qa, {"code": "QUA2", "name": "Quarantine 2", "kind": "quarantine"})
        lot = lots.create_lot(qa, materials_by_code("KIT"), "K1", origin="production")
        ledger.record_movement(
            qa,
            {
                "type": "output",
                "material": "KIT",
                "lot": "K1",
                "quantity": 500,
                "to_location": "PROD",
                "reference": "WO-1",
            },
        )
        assert lot.status == "quarantine"
    return app


def materials_by_code(code):
    from webapp.services.erp.common import by_code

    return by_code("material", code)


class Driver:
    """Completes the instance's ready task by the user of its step, through the API."""

    def __init__(self, app):
        self.app, self.clients = app, {}

    def api(self, username):
        if username not in self.clients:
            self.clients[username] = Api(self.app, username)
        return self.clients[username]

    def start(self, username="production"):
        response = self.api(username).post("/api/v1/process-instances", {"process_key": "subcontract_release"})
        assert response.status_code == 201, response.get_json()
        self.instance = response.get_json()
        return self.instance

    @property
    def ready(self):
        return [t["bpmn_id"] for t in self.instance["ready_tasks"]]

    def complete(self, bpmn_id, data, username=None, expect=200):
        [task] = [t for t in self.instance["ready_tasks"] if t["bpmn_id"] == bpmn_id]
        body = {"data": data}
        if task["signature"]:
            body["signature"] = signature_for(task["signature"]["meaning"])
        response = self.api(username or WORKER[bpmn_id]).post(f"/api/v1/tasks/{task['id']}/complete", body)
        assert response.status_code == expect, response.get_json()
        if expect == 200:
            self.instance = response.get_json()["process_instance"]
        return response.get_json()

    def run(self, *steps):
        for bpmn_id, data in steps:
            assert self.ready == [bpmn_id], (self.ready, bpmn_id)
            self.complete(bpmn_id, data)
        return self.instance


def movements(app, type_=None):
    with app.app_context():
        query = select(Movement).where(Movement.lot_id == _lot(app).id).order_by(Movement.id)
        rows = db.session.scalars(query).all()
        return [
            (
                m.type,
                m.from_location.code if m.from_location else None,
                m.to_location.code if m.to_location else None,
                m.quantity,
                m.reference,
                m.supplier.code if m.supplier else None,
            )
            for m in rows
            if type_ is None or m.type == type_
        ]


def _lot(app):
    return db.session.scalar(select(Lot).where(Lot.lot_number == "K1"))


def lot_status(app):
    with app.app_context():
        db.session.expire_all()
        return _lot(app).status


def stock(app, location):
    from webapp.services.erp.stock import quantity_at

    with app.app_context():
        lot = _lot(app)
        return quantity_at(db.session.scalar(select(Location).where(Location.code == location)), lot.material, lot)


def test_accepted_lot_goes_out_comes_back_into_quarantine_is_inspected_and_released(world):
    run = Driver(world)
    run.start()
    key = run.instance["business_key"]
    assert key.startswith("SR-")
    run.run(("sr_order", ORDER))
    assert movements(world, "to_subcontractor") == [("to_subcontractor", "PROD", "STER", 500, key, "STERI")]
    assert stock(world, "PROD") == 0 and stock(world, "STER") == 500
    run.run(("sr_processing_record", RECORD))
    assert movements(world, "from_subcontractor") == [("from_subcontractor", "STER", "QUA", 500, key, "STERI")]
    assert stock(world, "QUA") == 500 and lot_status(world) == "quarantine"
    data = run.instance["data"]
    assert (data["processing_conforming"], data["eo_limit_mg"], data["ech_limit_mg"]) == (True, 4, 9)
    run.run(("sr_inspection_plan", PLAN))
    data = run.instance["data"]
    assert (
        data["code_letter"],
        data["plan_code_letter"],
        data["sample_size"],
        data["accept_number"],
        data["reject_number"],
        data["hundred_percent"],
    ) == ("H", "H", 50, 1, 2, False)
    [task] = run.instance["ready_tasks"]
    assert "n = 50" in task["instructions"] and "Ac = 1" in task["instructions"]
    run.run(("sr_inspection", ACCEPT))  # 1 defect = Ac: accept
    assert run.ready == ["sr_qa_release"] and lot_status(world) == "quarantine"
    # Segregation: the inspector (and the initiator) may not sign the release.
    refused = run.complete("sr_qa_release", RELEASE, username="qa", expect=403)
    assert "segregation of duties" in refused["message"] and "抽样检验" in refused["message"]
    run.run(("sr_qa_release", RELEASE))
    assert run.instance["status"] == "completed"
    assert run.instance["data"]["release_result"]["status"] == "released"
    assert lot_status(world) == "released"
    with world.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lot.release")).one()
        assert event.actor_name == "qa2" and "STC-4711" in event.reason
    page = Browser(world, "qa").get(f"/instances/{run.instance['id']}")
    assert page.status_code == 200 and "委外加工放行" in page.get_data(as_text=True)


def test_a_manual_release_of_a_lot_back_from_the_subcontractor_is_refused_and_audited(world):
    run = Driver(world)
    run.start()
    run.run(("sr_order", ORDER), ("sr_processing_record", RECORD))
    assert lot_status(world) == "quarantine"
    with world.app_context():
        lot_id = _lot(world).id
        before = table_snapshot()
    response = run.api("qa").post(f"/api/v1/lots/{lot_id}/release", {"reason": "looks fine"})
    assert response.status_code == 422
    body = response.get_json()
    assert "LOT-SUBCONTRACT-RELEASE" in body["message"] and "subcontract_release" in body["message"]
    with world.app_context():
        after = table_snapshot()
        refusal = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lot.release.refused")).one()
        assert refusal.actor_name == "qa" and "LOT-SUBCONTRACT-RELEASE" in refusal.reason
    assert {t: rows for t, rows in after.items() if t != "audit_events"} == {
        t: rows for t, rows in before.items() if t != "audit_events"
    }
    assert len(after["audit_events"]) == len(before["audit_events"]) + 1
    assert lot_status(world) == "quarantine"
    # The process releases it.
    run.run(("sr_inspection_plan", PLAN), ("sr_inspection", ACCEPT), ("sr_qa_release", RELEASE))
    assert lot_status(world) == "released"
    # Once released by the process, later holds are released as usual (no subcontract receipt since).
    assert (
        run.api("qa").post(f"/api/v1/lots/{lot_id}/status", {"status": "hold", "reason": "complaint"}).status_code
        == 200
    )
    assert run.api("qa").post(f"/api/v1/lots/{lot_id}/release", {"reason": "complaint closed"}).status_code == 200
    assert lot_status(world) == "released"


def test_a_lot_never_subcontracted_is_released_manually_as_before(world):
    with world.app_context():
        lot_id = _lot(world).id
    assert Api(world, "qa").post(f"/api/v1/lots/{lot_id}/release", {"reason": "in-house lot"}).status_code == 200
    assert lot_status(world) == "released"


def test_too_small_a_sample_sends_the_inspector_back(world):
    run = Driver(world)
    run.start()
    run.run(("sr_order", ORDER), ("sr_processing_record", RECORD), ("sr_inspection_plan", PLAN))
    run.run(("sr_inspection", {**ACCEPT, "sample_inspected": 32, "defects_found": 0}))
    assert run.ready == ["sr_inspection"] and run.instance["data"]["sample_complete"] is False
    run.run(("sr_inspection", ACCEPT), ("sr_qa_release", RELEASE))
    assert lot_status(world) == "released"


def test_rejected_lot_is_reworked_by_the_subcontractor_then_released(world):
    run = Driver(world)
    run.start()
    key = run.instance["business_key"]
    run.run(("sr_order", ORDER), ("sr_processing_record", RECORD), ("sr_inspection_plan", PLAN))
    run.run(("sr_inspection", REJECT))  # 2 defects = Re: reject
    assert run.ready == ["sr_mrb_disposition"]
    [task] = run.instance["ready_tasks"]
    assert "Re = 2" in task["instructions"] and task["signature"]["meaning"] == "approved"
    run.complete(
        "sr_mrb_disposition",
        {"disposition": "rework", "disposition_reason": "x", "mrb_reference": "NC-1"},
        username="qa",
        expect=403,
    )
    run.run(
        ("sr_mrb_disposition", {"disposition": "rework", "disposition_reason": "re-sterilize", "mrb_reference": "NC-1"})
    )
    # Rework: issued again, now from the quarantine location it came back to.
    assert run.ready == ["sr_processing_record"] and run.instance["data"]["rework_count"] == 1
    assert movements(world, "to_subcontractor") == [
        ("to_subcontractor", "PROD", "STER", 500, key, "STERI"),
        ("to_subcontractor", "QUA", "STER", 500, key, "STERI"),
    ]
    assert stock(world, "QUA") == 0 and stock(world, "STER") == 500
    run.run(
        ("sr_processing_record", {**RECORD, "cycle_number": "C-18"}),
        ("sr_inspection_plan", PLAN),
        ("sr_inspection", ACCEPT),
        ("sr_qa_release", RELEASE),
    )
    assert len(movements(world, "from_subcontractor")) == 2
    assert stock(world, "QUA") == 500 and lot_status(world) == "released"


def test_positive_biological_indicator_goes_to_mrb_and_the_lot_is_scrapped(world):
    run = Driver(world)
    run.start()
    key = run.instance["business_key"]
    run.run(("sr_order", ORDER), ("sr_processing_record", {**RECORD, "bi_result": "positive"}))
    assert run.ready == ["sr_mrb_disposition"]  # no sampling plan, no release
    data = run.instance["data"]
    assert (data["processing_conforming"], data["processing_finding"]) == (False, "bi_positive")
    assert "bi_positive" in run.instance["ready_tasks"][0]["instructions"]
    assert stock(world, "QUA") == 500  # it came back into quarantine
    run.run(
        (
            "sr_mrb_disposition",
            {"disposition": "scrap", "disposition_reason": "sterility not assured", "mrb_reference": "NC-2"},
        )
    )
    assert run.instance["status"] == "completed"
    assert movements(world, "scrap") == [("scrap", "QUA", None, 500, key, None)]
    assert stock(world, "QUA") == 0 and lot_status(world) == "rejected"


def test_eo_residual_over_the_limit_goes_to_mrb_and_the_lot_is_returned_on_hold(world):
    run = Driver(world)
    run.start()
    key = run.instance["business_key"]
    run.run(("sr_order", ORDER), ("sr_processing_record", {**RECORD, "eo_residual_mg": 4.5}))
    assert run.ready == ["sr_mrb_disposition"]
    assert run.instance["data"]["processing_finding"] == "eo_over"
    run.run(
        (
            "sr_mrb_disposition",
            {"disposition": "return", "disposition_reason": "aerate longer", "mrb_reference": "NC-3"},
        )
    )
    assert run.instance["status"] == "completed"
    assert movements(world, "to_subcontractor")[-1] == ("to_subcontractor", "QUA", "STER", 500, key, "STERI")
    assert stock(world, "STER") == 500 and lot_status(world) == "hold"
    with world.app_context():
        lot_id = _lot(world).id
    refused = Api(world, "qa").post(f"/api/v1/lots/{lot_id}/release", {"reason": "try"})
    assert refused.status_code == 422 and "LOT-SUBCONTRACT-RELEASE" in refused.get_json()["message"]


def test_ech_over_the_limit_is_nonconforming(world):
    run = Driver(world)
    run.start()
    run.run(("sr_order", ORDER), ("sr_processing_record", {**RECORD, "ech_residual_mg": 9.5}))
    assert run.ready == ["sr_mrb_disposition"] and run.instance["data"]["processing_finding"] == "ech_over"


def test_a_subcontractor_not_approved_for_the_service_is_refused_and_nothing_moves(world):
    run = Driver(world)
    run.start()
    with world.app_context():
        before = table_snapshot()
    response = run.complete("sr_order", {**ORDER, "subcontractor": "SUP-TUBE"}, expect=422)
    assert "REC-SUPPLIER-APPROVED" in response["message"] and "EO sterilization" in response["message"]
    assert movements(world) == [("output", None, "PROD", 500, "WO-1", None)]
    with world.app_context():
        after = table_snapshot()
        assert after["process_instances"] == before["process_instances"]
        assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "subcontract.issue.refused")).one()
        assert db.session.scalars(select(Incident)).one().operation == "subcontract.issue"
    assert run.ready == ["sr_order"]


def test_order_form_offers_only_subcontractor_and_quarantine_locations(world):
    run = Driver(world)
    run.start()
    form = run.instance["ready_tasks"][0]["form"]["schema"]["properties"]
    assert form["subcontractor_location"]["enum"] == ["STER"]
    assert form["return_location"]["enum"] == ["QUA", "QUA2"]
    assert "KIT/K1" in form["lot"]["enum"] and "STERI" in form["subcontractor"]["enum"]
    run.complete("sr_order", {**ORDER, "return_location": "WH"}, expect=400)
    page = Browser(world, "production").get(f"/tasks/{run.instance['ready_tasks'][0]['id']}").get_data(as_text=True)
    assert '<select name="subcontractor_location"' in page and 'value="STER"' in page
    assert '<select name="lot"' in page and 'value="KIT/K1"' in page


def test_only_production_warehouse_and_qa_start_it(world):
    assert (
        Api(world, "sales").post("/api/v1/process-instances", {"process_key": "subcontract_release"}).status_code == 403
    )
    for username in ("warehouse", "qa"):
        assert (
            Api(world, username).post("/api/v1/process-instances", {"process_key": "subcontract_release"}).status_code
            == 201
        )


# ---------------------------------------------------------------- decision tables, engine level

PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="probe" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="r">
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>DECISION</spiffworkflow:calledDecisionId></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:userTask id="w"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="r" />
    <bpmn:sequenceFlow id="f2" sourceRef="r" targetRef="w" />
    <bpmn:sequenceFlow id="f3" sourceRef="w" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""
_PROBES = {}


def decide(decision, **inputs):
    """The outputs of rules/<decision>.dmn for `inputs`, evaluated by the engine (sandboxed cells)."""
    if decision not in _PROBES:
        [compiled] = compile_bundle(
            ProcessBundle(
                [
                    SourceFile("probe.bpmn", PROBE.replace("DECISION", decision)),
                    SourceFile(
                        f"{decision}.dmn",
                        (ROOT / "processes" / "subcontract_release" / f"{decision}.dmn").read_text(encoding="utf-8"),
                    ),
                ]
            )
        )
        _PROBES[decision] = VersionRef(
            compiled.content_hash, compiled.spec_json, {f.name: f.text for f in compiled.files}
        )
    engine = Engine()
    return engine.data(engine.start(_PROBES[decision], dict(inputs)))


# GB/T 2828.1-2012 / ISO 2859-1:1999 Table 1, general inspection levels I, II, III: every row, both ends.
TABLE_1 = [
    ((2, 8), "AAB"),
    ((9, 15), "ABC"),
    ((16, 25), "BCD"),
    ((26, 50), "CDE"),
    ((51, 90), "CEF"),
    ((91, 150), "DFG"),
    ((151, 280), "EGH"),
    ((281, 500), "FHJ"),
    ((501, 1200), "GJK"),
    ((1201, 3200), "HKL"),
    ((3201, 10000), "JLM"),
    ((10001, 35000), "KMN"),
    ((35001, 150000), "LNP"),
    ((150001, 500000), "MPQ"),
    ((500001, 10_000_000), "NQR"),
]


@pytest.mark.parametrize("sizes, letters", TABLE_1, ids=[f"{a}-{b}" for (a, b), _ in TABLE_1])
def test_code_letter_table_1(sizes, letters):
    for lot_size in sizes:
        for level, letter in zip(("I", "II", "III"), letters):
            assert decide("sampling_code_letter", lot_size=lot_size, inspection_level=level)["code_letter"] == letter, (
                lot_size,
                level,
            )


# Table 2-A (normal inspection, single sampling), read off the standard with the arrows followed:
# code letter -> "n Ac Re" per AQL. Arrow cells give the plan (and sample size) of the row they point to.
TABLE_2A = {
    "0.65": "20 0 1|20 0 1|20 0 1|20 0 1|20 0 1|20 0 1|20 0 1|80 1 2|80 1 2|125 2 3|200 3 4|315 5 6|500 7 8|"
    "800 10 11|1250 14 15|2000 21 22",
    "1.0": "13 0 1|13 0 1|13 0 1|13 0 1|13 0 1|13 0 1|50 1 2|50 1 2|80 2 3|125 3 4|200 5 6|315 7 8|500 10 11|"
    "800 14 15|1250 21 22|1250 21 22",
    "1.5": "8 0 1|8 0 1|8 0 1|8 0 1|8 0 1|32 1 2|32 1 2|50 2 3|80 3 4|125 5 6|200 7 8|315 10 11|500 14 15|"
    "800 21 22|800 21 22|800 21 22",
    "2.5": "5 0 1|5 0 1|5 0 1|5 0 1|20 1 2|20 1 2|32 2 3|50 3 4|80 5 6|125 7 8|200 10 11|315 14 15|500 21 22|"
    "500 21 22|500 21 22|500 21 22",
    "4.0": "3 0 1|3 0 1|3 0 1|13 1 2|13 1 2|20 2 3|32 3 4|50 5 6|80 7 8|125 10 11|200 14 15|315 21 22|"
    "315 21 22|315 21 22|315 21 22|315 21 22",
    "6.5": "2 0 1|2 0 1|8 1 2|8 1 2|13 2 3|20 3 4|32 5 6|50 7 8|80 10 11|125 14 15|200 21 22|200 21 22|"
    "200 21 22|200 21 22|200 21 22|200 21 22",
}
LETTERS = "ABCDEFGHJKLMNPQR"
SAMPLE_SIZE = dict(zip(LETTERS, (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000)))
ROWS_2A = [
    (aql, letter, tuple(int(v) for v in cell.split()))
    for aql, cells in TABLE_2A.items()
    for letter, cell in zip(LETTERS, cells.split("|"))
]


@pytest.mark.parametrize("aql, letter, expected", ROWS_2A, ids=[f"{a}-{letter}" for a, letter, _ in ROWS_2A])
def test_sampling_plan_table_2a(aql, letter, expected):
    out = decide("sampling_plan", code_letter=letter, aql=aql)
    assert (out["sample_size"], out["accept_number"], out["reject_number"]) == expected
    # The plan actually used is the row whose sample size it is (the arrow changes the sample size).
    assert SAMPLE_SIZE[out["plan_code_letter"]] == out["sample_size"]
    assert out["reject_number"] == out["accept_number"] + 1


@pytest.mark.parametrize(
    "lot_size, level, aql, expected",
    [
        (1000, "II", "2.5", ("J", 80, 5, 6)),  # the textbook example
        (1000, "II", "0.65", ("J", 80, 1, 2)),
        (1000, "II", "4.0", ("J", 80, 7, 8)),
        (200, "II", "1.0", ("G", 50, 1, 2)),  # G, 1.0: arrow down to H (n 32 -> 50)
        (60, "II", "2.5", ("E", 20, 1, 2)),  # E, 2.5: arrow down to F (n 13 -> 20)
        (40, "II", "4.0", ("D", 13, 1, 2)),  # D, 4.0: arrow down to E
        (20, "II", "4.0", ("C", 3, 0, 1)),  # C, 4.0: arrow up to B (n 5 -> 3)
        (100, "I", "1.0", ("D", 13, 0, 1)),  # D, 1.0: arrow down to E
        (300, "I", "1.0", ("F", 13, 0, 1)),  # F, 1.0: arrow up to E (n 20 -> 13)
        (5000, "III", "0.65", ("M", 315, 5, 6)),
        (600000, "III", "1.0", ("R", 1250, 21, 22)),  # R, 1.0: arrow up to Q
        (600000, "II", "2.5", ("Q", 500, 21, 22)),  # Q, 2.5: arrow up to N
    ],
)
def test_lot_size_and_level_to_plan(lot_size, level, aql, expected):
    letter = decide("sampling_code_letter", lot_size=lot_size, inspection_level=level)["code_letter"]
    out = decide("sampling_plan", code_letter=letter, aql=aql)
    assert (letter, out["sample_size"], out["accept_number"], out["reject_number"]) == expected


def test_small_lot_is_inspected_100_percent(world):
    run = Driver(world)
    run.start()
    run.run(
        ("sr_order", {**ORDER, "quantity": 10}),
        ("sr_processing_record", RECORD),
        ("sr_inspection_plan", {"inspection_level": "II", "aql": "0.65"}),
    )
    data = run.instance["data"]  # lot 10, II: B; AQL 0.65: arrow down to F, n=20 >= 10
    assert (
        data["code_letter"],
        data["plan_code_letter"],
        data["hundred_percent"],
        data["sample_size"],
        data["accept_number"],
    ) == ("B", "F", True, 10, 0)


@pytest.mark.parametrize(
    "bi, eo, ech, conforming, finding",
    [
        ("negative", 4.0, 9.0, True, "conforming"),  # at the limits: conforming
        ("negative", 0.1, 0.1, True, "conforming"),
        ("positive", 0.1, 0.1, False, "bi_positive"),
        ("positive", 10.0, 20.0, False, "bi_positive"),
        ("negative", 4.01, 1.0, False, "eo_over"),
        ("negative", 5.0, 12.0, False, "eo_over"),
        ("negative", 3.0, 9.01, False, "ech_over"),
    ],
)
def test_sterilization_acceptance(bi, eo, ech, conforming, finding):
    out = decide("sterilization_acceptance", bi_result=bi, eo_residual_mg=eo, ech_residual_mg=ech)
    assert (out["processing_conforming"], out["processing_finding"]) == (conforming, finding)
    assert (out["eo_limit_mg"], out["ech_limit_mg"]) == (4, 9)


OTHER_RELEASE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="o" targetNamespace="t">
  <bpmn:process id="other_release" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="choose"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:serviceTask id="release">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="erp.release_lot" resultVariable="r">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="material" type="str" value="'KIT'" />
            <spiffworkflow:parameter id="lot" type="str" value="'K1'" />
            <spiffworkflow:parameter id="reason" type="str" value="'another process'" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="choose" />
    <bpmn:sequenceFlow id="f2" sourceRef="choose" targetRef="release" />
    <bpmn:sequenceFlow id="f3" sourceRef="release" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


def test_another_process_may_not_release_a_lot_back_from_the_subcontractor(world):
    with world.app_context():
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle([SourceFile("other_release.bpmn", OTHER_RELEASE)]))
    run = Driver(world)
    run.start()
    run.run(("sr_order", ORDER), ("sr_processing_record", RECORD))
    qa = Api(world, "qa")
    other = qa.post("/api/v1/process-instances", {"process_key": "other_release"}).get_json()
    response = qa.post(f"/api/v1/tasks/{other['ready_tasks'][0]['id']}/complete", {"data": {}})
    assert response.status_code == 422 and "LOT-SUBCONTRACT-RELEASE" in response.get_json()["message"]
    assert lot_status(world) == "quarantine"


def test_acting_context_names_the_process_and_resets():
    from webapp.services.acting import acting_as, acting_business_key, acting_process, acting_user

    with acting_as("u", "subcontract_release", "SR-2026-0001"):
        assert (acting_user(), acting_process(), acting_business_key()) == ("u", "subcontract_release", "SR-2026-0001")
        with acting_as("v"):
            assert (acting_user(), acting_process(), acting_business_key()) == ("v", None, None)
        assert acting_process() == "subcontract_release"
    assert (acting_user(), acting_process(), acting_business_key()) == (None, None, None)
