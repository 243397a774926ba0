"""The complaint process (processes/complaint/complaint.bpmn) through the REST API, on SQLite and
PostgreSQL: intake checks, the reportability tables per market (markets from where the lot was
shipped), the report deadlines as timers on the test clock (`run_due(now)`), CAPA and recall started
by message, re-assessment, trend detection, closure.

The ERP world: tubing lot TUBE/T1 is made into kit lots KIT/K1 and KIT/K2; K1 ships to HOSP (China),
US-DIST (US) and EU-DIST (EU), K2 only to US-DIST; KIT/K3 (also from T1) never ships. Monitor lot
BPM/B1 has serial S1 shipped to HOSP and S2 in stock. Expected deadlines are computed here from the
regulations' numbers, independently of the process's code.
"""

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.erp_world import build_world, days, released_stock
from tests.helpers import PASSWORD, Api, Browser, table_snapshot, user
from webapp.extensions import db
from webapp.models import AuditEvent, Lot, Material, Notification, OutboxMessage, ProcessInstance, User
from webapp.models._types import utcnow
from webapp.processes.complaint.models import Complaint
from webapp.services.erp import ledger, lots, parties, shipments
from webapp.services.erp.common import by_code
from webapp.services.timers import run_due

SHANGHAI = ZoneInfo("Asia/Shanghai")


# ------------------------------------------------------------------ the world


def _lot(material, lot):
    return db.session.scalar(select(Lot).join(Material).where(Material.code == material, Lot.lot_number == lot))


def _produce(qa, order, tube, material, lot, quantity, serials=()):
    ledger.record_movement(
        qa,
        {
            "type": "consumption",
            "material": "TUBE",
            "lot": "T1",
            "quantity": tube,
            "from_location": "WH",
            "reference": order,
        },
    )
    for serial in serials or [None]:
        ledger.record_movement(
            qa,
            {
                "type": "output",
                "material": material,
                "lot": lot,
                "serial": serial,
                "quantity": 1 if serial else quantity,
                "to_location": "QUA",
                "reference": order,
            },
        )
    lots.release_lot(qa, _lot(material, lot), "final release")
    for serial in serials or [None]:
        ledger.record_movement(
            qa,
            {
                "type": "transfer",
                "material": material,
                "lot": lot,
                "serial": serial,
                "quantity": 1 if serial else quantity,
                "from_location": "QUA",
                "to_location": "WH",
            },
        )


def _ship(customer, lines):
    sales = user("sales")
    shipment = shipments.create_shipment(sales, customer, [{**line, "from_location": "WH"} for line in lines])
    shipments.ship(sales, shipment)


def build_complaint_world():
    qa = build_world()
    for code in ("US-DIST", "EU-DIST"):
        parties.create_customer(
            qa,
            {
                "code": code,
                "name": code.title(),
                "license_number": f"LIC-{code}",
                "license_valid_until": days(365),
                "licensed_scope": ["II", "III"],
                "address": "abroad",
            },
        )
    released_stock(qa, "TUBE", "T1", 100)
    for material, number in (("KIT", "K1"), ("KIT", "K2"), ("KIT", "K3"), ("BPM", "B1")):
        lots.create_lot(qa, by_code("material", material), number, manufactured_on=days(-5))
    _produce(qa, "MO-1", 30, "KIT", "K1", 50)
    _produce(qa, "MO-2", 10, "KIT", "K2", 20)
    _produce(qa, "MO-3", 5, "KIT", "K3", 10)
    _produce(qa, "MO-4", 2, "BPM", "B1", 2, ["S1", "S2"])
    _ship(
        "HOSP",
        [
            {"material": "KIT", "lot": "K1", "quantity": 10},
            {"material": "BPM", "lot": "B1", "serial": "S1", "quantity": 1},
        ],
    )
    _ship(
        "US-DIST", [{"material": "KIT", "lot": "K1", "quantity": 12}, {"material": "KIT", "lot": "K2", "quantity": 8}]
    )
    _ship("EU-DIST", [{"material": "KIT", "lot": "K1", "quantity": 5}])
    return qa


@pytest.fixture
def world(app):
    with app.app_context():
        build_complaint_world()
    return app


# ------------------------------------------------------------------ driving the process


def _instance(api, instance_id):
    return api.get(f"/api/v1/process-instances/{instance_id}").get_json()


def _ready(api, instance_id):
    return sorted(t["bpmn_id"] for t in _instance(api, instance_id)["ready_tasks"])


def _task(api, instance_id, bpmn_id, market=None):
    instance = _instance(api, instance_id)
    matches = [
        t
        for t in instance["ready_tasks"]
        if t["bpmn_id"] == bpmn_id and (market is None or re.search(rf"监管报告 {market}：", t["instructions"]))
    ]
    assert matches, (bpmn_id, market, [t["bpmn_id"] for t in instance["ready_tasks"]], instance.get("incidents"))
    return matches[0]


def _post(api, instance_id, bpmn_id, data, meaning=None, market=None):
    task = _task(api, instance_id, bpmn_id, market)
    body = {"data": data}
    if meaning:
        body["signature"] = {"password": PASSWORD, "meaning": meaning}
    return api.post(f"/api/v1/tasks/{task['id']}/complete", body)


def _complete(api, instance_id, bpmn_id, data, meaning=None, market=None):
    response = _post(api, instance_id, bpmn_id, data, meaning, market)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["process_instance"]


def intake(**changes):
    data = {
        "channel": "hospital",
        "awareness_date": days(0).isoformat(),
        "awareness_time": "00:00",
        "customer": "HOSP",
        "product": "KIT",
        "lot": "K1",
        "event_description": "Pouch seal found open before use.",
        "patient_involved": True,
        "outcome": "serious_injury",
        "device_available": True,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


NO_FLAGS = {
    "is_complaint": True,
    "failure_code": "seal_open",
    "group_event": False,
    "remedial_action": False,
    "fda_request": False,
    "public_health_threat": False,
    "unanticipated": False,
}


def start(app, assessment=None, **intake_changes):
    """A complaint through intake and (unless assessment is False) QA's initial assessment."""
    qa = Api(app, "qa")
    instance = qa.post("/api/v1/process-instances", {"process_key": "complaint"}).get_json()
    assert instance["business_key"].startswith("CMP") and _ready(qa, instance["id"]) == ["cp_intake"]
    _complete(qa, instance["id"], "cp_intake", intake(**intake_changes))
    if assessment is not False:
        _complete(qa, instance["id"], "cp_assessment", {**NO_FLAGS, **(assessment or {})})
    return qa, instance


def _complaint(business_key):
    db.session.expire_all()
    return db.session.scalar(select(Complaint).where(Complaint.business_key == business_key))


def _reports(business_key):
    """{market: (rule, due_at − awareness_at)} of the complaint's reports."""
    complaint = _complaint(business_key)
    return {(r.market, r.rule): r.due_at - complaint.awareness_at for r in complaint.reports}


def _awareness(day, clock="00:00"):
    hours, minutes = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=SHANGHAI).astimezone(UTC)


def _work_days_later(start, count):
    """`count` work days (Monday–Friday, Shanghai) after `start`, counted by hand."""
    local, left = start.astimezone(SHANGHAI), count
    while left:
        local += timedelta(days=1)
        left -= local.isoweekday() <= 5
    return local.astimezone(UTC)


def report_data(**changes):
    return {
        "report_manufacturer": "Traceflow Medical Devices Co., Ltd.",
        "report_device": "Sterile catheter kit",
        "report_lot": "K1",
        "report_event_description": "Pouch seal found open before use.",
        "report_number": "MDR-2026-001",
        "report_date": days(0).isoformat(),
        **changes,
    }


# ------------------------------------------------------------------ reportability


CASES = [
    # (outcome, assessment flags, {(market, rule): deadline})
    (
        "death",
        {},
        {
            ("CN", "CN-DEATH-7D"): timedelta(days=7),
            ("US", "US-MDR-30D"): timedelta(days=30),
            ("EU", "EU-DEATH-10D"): timedelta(days=10),
        },
    ),
    (
        "serious_injury",
        {},
        {
            ("CN", "CN-SERIOUS-20D"): timedelta(days=20),
            ("US", "US-MDR-30D"): timedelta(days=30),
            ("EU", "EU-SERIOUS-15D"): timedelta(days=15),
        },
    ),
    (
        "malfunction",
        {"group_event": True, "public_health_threat": True},
        {
            ("CN", "CN-GROUP-12H"): timedelta(hours=12),
            ("US", "US-MDR-30D"): timedelta(days=30),
            ("EU", "EU-THREAT-2D"): timedelta(days=2),
        },
    ),
    (
        "serious_injury",
        {"remedial_action": True, "unanticipated": True},
        {
            ("CN", "CN-SERIOUS-20D"): timedelta(days=20),
            ("US", "US-REMEDIAL-5WD"): "5 work days",
            ("EU", "EU-DETERIORATION-10D"): timedelta(days=10),
        },
    ),
    ("no_harm", {"fda_request": True}, {("US", "US-REMEDIAL-5WD"): "5 work days"}),
    ("no_harm", {}, {}),
]


@pytest.mark.parametrize(("outcome", "flags", "expected"), CASES)
def test_each_reportability_branch_sets_the_reports_and_deadlines_of_every_market(world, outcome, flags, expected):
    day = days(-1)
    qa, instance = start(world, flags, outcome=outcome, awareness_date=day.isoformat(), awareness_time="09:30")
    awareness = _awareness(day, "09:30")
    with world.app_context():
        complaint = _complaint(instance["business_key"])
        assert complaint.markets == ["CN", "EU", "US"] and complaint.awareness_at == awareness
        wanted = {
            k: (_work_days_later(awareness, 5) - awareness if v == "5 work days" else v) for k, v in expected.items()
        }
        assert _reports(instance["business_key"]) == wanted
        assert complaint.reportable is bool(expected)
        for report in complaint.reports:
            span = report.due_at - awareness
            assert report.escalate_50_at == awareness + span / 2 and report.escalate_80_at == awareness + span * 0.8
    ready = _instance(qa, instance["id"])["ready_tasks"]
    markets = sorted(
        re.search(r"监管报告 (\w\w)：", t["instructions"]).group(1)
        for t in ready
        if t["bpmn_id"] == "regulator_reports_task"
    )
    assert markets == sorted(m for m, _rule in expected)
    assert [t["bpmn_id"] for t in ready if t["bpmn_id"] != "regulator_reports_task"] == ["cp_investigation"]
    assert all(t["candidate_role"] == "regulatory" for t in ready if t["bpmn_id"] == "regulator_reports_task")


def test_markets_come_from_where_the_lot_was_shipped(world):
    _qa, instance = start(world, {}, lot="K2", outcome="death")
    with world.app_context():
        assert _complaint(instance["business_key"]).markets == ["US"]
        assert set(_reports(instance["business_key"])) == {("US", "US-MDR-30D")}


# ------------------------------------------------------------------ timers


def _notes(role):
    users = db.session.scalars(select(User.id).join(User.roles).where(User.roles.any(name=role))).all()
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id.in_(users), Notification.kind == "escalated")
    )


def _audited(action):
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_reminders_at_50_and_80_percent_and_the_overdue_mark_fire_exactly_once(world):
    qa, instance = start(world, {}, lot="K2", outcome="malfunction")  # US only: 30 calendar days
    bk = instance["business_key"]
    with world.app_context():
        awareness = _complaint(bk).awareness_at
        assert _reports(bk) == {("US", "US-MDR-30D"): timedelta(days=30)}
        assert run_due(awareness + timedelta(days=15) - timedelta(minutes=1)) == []
        report = _complaint(bk).reports[0]
        assert (report.escalated_50_at, report.escalated_80_at, report.overdue_at) == (None, None, None)
        assert run_due(awareness + timedelta(days=15, minutes=1)) == [instance["id"]]
        assert run_due(awareness + timedelta(days=15, minutes=2)) == []
        report = _complaint(bk).reports[0]
        assert report.escalated_50_at is not None and report.escalated_80_at is None
        assert (_notes("qa_manager"), _notes("regulatory"), _audited("complaint.report_escalated")) == (1, 1, 1)
        assert run_due(awareness + timedelta(days=24, minutes=1)) == [instance["id"]]
        assert run_due(awareness + timedelta(days=30, minutes=1)) == [instance["id"]]
        for later in (31, 45, 90):
            assert run_due(awareness + timedelta(days=later)) == []
        report = _complaint(bk).reports[0]
        assert report.escalated_80_at is not None and report.overdue_at is not None
        assert (_notes("qa_manager"), _notes("regulatory")) == (3, 3)
        assert (_audited("complaint.report_escalated"), _audited("complaint.report_overdue")) == (2, 1)
    # the report task stays open through its reminders and the overdue mark
    assert "regulator_reports_task" in _ready(qa, instance["id"])
    shown = qa.get(f"/api/v1/complaints/{bk}").get_json()
    assert shown["overdue"] is True and shown["reports"][0]["state"] == "overdue"
    assert [c["business_key"] for c in qa.get("/api/v1/complaints?overdue=true").get_json()["items"]] == [bk]
    assert qa.get("/api/v1/complaints?overdue=false").get_json()["items"] == []


def test_a_late_report_needs_a_reason_and_records_the_lateness(world):
    late_day = days(-40)  # the US 30-day deadline passed ten days ago
    _qa, instance = start(world, {}, lot="K2", outcome="death", awareness_date=late_day.isoformat())
    bk = instance["business_key"]
    with world.app_context():
        # 50%, 80% and the deadline were past when the report opened: each fired then, once
        assert run_due(utcnow()) == []
        report = _complaint(bk).reports[0]
        assert report.escalated_50_at and report.escalated_80_at and report.overdue_at
        assert (_audited("complaint.report_escalated"), _audited("complaint.report_overdue")) == (2, 1)
    regulatory = Api(world, "regulatory")
    with world.app_context():
        before = table_snapshot()
    refused = _post(regulatory, instance["id"], "regulator_reports_task", report_data(report_number=""), "authored")
    assert refused.status_code == 400
    assert set(refused.get_json()["errors"]) == {"report_number", "lateness_reason"}  # both at once
    with world.app_context():
        after = table_snapshot()
        for table in before:
            assert after[table] == before[table], table
    _complete(
        regulatory,
        instance["id"],
        "regulator_reports_task",
        report_data(lateness_reason="Device received late."),
        "authored",
    )
    with world.app_context():
        report = _complaint(bk).reports[0]
        assert report.late is True and report.lateness_reason == "Device received late."
        assert report.submitted_by == "regulatory" and report.report_number == "MDR-2026-001"
        assert report.content["manufacturer"] == "Traceflow Medical Devices Co., Ltd."


def test_an_on_time_report_is_prefilled_from_the_complaint_and_the_erp_and_signed(world):
    qa, instance = start(world, {}, lot="K2", outcome="death")
    task = _task(qa, instance["id"], "regulator_reports_task")
    page = Browser(world, "regulatory").get(f"/tasks/{task['id']}").get_data(as_text=True)
    with world.app_context():
        gtin = by_code("material", "KIT").gtin
    for value in ("Traceflow Medical Devices Co., Ltd.", "Sterile catheter kit", gtin, 'value="8"', "US-MDR-30D"):
        assert value in page, value
    data = _instance(qa, instance["id"])["data"]
    assert (data["report_quantity_shipped"], data["report_udi_di"], data["report_lot"]) == (8, gtin, "K2")
    unsigned = qa.post(f"/api/v1/tasks/{task['id']}/complete", {"data": report_data()})
    assert unsigned.status_code in (400, 401, 403)
    done = _complete(Api(world, "regulatory"), instance["id"], "regulator_reports_task", report_data(), "authored")
    assert [s["bpmn_id"] for s in done["signatures"]] == ["regulator_reports_task"]
    with world.app_context():
        report = _complaint(instance["business_key"]).reports[0]
        assert report.submitted_at and not report.late and report.lateness_reason == ""
        assert run_due(report.due_at + timedelta(days=1)) == []  # the timers went with the task
        report_id, signature = report.id, report.content["signature"]
    assert signature["printed_name"] == "Regulatory" and signature["meaning"] == "authored"
    exported = qa.get(f"/api/v1/complaint-reports/{report_id}").get_json()
    assert "report_number" in exported, exported
    assert (exported["report_number"], exported["submitted_by"], exported["content"]["udi_di"]) == (
        "MDR-2026-001",
        "regulatory",
        gtin,
    )
    assert exported["complaint_record"]["business_key"] == instance["business_key"]
    assert qa.get("/api/v1/complaint-reports/999999").status_code == 404
    pdf = Browser(world, "regulatory").get(f"/erp/complaints/{instance['business_key']}/reports/{report_id}.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "MDR-2026-001" in text and "US-MDR-30D" in text and signature["content_hash"][:16] in text.replace("\n", "")


# ------------------------------------------------------------------ bad input


def test_bad_intake_gives_every_field_error_at_once_and_changes_nothing(world):
    qa = Api(world, "qa")
    instance = qa.post("/api/v1/process-instances", {"process_key": "complaint"}).get_json()
    with world.app_context():
        before = table_snapshot()
    cases = [
        (intake(awareness_date=days(1).isoformat(), lot="B1", outcome="worse"), {"awareness_date", "lot", "outcome"}),
        (intake(lot="K3"), {"lot"}),  # made, never shipped
        (intake(product="BPM", lot="B1", serial="S2"), {"serial"}),  # in stock, never shipped
        (intake(product="BPM", lot="B1", serial="S9"), {"serial"}),
        (intake(udi="(01)00614141001020(10)K1"), {"udi"}),  # the monitor's GTIN on a kit complaint
        (intake(awareness_time="23:59", awareness_date=days(0).isoformat()), set())
        if datetime.now(SHANGHAI).strftime("%H:%M") >= "23:59"
        else (intake(awareness_time="23:59"), {"awareness_time"}),
    ]
    for data, fields in cases:
        response = _post(qa, instance["id"], "cp_intake", data)
        if not fields:
            continue
        assert response.status_code == 400, (data, response.get_json())
        assert set(response.get_json()["errors"]) == fields, (data, response.get_json())
    with world.app_context():
        after = table_snapshot()
        for table in before:
            assert after[table] == before[table], table
    # in the task page, in the user's language
    browser = Browser(world, "qa")
    task = _task(qa, instance["id"], "cp_intake")
    form = {
        k: ("true" if v is True else "false" if v is False else v)
        for k, v in intake(awareness_date=days(2).isoformat(), lot="K3").items()
    }
    page = browser.post(f"/tasks/{task['id']}", form)
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "不得晚于今天" in text and "该批次从未发货" in text
    browser.post("/locale", {"locale": "en", "next": "/"})
    english = browser.post(f"/tasks/{task['id']}", form).get_data(as_text=True)
    assert "must not be in the future" in english and "this lot was never shipped" in english
    # a reopening names a closed complaint; a scanned UDI alone fills product, lot and serial
    refused = _post(qa, instance["id"], "cp_intake", intake(related_complaint="CMP-NOPE", product=None, lot=None))
    assert set(refused.get_json()["errors"]) == {"related_complaint", "product", "lot"}
    scanned = intake(product=None, lot=None, udi="(01)" + _kit_gtin(world) + "(10)K1")
    _complete(qa, instance["id"], "cp_intake", scanned)
    assert _ready(qa, instance["id"]) == ["cp_assessment"]
    with world.app_context():
        complaint = _complaint(instance["business_key"])
        assert (complaint.material_code, complaint.lot_number, complaint.udi) == ("KIT", "K1", scanned["udi"])


def _kit_gtin(app):
    with app.app_context():
        return by_code("material", "KIT").gtin


# ------------------------------------------------------------------ investigation, CAPA, recall, re-assessment


INVESTIGATION = {
    "sample_returned": True,
    "dhr_reviewed": True,
    "root_cause": "Sterilizer pre-conditioning step changed.",
    "open_capa": False,
    "open_recall": False,
    "revised_outcome": "unchanged",
}


def test_capa_and_recall_are_started_by_message_and_linked_both_ways(world):
    qa, instance = start(world, {}, outcome="malfunction")
    bk = instance["business_key"]
    _complete(qa, instance["id"], "cp_investigation", {**INVESTIGATION, "open_capa": True, "open_recall": True})
    with world.app_context():
        sent = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.source_instance_id == instance["id"]).order_by(OutboxMessage.id)
        ).all()
        assert [m.name for m in sent] == ["open_capa", "open_recall"]
        started = [db.session.get(ProcessInstance, m.delivered_to[0]) for m in sent]
        capa, recall = started
        assert capa.version.key == "capa" and capa.data["request"]["source"] == "complaint"
        assert capa.data["request"]["source_ref"] == bk and capa.data["source_ref"] == bk
        assert recall.version.key == "recall" and recall.data["source_ref"] == bk
        assert recall.data["affected_lots"] == [{"lot": "KIT/K1"}]
        keys = (capa.business_key, recall.business_key)
    links = qa.get(f"/api/v1/complaints/{bk}").get_json()["links"]
    assert [(link["process"], link["business_key"]) for link in links] == [("capa", keys[0]), ("recall", keys[1])]
    page = Browser(world, "qa").get(f"/erp/complaints/{bk}").get_data(as_text=True)
    assert keys[0] in page and keys[1] in page


def test_a_revised_outcome_adds_reports_and_never_removes_a_started_one(world):
    qa, instance = start(world, {}, outcome="malfunction")
    bk = instance["business_key"]
    regulatory = Api(world, "regulatory")
    with world.app_context():
        assert set(_reports(bk)) == {("CN", "CN-SERIOUS-20D"), ("US", "US-MDR-30D"), ("EU", "EU-SERIOUS-15D")}
    _complete(regulatory, instance["id"], "regulator_reports_task", report_data(), "authored", market="US")
    _complete(qa, instance["id"], "cp_investigation", {**INVESTIGATION, "revised_outcome": "death"})
    with world.app_context():
        complaint = _complaint(bk)
        assert complaint.outcome == "death"
        assert set(_reports(bk)) == {
            ("CN", "CN-SERIOUS-20D"),
            ("US", "US-MDR-30D"),
            ("EU", "EU-SERIOUS-15D"),
            ("CN", "CN-DEATH-7D"),
            ("EU", "EU-DEATH-10D"),
        }
        us = next(r for r in complaint.reports if r.market == "US")
        assert us.submitted_at is not None  # the submitted report stays as it was
    ready = _instance(qa, instance["id"])["ready_tasks"]
    open_reports = sorted(
        (t["bpmn_id"], re.search(r"规则 ([\w-]+)", t["instructions"]).group(1))
        for t in ready
        if "reports" in t["bpmn_id"]
    )
    assert open_reports == [
        ("added_reports_sub_task", "CN-DEATH-7D"),
        ("added_reports_sub_task", "EU-DEATH-10D"),
        ("regulator_reports_task", "CN-SERIOUS-20D"),
        ("regulator_reports_task", "EU-SERIOUS-15D"),
    ]
    for market in ("CN", "EU"):
        _complete(regulatory, instance["id"], "regulator_reports_task", report_data(), "authored", market=market)
        _complete(regulatory, instance["id"], "added_reports_sub_task", report_data(), "authored", market=market)
    assert _ready(qa, instance["id"]) == ["cp_response"]


def test_response_and_qa_signed_closure(world):
    qa, instance = start(world, {}, lot="K2", outcome="no_harm")
    assert _ready(qa, instance["id"]) == ["cp_investigation"]
    _complete(qa, instance["id"], "cp_investigation", INVESTIGATION)
    _complete(
        qa,
        instance["id"],
        "cp_response",
        {"response_date": days(0).isoformat(), "response_channel": "letter", "response_text": "Replaced."},
    )
    task = _task(qa, instance["id"], "cp_closure")
    own = qa.post(
        f"/api/v1/tasks/{task['id']}/complete",
        {"data": {"closure_summary": "done"}, "signature": {"password": PASSWORD, "meaning": "approved"}},
    )
    assert own.status_code == 403  # not the initiator
    done = _complete(Api(world, "qa2"), instance["id"], "cp_closure", {"closure_summary": "Closed."}, "approved")
    assert done["status"] == "completed"
    shown = qa.get(f"/api/v1/complaints/{instance['business_key']}").get_json()
    assert shown["status"] == "closed" and shown["closed_by"] == "qa2" and shown["reports"] == []
    # reopened only through a new complaint linked to the closed one
    qa, reopened = start(world, False, lot="K2", related_complaint=instance["business_key"])
    assert (
        qa.get(f"/api/v1/complaints/{reopened['business_key']}").get_json()["related_complaint"]
        == instance["business_key"]
    )


def test_not_a_complaint_is_recorded_with_its_reason_and_ends(world):
    qa, instance = start(world, False)
    refused = _post(qa, instance["id"], "cp_assessment", {**NO_FLAGS, "is_complaint": False})
    assert refused.status_code == 400 and "not_complaint_reason" in refused.get_json()["errors"]
    done = _complete(
        qa,
        instance["id"],
        "cp_assessment",
        {**NO_FLAGS, "is_complaint": False, "not_complaint_reason": "A question about use."},
    )
    assert done["status"] == "completed"
    assert qa.get(f"/api/v1/complaints/{instance['business_key']}").get_json()["status"] == "not_a_complaint"


# ------------------------------------------------------------------ trend


def test_the_trend_task_opens_with_the_numbers_when_the_threshold_is_crossed(world):
    keys = []
    for _ in range(2):
        qa, instance = start(world, {}, lot="K2", outcome="no_harm")
        assert "cp_trend_assessment" not in _ready(qa, instance["id"])
        keys.append(instance["business_key"])
    qa, third = start(world, {}, lot="K2", outcome="no_harm")  # the third open seal in 30 days: threshold 3
    assert _ready(qa, third["id"]) == ["cp_trend_assessment"]
    task = _task(qa, third["id"], "cp_trend_assessment")
    assert "近 30 天 3 起（阈值 3）" in task["instructions"] and "KIT / seal_open" in task["instructions"]
    trend = _instance(qa, third["id"])["data"]["trend"]
    assert (trend["count_30"], trend["count_90"], trend["crossed"]) == (3, 3, True)
    assert trend["complaints"] == sorted([*keys, third["business_key"]])
    _complete(
        qa,
        third["id"],
        "cp_trend_assessment",
        {"trend_confirmed": True, "trend_action": "capa", "trend_notes": "Seal issue."},
    )
    assert _ready(qa, third["id"]) == ["cp_investigation"]
    # another failure code does not count; the same one again does not open a second task within 30 days
    qa, other = start(world, {"failure_code": "breakage"}, lot="K2", outcome="no_harm")
    assert "cp_trend_assessment" not in _ready(qa, other["id"])
    qa, fourth = start(world, {}, lot="K2", outcome="no_harm")
    assert _instance(qa, fourth["id"])["data"]["trend"]["count_30"] == 4
    assert "cp_trend_assessment" not in _ready(qa, fourth["id"])


# ------------------------------------------------------------------ records, API, files


def test_lists_filters_csv_and_page(world):
    _qa, reportable = start(world, {}, outcome="death")
    qa, harmless = start(world, {}, lot="K2", outcome="no_harm")
    items = qa.get("/api/v1/complaints").get_json()["items"]
    assert [c["business_key"] for c in items] == [harmless["business_key"], reportable["business_key"]]
    assert [c["business_key"] for c in qa.get("/api/v1/complaints?reportable=true").get_json()["items"]] == [
        reportable["business_key"]
    ]
    assert [c["business_key"] for c in qa.get("/api/v1/complaints?lot=K2").get_json()["items"]] == [
        harmless["business_key"]
    ]
    assert qa.get("/api/v1/complaints?overdue=true").get_json()["items"] == []
    bad = qa.get("/api/v1/complaints?reportable=maybe&overdue=x")
    assert bad.status_code == 400 and set(bad.get_json()["errors"]) == {"reportable", "overdue"}
    deadlines = qa.get("/api/v1/complaint-deadlines").get_json()["items"]
    assert [d["rule"] for d in deadlines] == ["CN-DEATH-7D", "EU-DEATH-10D", "US-MDR-30D"]
    assert Api(world, "warehouse").get("/api/v1/complaints").status_code == 403
    browser = Browser(world, "qa")
    csv_text = browser.get("/erp/complaints/export.csv?reportable=true").get_data(as_text=True)
    assert csv_text.count("\n") == 2 and reportable["business_key"] in csv_text and "CN CN-DEATH-7D open" in csv_text
    deadlines_csv = browser.get("/erp/complaints/deadlines.csv?open=true").get_data(as_text=True).splitlines()
    assert deadlines_csv[0].lstrip("\ufeff").startswith("complaint,market,rule,report_form,due_at,state")
    assert [line.split(",")[2] for line in deadlines_csv[1:]] == ["CN-DEATH-7D", "EU-DEATH-10D", "US-MDR-30D"]
    listing = browser.get("/erp/complaints?product=KIT").get_data(as_text=True)
    assert reportable["business_key"] in listing and harmless["business_key"] in listing
    page = browser.get(f"/erp/complaints/{reportable['business_key']}").get_data(as_text=True)
    assert (
        'id="timeline"' in page and "CN-DEATH-7D" in page and harmless["business_key"] in page
    )  # same component lot T1
    assert browser.get("/erp/complaints/CMP-NOPE").status_code == 404
    instance_page = browser.get(f"/instances/{reportable['id']}")
    assert instance_page.status_code == 200 and reportable["business_key"] in instance_page.get_data(as_text=True)
    assert browser.get(f"/definitions/instances/{reportable['id']}/diagram.svg").status_code == 200
    assert browser.get("/definitions/complaint").status_code == 200
    assert Browser(world, "warehouse").get("/erp/complaints").status_code == 403


def test_the_complaint_files_validate_without_errors_or_warnings(app):
    from engine import ProcessBundle
    from tests.conftest import ROOT
    from webapp.services.deployments import validate

    with app.app_context():
        report = validate(ProcessBundle.from_paths(*sorted((ROOT / "processes" / "complaint").glob("*"))))
    assert report.errors == () and report.warnings == ()
    assert [p.key for p in report.processes] == ["complaint"]


def test_the_intake_takes_the_customers_letter_as_an_attachment_bound_to_the_complaint(world):
    from tests.integration.test_process_document_control import PDF, ref, upload
    from webapp.models import Attachment

    qa = Api(world, "qa")
    letter = upload(qa, "客户来函.pdf", PDF)
    instance = qa.post("/api/v1/process-instances", {"process_key": "complaint"}).get_json()
    task = _task(qa, instance["id"], "cp_intake")
    assert task["form"]["schema"]["properties"]["evidence_file"]["x-attachment"] is True
    _complete(qa, instance["id"], "cp_intake", intake(evidence_file=ref(letter)))
    with world.app_context():
        stored = db.session.get(Attachment, letter["id"])
        assert stored.locked_at is not None and stored.owner_id == task["id"]  # bound to the intake, immutable
    assert _instance(qa, instance["id"])["data"]["evidence_file"]["sha256"] == letter["sha256"]
    assert qa.client.delete(letter["url"], headers=qa.headers).status_code == 409
