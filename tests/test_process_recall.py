"""The recall process (processes/recall/recall.bpmn) through the REST API, on SQLite and PostgreSQL.

The ERP world: tubing lot TUBE/T1 is consumed into kit lots KIT/K1 and KIT/K2 and into the
serialized monitor lot BPM/B1 (serials S1–S4); the products ship to three customers and stock
remains in three locations. TUBE/T2 → KIT/K9 is an unrelated genealogy that must stay out of
the recall. Expectations are computed here in plain Python from the ledger rows (a breadth-first
search over production orders), independently of services/erp/trace.py.
"""

import json
import re
from collections import defaultdict, deque
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.erp_world import build_world, days, released_stock
from tests.helpers import PASSWORD, Api, Browser, table_snapshot, user
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    Customer,
    Location,
    Lot,
    Material,
    Movement,
    Notification,
    ProcessInstance,
    Serial,
    User,
)
from webapp.models._types import utcnow
from webapp.processes.recall.models import Recall
from webapp.services.erp import ledger, lots, materials, parties, shipments
from webapp.services.erp.common import by_code
from webapp.services.erp.udi import parse_udi
from webapp.services.timers import run_due

ERP_TABLES = ("erp_lots", "erp_movements", "erp_serials", "erp_shipments", "erp_shipment_lines")
HHE_LEVEL1 = {
    "hazard_description": "Tubing wall may crack under pressure.",
    "worst_outcome": "death_or_serious",
    "probability": "reasonable",
    "affected_population": "ICU patients",
    "hhe_summary": "Class I risk.",
}


# ------------------------------------------------------------------ the world


def _produce(qa, order, consumed, produced):
    """Consume (material, lot, quantity) rows and output (material, lot, quantity, serials) rows under `order`."""
    for material, lot, quantity in consumed:
        ledger.record_movement(
            qa,
            {
                "type": "consumption",
                "material": material,
                "lot": lot,
                "quantity": quantity,
                "from_location": "WH",
                "reference": order,
            },
        )
    for material, lot, quantity, serials in produced:
        if serials:
            for serial in serials:
                ledger.record_movement(
                    qa,
                    {
                        "type": "output",
                        "material": material,
                        "lot": lot,
                        "serial": serial,
                        "quantity": 1,
                        "to_location": "QUA",
                        "reference": order,
                    },
                )
        else:
            ledger.record_movement(
                qa,
                {
                    "type": "output",
                    "material": material,
                    "lot": lot,
                    "quantity": quantity,
                    "to_location": "QUA",
                    "reference": order,
                },
            )
        lots.release_lot(qa, lots_by(material, lot), "final release")


def lots_by(material, lot):
    return db.session.scalar(select(Lot).join(Material).where(Material.code == material, Lot.lot_number == lot))


def _move(qa, material, lot, quantity, source, target, serial=None):
    ledger.record_movement(
        qa,
        {
            "type": "transfer",
            "material": material,
            "lot": lot,
            "serial": serial,
            "quantity": quantity,
            "from_location": source,
            "to_location": target,
        },
    )


def _ship(customer, lines):
    sales = user("sales")
    shipment = shipments.create_shipment(sales, customer, lines)
    shipments.ship(sales, shipment)
    return shipment.number


def build_recall_world():
    qa = build_world()
    materials.create_location(qa, {"code": "WH2", "name": "Second warehouse", "kind": "warehouse"})
    parties.create_customer(
        qa,
        {
            "code": "PHARM",
            "name": "Pharmacy",
            "license_number": "LIC-PHARM",
            "license_valid_until": days(365),
            "licensed_scope": ["II", "III"],
            "address": "Beijing",
        },
    )
    released_stock(qa, "TUBE", "T1", 100)
    released_stock(qa, "TUBE", "T2", 50)
    for number in ("K1", "K2", "K9"):
        lots.create_lot(qa, by_code("material", "KIT"), number, manufactured_on=days(-5))
    lots.create_lot(qa, by_code("material", "BPM"), "B1", manufactured_on=days(-5))
    _produce(qa, "MO-1", [("TUBE", "T1", 30)], [("KIT", "K1", 50, None)])
    _produce(qa, "MO-2", [("TUBE", "T1", 20)], [("KIT", "K2", 30, None)])
    _produce(qa, "MO-3", [("TUBE", "T1", 8)], [("BPM", "B1", 4, ["S1", "S2", "S3", "S4"])])
    _produce(qa, "MO-9", [("TUBE", "T2", 10)], [("KIT", "K9", 40, None)])
    _move(qa, "KIT", "K1", 40, "QUA", "WH")
    _move(qa, "KIT", "K1", 10, "WH", "WH2")
    _move(qa, "KIT", "K2", 25, "QUA", "WH")
    _move(qa, "KIT", "K9", 40, "QUA", "WH")
    for serial in ("S1", "S2", "S3", "S4"):
        _move(qa, "BPM", "B1", 1, "QUA", "WH", serial)
    _ship(
        "HOSP",
        [
            {"material": "KIT", "lot": "K1", "quantity": 20, "from_location": "WH"},
            {"material": "BPM", "lot": "B1", "serial": "S1", "quantity": 1, "from_location": "WH"},
            {"material": "BPM", "lot": "B1", "serial": "S2", "quantity": 1, "from_location": "WH"},
        ],
    )
    _ship("CLINIC", [{"material": "BPM", "lot": "B1", "serial": "S3", "quantity": 1, "from_location": "WH"}])
    _ship(
        "PHARM",
        [
            {"material": "KIT", "lot": "K1", "quantity": 5, "from_location": "WH"},
            {"material": "KIT", "lot": "K2", "quantity": 10, "from_location": "WH"},
        ],
    )
    _ship("HOSP", [{"material": "KIT", "lot": "K9", "quantity": 15, "from_location": "WH"}])
    return qa


@pytest.fixture
def world(app):
    with app.app_context():
        build_recall_world()
    return app


# ------------------------------------------------------------------ the independent answer


def expected_scope(roots):
    """Lots, serials, customers (shipped quantity) and stock of the forward trace of `roots`, in
    plain Python over every ledger row."""
    rows = db.session.execute(
        select(
            Movement.id,
            Movement.type,
            Material.code,
            Lot.lot_number,
            Movement.quantity,
            Movement.reference,
            Movement.customer_id,
            Movement.from_location_id,
            Movement.to_location_id,
            Movement.reverses_id,
        )
        .join(Material, Material.id == Movement.material_id)
        .outerjoin(Lot, Lot.id == Movement.lot_id)
    ).all()
    reversed_ids = {r.reverses_id for r in rows if r.reverses_id}
    rows = [r for r in rows if r.id not in reversed_ids and not r.reverses_id]
    consumed, produced = defaultdict(set), defaultdict(set)
    for r in rows:
        if r.type == "consumption":
            consumed[r.reference].add((r.code, r.lot_number))
        elif r.type == "output":
            produced[r.reference].add((r.code, r.lot_number))
    depth, queue = dict.fromkeys(roots, 0), deque(roots)
    while queue:
        node = queue.popleft()
        for order, inputs in consumed.items():
            if node in inputs:
                for nxt in produced[order]:
                    if nxt not in depth:
                        depth[nxt] = depth[node] + 1
                        queue.append(nxt)
    customers = {c.id: c.code for c in db.session.scalars(select(Customer))}
    kinds = {loc.id: (loc.code, loc.kind) for loc in db.session.scalars(select(Location))}
    shipped, stock = defaultdict(int), defaultdict(int)
    for r in rows:
        key = (r.code, r.lot_number)
        if key not in depth:
            continue
        if r.type == "shipment":
            shipped[customers[r.customer_id]] += r.quantity
        for place, sign in ((r.from_location_id, -1), (r.to_location_id, 1)):
            if place is not None and kinds[place][1] != "customer":
                stock[(kinds[place][0], key)] += sign * r.quantity
    serials = sorted(
        (m, lot, s)
        for m, lot, s in db.session.execute(
            select(Material.code, Lot.lot_number, Serial.serial)
            .join(Lot, Lot.id == Serial.lot_id)
            .join(Material, Material.id == Serial.material_id)
        ).all()
        if (m, lot) in depth
    )
    return {
        "lots": dict(depth.items()),
        "customers": dict(shipped),
        "stock": {k: q for k, q in stock.items() if q},
        "serials": serials,
    }


# ------------------------------------------------------------------ driving the process


def _task(api, instance_id, bpmn_id):
    instance = api.get(f"/api/v1/process-instances/{instance_id}").get_json()
    matches = [t for t in instance["ready_tasks"] if t["bpmn_id"] == bpmn_id]
    assert matches, (bpmn_id, [t["bpmn_id"] for t in instance["ready_tasks"]], instance.get("incidents"))
    return matches[0]


def _ready(api, instance_id):
    return sorted(t["bpmn_id"] for t in api.get(f"/api/v1/process-instances/{instance_id}").get_json()["ready_tasks"])


def _complete(api, instance_id, bpmn_id, data, meaning=None):
    task = _task(api, instance_id, bpmn_id)
    body = {"data": data}
    if meaning:
        body["signature"] = {"password": PASSWORD, "meaning": meaning}
    response = api.post(f"/api/v1/tasks/{task['id']}/complete", body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["process_instance"]


def _initiate(app, drill=False, hhe=HHE_LEVEL1, lots_=("TUBE/T1",), check_page=False):
    qa = Api(app, "qa")
    instance = qa.post("/api/v1/process-instances", {"process_key": "recall"}).get_json()
    assert instance["business_key"].startswith("RC") and _ready(qa, instance["id"]) == ["rc_initiate"]
    if check_page:
        page = Browser(app, "qa").get(f"/tasks/{instance['ready_tasks'][0]['id']}")
        assert page.status_code == 200 and "TUBE/T1" in page.get_data(as_text=True)
    _complete(
        qa,
        instance["id"],
        "rc_initiate",
        {
            "source": "complaint",
            "source_ref": "CMP-7",
            "title": "Cracked tubing",
            "description": "Tubing cracks.",
            "affected_lots": [{"lot": lot} for lot in lots_],
            "drill": drill,
        },
    )
    _complete(qa, instance["id"], "rc_health_hazard", hhe)
    return qa, instance


def _ack_tasks(api, instance_id):
    """{customer code: task} of the ready acknowledgement tasks."""
    instance = api.get(f"/api/v1/process-instances/{instance_id}").get_json()
    found = {}
    for task in instance["ready_tasks"]:
        if task["bpmn_id"] == "rc_acknowledgement":
            found[re.search(r"客户确认回执：(\S+)", task["instructions"]).group(1)] = task
    return found


ACKS = {
    "HOSP": {"on_hand": 10, "used": 8, "destroyed": 2, "to_return": 10},
    "CLINIC": {"on_hand": 1, "used": 0, "destroyed": 0, "to_return": 1},
    "PHARM": {"on_hand": 12, "used": 3, "destroyed": 0, "to_return": 12},
}


def _acknowledge(app, instance_id, customers=None):
    sales = Api(app, "sales")
    for code, task in _ack_tasks(sales, instance_id).items():
        if customers is not None and code not in customers:
            continue
        response = sales.post(
            f"/api/v1/tasks/{task['id']}/complete", {"data": {"acknowledged_on": days(0).isoformat(), **ACKS[code]}}
        )
        assert response.status_code == 200, response.get_json()


def _recall(business_key):
    db.session.expire_all()
    return db.session.scalar(select(Recall).where(Recall.business_key == business_key))


def _status(material, lot):
    db.session.expire_all()
    return lots_by(material, lot).status


def _close(app, instance_id, capa=False, change=False):
    _complete(
        Api(app, "qa2"),
        instance_id,
        "rc_qa_closure",
        {"qa_closure_decision": "approve", "capa_needed": capa, "change_needed": change},
        "approved",
    )
    return _complete(
        Api(app, "regulatory"),
        instance_id,
        "rc_regulatory_closure",
        {"regulatory_closure_decision": "approve", "regulatory_closure_comments": "summary filed"},
        "approved",
    )


REPORT = {
    "authority": "nmpa_and_fda",
    "report_number": "NMPA-2026-001",
    "report_date": "2026-11-23",
    "report_summary": "Recall event report and plan submitted.",
}


# ------------------------------------------------------------------ tests


def test_scope_equals_an_independent_forward_trace_and_stock_goes_on_hold(world):
    with world.app_context():
        snapshot_statuses = {
            (m, n): s
            for m, n, s in db.session.execute(select(Material.code, Lot.lot_number, Lot.status).join(Material)).all()
        }
    qa, instance = _initiate(world, check_page=True)
    bk = instance["business_key"]
    with world.app_context():
        expected = expected_scope([("TUBE", "T1")])
        recall = _recall(bk)
        scope = recall.scope
        assert {(r["material"], r["lot"]): r["depth"] for r in scope["lots"]} == expected["lots"]
        assert expected["lots"] == {("TUBE", "T1"): 0, ("KIT", "K1"): 1, ("KIT", "K2"): 1, ("BPM", "B1"): 1}
        assert (
            {c["code"]: c["quantity_shipped"] for c in scope["customers"]}
            == expected["customers"]
            == {"HOSP": 22, "CLINIC": 1, "PHARM": 15}
        )
        assert {(r["location"], (r["material"], r["lot"])): r["quantity"] for r in scope["stock"]} == expected["stock"]
        assert expected["stock"] == {
            ("WH", ("TUBE", "T1")): 42,
            ("QUA", ("KIT", "K1")): 10,
            ("WH", ("KIT", "K1")): 5,
            ("WH2", ("KIT", "K1")): 10,
            ("QUA", ("KIT", "K2")): 5,
            ("WH", ("KIT", "K2")): 15,
            ("WH", ("BPM", "B1")): 1,
        }
        assert [(s["material"], s["lot"], s["serial"]) for s in scope["serials"]] == expected["serials"]
        assert recall.level == 1 and recall.classification["notify_days"] == 1 and not recall.drill
        assert recall.scoped_at >= recall.started_at and recall.time_to_scope_seconds >= 0
        # every affected lot in stock is on hold; the unrelated genealogy is untouched
        for material, lot in expected["lots"]:
            assert _status(material, lot) == "hold", (material, lot)
        for key in (("TUBE", "T2"), ("KIT", "K9")):
            assert _status(*key) == snapshot_statuses[key] == "released"
        assert sorted(recall.held) == ["BPM/B1", "KIT/K1", "KIT/K2", "TUBE/T1"]
        held = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lot.hold")).all()
        assert len(held) == 4 and all(e.actor_name == "qa" and bk in e.reason for e in held)
    data = qa.get(f"/api/v1/process-instances/{instance['id']}").get_json()["data"]
    assert data["recall_level"] == 1 and data["us_class"] == "I" and data["effectiveness_level"] == "A"
    assert sorted(data["scope_result"]["customers"]) == ["CLINIC", "HOSP", "PHARM"]
    assert sorted(_ack_tasks(Api(world, "sales"), instance["id"])) == ["CLINIC", "HOSP", "PHARM"]
    api = qa.get(f"/api/v1/recalls/{bk}").get_json()
    assert api["business_key"] == bk and api["level"] == 1 and len(api["notices"]) == 3
    assert {n["customer"]: n["quantity"] for n in api["notices"]} == {"HOSP": 22, "CLINIC": 1, "PHARM": 15}


def test_notices_carry_udis_and_the_full_recall_reconciles_from_the_ledger(world):
    qa, instance = _initiate(world)
    bk = instance["business_key"]
    with world.app_context():
        recall = _recall(bk)
        hosp = next(n for n in recall.notices if n.customer.code == "HOSP")
        kit, bpm = by_code("material", "KIT"), by_code("material", "BPM")
        lines = {(line["material"], line["lot"], line["serial"]): line for line in hosp.lines}
        assert {k: v["quantity"] for k, v in lines.items()} == {
            ("BPM", "B1", "S1"): 1,
            ("BPM", "B1", "S2"): 1,
            ("KIT", "K1", None): 20,
        }
        k1 = parse_udi(lines[("KIT", "K1", None)]["udi"])
        assert (k1["gtin"], k1["lot"], k1["serial"]) == (kit.gtin, "K1", None)
        assert k1["expiry"] == lots_by("KIT", "K1").expires_on.isoformat()
        s2 = parse_udi(lines[("BPM", "B1", "S2")]["udi"])
        assert (s2["gtin"], s2["lot"], s2["serial"]) == (bpm.gtin, "B1", "S2")
        assert timedelta(hours=23) < hosp.deadline - hosp.generated_at <= timedelta(days=1)
        udis = [line["udi"] for line in hosp.lines]
    browser = Browser(world, "sales")
    notice_page = browser.get(f"/erp/recalls/{bk}/notices/HOSP").get_data(as_text=True)
    assert all(udi in notice_page for udi in udis) and "Hosp" in notice_page
    assert browser.get(f"/erp/recalls/{bk}/notices/NOPE").status_code == 404
    ack_page = browser.get(f"/tasks/{_ack_tasks(qa, instance['id'])['HOSP']['id']}").get_data(as_text=True)
    assert "HOSP" in ack_page and 'name="to_return"' in ack_page
    _acknowledge(world, instance["id"])
    assert _ready(qa, instance["id"]) == ["rc_returns"]
    returns_page = Browser(world, "warehouse").get(f"/tasks/{_task(qa, instance['id'], 'rc_returns')['id']}")
    assert returns_page.status_code == 200 and "KIT/K1" in returns_page.get_data(as_text=True)
    warehouse = Api(world, "warehouse")
    # HOSP returns 6 kits and serial S2, PHARM 10 kits of K2, through the task; CLINIC's S3 through the
    # movements API with the recall's business key as reference
    _complete(
        warehouse,
        instance["id"],
        "rc_returns",
        {
            "returns": [
                {"customer": "HOSP", "lot": "KIT/K1", "quantity": 6},
                {"customer": "HOSP", "lot": "BPM/B1", "serial": "S2", "quantity": 1},
                {"customer": "PHARM", "lot": "KIT/K2", "quantity": 10},
            ],
            "returns_complete": False,
        },
    )
    assert _ready(qa, instance["id"]) == ["rc_returns"]
    moved = warehouse.post(
        "/api/v1/movements",
        {
            "type": "return",
            "material": "BPM",
            "lot": "B1",
            "serial": "S3",
            "quantity": 1,
            "to_location": "QUA",
            "customer": "CLINIC",
            "reference": bk,
        },
    )
    assert moved.status_code == 201, moved.get_json()
    # a return with another reference (not this recall) does not count
    assert (
        warehouse.post(
            "/api/v1/movements",
            {
                "type": "return",
                "material": "KIT",
                "lot": "K1",
                "quantity": 1,
                "to_location": "QUA",
                "customer": "PHARM",
                "reference": "RMA-99",
            },
        ).status_code
        == 201
    )
    _complete(warehouse, instance["id"], "rc_returns", {"returns": [], "returns_complete": True})
    with world.app_context():
        returns = db.session.scalars(select(Movement).where(Movement.type == "return", Movement.reference == bk)).all()
        assert sorted((m.customer.code, m.lot.lot_number, m.quantity, m.to_location.code) for m in returns) == [
            ("CLINIC", "B1", 1, "QUA"),
            ("HOSP", "B1", 1, "QUA"),
            ("HOSP", "K1", 6, "QUA"),
            ("PHARM", "K2", 10, "QUA"),
        ]
        assert _status("KIT", "K1") == _status("KIT", "K2") == _status("BPM", "B1") == "hold"
        reconciliation = _recall(bk).reconciliation
    # by hand: HOSP shipped 22 (20 K1 + S1 + S2), returned 7, used 8, destroyed 2 → 5 unaccounted;
    # CLINIC 1 − 1 = 0; PHARM 15 − 10 − 3 = 2; total 38 shipped, 18 returned, 11 used, 2 destroyed
    rows = {r["customer"]: r for r in reconciliation["customers"]}
    assert {c: (r["shipped"], r["returned"], r["used"], r["destroyed"], r["unaccounted"]) for c, r in rows.items()} == {
        "HOSP": (22, 7, 8, 2, 5),
        "CLINIC": (1, 1, 0, 0, 0),
        "PHARM": (15, 10, 3, 0, 2),
    }
    assert (
        reconciliation["shipped"],
        reconciliation["returned"],
        reconciliation["used"],
        reconciliation["destroyed"],
        reconciliation["unaccounted"],
    ) == (38, 18, 11, 2, 7)
    assert reconciliation["effectiveness_pct"] == round(100 * 31 / 38, 1)
    assert (reconciliation["responded_pct"], reconciliation["required_pct"], reconciliation["level_met"]) == (
        100.0,
        100,
        True,
    )
    assert _ready(qa, instance["id"]) == ["rc_regulator_report"]
    _complete(Api(world, "regulatory"), instance["id"], "rc_regulator_report", REPORT)
    # a late return booked through the movements API counts in the final reconciliation at closure
    assert (
        warehouse.post(
            "/api/v1/movements",
            {
                "type": "return",
                "material": "KIT",
                "lot": "K1",
                "quantity": 2,
                "to_location": "QUA",
                "customer": "PHARM",
                "reference": bk,
            },
        ).status_code
        == 201
    )
    done = _close(world, instance["id"])
    assert done["status"] == "completed"
    shown = qa.get(f"/api/v1/recalls/{bk}").get_json()
    assert shown["closed_at"] and shown["reconciliation"]["unaccounted"] == 5
    assert shown["reconciliation"]["customers"][2] == {
        "customer": "PHARM",
        "shipped": 15,
        "returned": 12,
        "used": 3,
        "destroyed": 0,
        "unaccounted": 0,
        "responded": True,
    }
    assert [s["bpmn_id"] for s in done["signatures"]] == ["rc_qa_closure", "rc_regulatory_closure"]
    page = browser.get(f"/erp/recalls/{bk}").get_data(as_text=True)
    assert 'id="time-to-scope"' in page and 'id="reconciliation"' in page and "86.8%" in page
    assert bk in browser.get("/erp/recalls").get_data(as_text=True)


def test_a_drill_changes_no_stock_and_measures_time_to_scope(world):
    with world.app_context():
        before = table_snapshot()
    qa, instance = _initiate(world, drill=True)
    bk = instance["business_key"]
    with world.app_context():
        after = table_snapshot()
        for table in ERP_TABLES:
            assert after[table] == before[table], table
        recall = _recall(bk)
        assert recall.drill and recall.held == [] and recall.scoped_at is not None
        assert recall.time_to_scope_seconds is not None and recall.time_to_scope_seconds >= 0
        assert len(recall.scope["lots"]) == 4 and len(recall.notices) == 3
        assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lot.hold")).all()
    _acknowledge(world, instance["id"])
    # the drill skips the returns and the regulator report
    assert _ready(qa, instance["id"]) == ["rc_qa_closure"]
    assert qa.get(f"/api/v1/recalls/{bk}").get_json()["time_to_scope_seconds"] is not None
    done = _close(world, instance["id"])
    assert done["status"] == "completed"
    with world.app_context():
        final = table_snapshot()
        for table in ERP_TABLES:
            assert final[table] == before[table], table


def test_an_overdue_acknowledgement_escalates_to_the_qa_manager(world):
    qa, instance = _initiate(world)  # level 1: notify within 1 day
    bk = instance["business_key"]
    _acknowledge(world, instance["id"], customers={"CLINIC"})
    started = utcnow()
    with world.app_context():
        assert run_due(started + timedelta(hours=12)) == []
        assert run_due(started + timedelta(days=1, hours=1)) == [instance["id"]]
        recall = _recall(bk)
        escalated = sorted(n.customer.code for n in recall.notices if n.escalated_at is not None)
        assert escalated == ["HOSP", "PHARM"]
        manager = db.session.scalar(select(User).where(User.username == "qamanager"))
        notes = db.session.scalars(
            select(Notification).where(Notification.user_id == manager.id, Notification.kind == "escalated")
        ).all()
        assert sorted(n.subject.rsplit(" ", 1)[1] for n in notes) == ["HOSP", "PHARM"]
        assert all(bk in n.subject for n in notes)
    # the acknowledgement tasks stay open (non-interrupting) and can still be completed
    assert sorted(_ack_tasks(Api(world, "sales"), instance["id"])) == ["HOSP", "PHARM"]
    _acknowledge(world, instance["id"])
    # the day also made the first progress report due (level 1: daily), beside the returns
    assert _ready(qa, instance["id"]) == ["rc_progress_report", "rc_returns"]
    shown = qa.get(f"/api/v1/recalls/{bk}").get_json()
    assert {n["customer"]: n["state"] for n in shown["notices"]} == {
        "HOSP": "acknowledged",
        "CLINIC": "acknowledged",
        "PHARM": "acknowledged",
    }
    assert all(n["escalated_at"] for n in shown["notices"] if n["customer"] != "CLINIC")


HHE_LEVEL2 = {**HHE_LEVEL1, "worst_outcome": "temporary_or_reversible", "hhe_summary": "Class II risk."}


def test_progress_reports_fall_due_every_level_interval_until_the_closure_ends_them(world):
    qa, instance = _initiate(world, hhe=HHE_LEVEL2)  # level 2: progress every 3 days
    assert instance_data(qa, instance)["progress_report_days"] == 3
    _acknowledge(world, instance["id"], customers={"HOSP"})
    started = utcnow()
    with world.app_context():
        assert run_due(started + timedelta(days=2, hours=23)) == []
        assert run_due(started + timedelta(days=3, hours=1)) == [instance["id"]]  # also the 3-day ack deadline
    report = _task(qa, instance["id"], "rc_progress_report")
    assert report["candidate_role"] == "regulatory"
    assert "每 3 天" in report["instructions"] and "收货方确认 1/3" in report["instructions"]
    page = Browser(world, "regulatory").get(f"/tasks/{report['id']}")
    assert page.status_code == 200 and 'name="progress_summary"' in page.get_data(as_text=True)
    with world.app_context():
        assert _recall(instance["business_key"]).reconciliation["responded"] == 1  # figures taken for the report
    _complete(
        Api(world, "regulatory"),
        instance["id"],
        "rc_progress_report",
        {"progress_report_date": days(3).isoformat(), "progress_summary": "1 of 3 consignees responded."},
    )
    assert "rc_progress_report" not in _ready(qa, instance["id"])
    submitted = utcnow()
    with world.app_context():  # the next one three days after this one was submitted
        db.session.expire_all()
        due = db.session.get(ProcessInstance, instance["id"]).next_timer_at
        assert timedelta(days=2, hours=23) < due - submitted <= timedelta(days=3)
        assert run_due(submitted + timedelta(days=3, hours=1)) == [instance["id"]]
    assert "rc_progress_report" in _ready(qa, instance["id"])
    # the recall runs to its closure with a report still open: the closure ends the reports
    _acknowledge(world, instance["id"])
    warehouse = Api(world, "warehouse")
    _complete(warehouse, instance["id"], "rc_returns", {"returns": [], "returns_complete": True})
    _complete(Api(world, "regulatory"), instance["id"], "rc_regulator_report", REPORT)
    done = _close(world, instance["id"])
    assert done["status"] == "completed" and done["ready_tasks"] == []
    with world.app_context():
        db.session.expire_all()
        assert db.session.get(ProcessInstance, instance["id"]).next_timer_at is None
        assert run_due(started + timedelta(days=60)) == []


def test_a_drill_has_no_progress_reports(world):
    qa, instance = _initiate(world, drill=True, hhe=HHE_LEVEL2)
    _acknowledge(world, instance["id"])
    with world.app_context():
        assert run_due(utcnow() + timedelta(days=30)) == []
    assert "rc_progress_report" not in _ready(qa, instance["id"])


def instance_data(api, instance):
    return api.get(f"/api/v1/process-instances/{instance['id']}").get_json()["data"]


def test_closure_needs_both_signatures_and_reopening_returns_to_the_returns(world):
    qa, instance = _initiate(world)
    _acknowledge(world, instance["id"])
    warehouse, regulatory = Api(world, "warehouse"), Api(world, "regulatory")
    _complete(warehouse, instance["id"], "rc_returns", {"returns": [], "returns_complete": True})
    _complete(regulatory, instance["id"], "rc_regulator_report", REPORT)
    # the initiator may not sign the QA closure; without the password nothing is signed
    task = _task(qa, instance["id"], "rc_qa_closure")
    refused = qa.post(
        f"/api/v1/tasks/{task['id']}/complete",
        {
            "data": {"qa_closure_decision": "approve", "capa_needed": False, "change_needed": False},
            "signature": {"password": PASSWORD, "meaning": "approved"},
        },
    )
    assert refused.status_code == 403
    unsigned = Api(world, "qa2").post(
        f"/api/v1/tasks/{task['id']}/complete",
        {"data": {"qa_closure_decision": "approve", "capa_needed": False, "change_needed": False}},
    )
    assert unsigned.status_code in (400, 401)
    # QA reopens → returns again
    _complete(
        Api(world, "qa2"),
        instance["id"],
        "rc_qa_closure",
        {
            "qa_closure_decision": "reopen",
            "qa_closure_comments": "PHARM not yet returned",
            "capa_needed": False,
            "change_needed": False,
        },
        "approved",
    )
    assert _ready(qa, instance["id"]) == ["rc_returns"]
    _complete(
        warehouse,
        instance["id"],
        "rc_returns",
        {"returns": [{"customer": "PHARM", "lot": "KIT/K2", "quantity": 10}], "returns_complete": True},
    )
    _complete(regulatory, instance["id"], "rc_regulator_report", REPORT)
    _complete(
        Api(world, "qa2"),
        instance["id"],
        "rc_qa_closure",
        {"qa_closure_decision": "approve", "capa_needed": False, "change_needed": False},
        "approved",
    )
    # Regulatory reopens → returns again; QA approval alone did not close the recall
    _complete(
        regulatory,
        instance["id"],
        "rc_regulatory_closure",
        {"regulatory_closure_decision": "reopen", "regulatory_closure_comments": "summary report missing"},
        "approved",
    )
    assert _ready(qa, instance["id"]) == ["rc_returns"]
    with world.app_context():
        assert _recall(instance["business_key"]).closed_at is None
        assert _recall(instance["business_key"]).reconciliation["returned"] == 10
    _complete(warehouse, instance["id"], "rc_returns", {"returns": [], "returns_complete": True})
    _complete(regulatory, instance["id"], "rc_regulator_report", REPORT)
    done = _close(world, instance["id"])
    assert done["status"] == "completed"
    with world.app_context():
        assert _recall(instance["business_key"]).closed_at is not None


def test_capa_and_change_request_are_opened_by_message(world):
    _qa, instance = _initiate(world, drill=True)
    _acknowledge(world, instance["id"])
    with world.app_context():
        from webapp.models import OutboxMessage

        before = len(db.session.scalars(select(OutboxMessage)).all())
    done = _close(world, instance["id"], capa=True, change=True)
    assert done["status"] == "completed"
    with world.app_context():
        from webapp.models import OutboxMessage

        sent = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[before:]
        assert [m.name for m in sent] == ["open_capa", "open_change_request"]
        for message in sent:
            text = json.dumps(message.event, ensure_ascii=False)
            assert instance["business_key"] in text and "Cracked tubing" in text
        # CAPA and change control start through their message start events with the payload.
        from webapp.models import ProcessInstance

        started = [db.session.get(ProcessInstance, m.delivered_to[0]) for m in sent]
        assert [(i.version.key, i.data["request"]["source"], i.data["request"]["source_ref"]) for i in started] == [
            ("capa", "recall", instance["business_key"]),
            ("change_control", "recall", instance["business_key"]),
        ]
        from webapp.services.queries import instance_tasks

        assert [r.bpmn_id for i in started for r in instance_tasks(i.id) if r.completed_at is None] == [
            "capa_request",
            "submit_request",
        ]


def test_started_by_an_open_recall_message(world):
    """A complaint (a stub process here) throws open_recall; the recall starts through its message
    start event with the payload prefilled."""
    from engine import ProcessBundle
    from tests.conftest import ROOT
    from webapp.services.deployments import deploy_bundle

    with world.app_context():
        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "recall_trigger"))
    qa = Api(world, "qa")
    source = qa.post("/api/v1/process-instances", {"process_key": "recall_trigger"}).get_json()
    _complete(qa, source["id"], "report", {"material": "TUBE", "lot": "T1"})
    with world.app_context():
        from webapp.models import ProcessInstance

        started = db.session.scalars(select(ProcessInstance).where(ProcessInstance.business_key.like("RC%"))).all()
        assert len(started) == 1
        instance_id = started[0].id
    instance = qa.get(f"/api/v1/process-instances/{instance_id}").get_json()
    assert [t["bpmn_id"] for t in instance["ready_tasks"]] == ["rc_initiate"]
    assert instance["data"]["affected_lots"] == [{"lot": "TUBE/T1"}] and instance["data"]["source"] == "complaint"
    assert instance["data"]["source_ref"] == "CMP-42"


DMN_ROWS = [
    ("death_or_serious", "reasonable", 1, "I", 1, 1, "A", 100),
    ("death_or_serious", "remote", 2, "II", 3, 3, "B", 50),
    ("temporary_or_reversible", "reasonable", 2, "II", 3, 3, "B", 50),
    ("temporary_or_reversible", "remote", 2, "II", 3, 3, "B", 50),
    ("unlikely", "reasonable", 3, "III", 7, 7, "C", 10),
    ("unlikely", "remote", 3, "III", 7, 7, "D", 2),
]


def test_every_classification_row(world):
    keys = (
        "recall_level",
        "us_class",
        "notify_days",
        "progress_report_days",
        "effectiveness_level",
        "effectiveness_required_pct",
    )
    for outcome, probability, *expected in DMN_ROWS:
        qa, instance = _initiate(
            world, drill=True, hhe={**HHE_LEVEL1, "worst_outcome": outcome, "probability": probability}
        )
        data = qa.get(f"/api/v1/process-instances/{instance['id']}").get_json()["data"]
        assert [data[k] for k in keys] == expected, (outcome, probability)
        with world.app_context():
            recall = _recall(instance["business_key"])
            assert recall.level == expected[0]
            notice = recall.notices[0]
            assert notice.deadline - notice.generated_at == timedelta(days=expected[2])


def test_unknown_recall_is_404(world):
    assert Api(world, "qa").get("/api/v1/recalls/RC-NOPE").status_code == 404


def test_the_recall_files_validate_without_errors_or_warnings(app):
    from engine import ProcessBundle
    from tests.conftest import ROOT
    from webapp.services.deployments import validate

    files = [
        ROOT / "processes" / "recall" / "recall.bpmn",
        ROOT / "processes" / "recall" / "recall_classification.dmn",
        *sorted((ROOT / "processes" / "recall").glob("rc_*.json")),
    ]
    with app.app_context():
        report = validate(ProcessBundle.from_paths(*files))
    assert report.errors == () and report.warnings == ()
    assert [p.key for p in report.processes] == ["recall"]


def test_the_service_refuses_stock_changes_for_a_drill_and_unscoped_lots(world):
    from webapp.errors import Conflict, InvalidInput
    from webapp.models import ProcessInstance
    from webapp.processes.recall import records as recalls

    _qa_api, instance = _initiate(world, drill=True)
    with world.app_context():
        row = db.session.get(ProcessInstance, instance["id"])
        before = table_snapshot()
        with pytest.raises(Conflict):
            recalls.hold(user("qa"), row, "try anyway")
        with pytest.raises(Conflict):
            recalls.book_returns(user("qa"), row, [{"customer": "HOSP", "lot": "KIT/K1", "quantity": 1}])
        with pytest.raises(InvalidInput):
            recalls.issue_notice(user("qa"), row, "DIST-EXP", 3)
        db.session.rollback()
        after = table_snapshot()
        for table in ERP_TABLES + ("recalls", "recall_notices"):
            assert after[table] == before[table], table
