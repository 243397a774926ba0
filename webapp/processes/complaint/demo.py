"""The complaints of DOMAIN.md's demo scenario, entered through the same services as the task inbox:

- a serious injury on catheter kit lot K-26111, which also reached a US distributor: the China
  (20 days) and US (30 days) report deadlines are running;
- a BP monitor malfunction with no harm: no report, in investigation;
- open pouch seals on kit lot K-26110 from both hospitals: with the serious injury (also an open
  seal) the third such complaint in 30 days reaches the trend threshold and opens QA's trend task.
Called by webapp/demo_processes.py once, when no complaint exists."""

from datetime import timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import Customer, User
from ...services import instances, queries, tasks
from ...services.erp import parties, shipments
from ...services.erp.common import business_date

FLAGS = {
    "is_complaint": True,
    "failure_code": "seal_open",
    "group_event": False,
    "remedial_action": False,
    "fda_request": False,
    "public_health_threat": False,
    "unanticipated": False,
}


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _step(username, instance, bpmn_id, data):
    user = _user(username)
    [row] = [t for t in queries.open_tasks(user, process_instance_id=instance.id) if t.bpmn_id == bpmn_id]
    return tasks.complete_task(user, row.task_id, data)


def _us_distributor():
    """The US distributor (market US in rules/complaint.json) and five kits of K-26111 shipped to it."""
    if db.session.scalar(select(Customer).where(Customer.code == "US-DIST")) is not None:
        return
    qa, sales = _user("qa"), _user("sales")
    parties.create_customer(
        qa,
        {
            "code": "US-DIST",
            "name": "Boston Medical Supply Inc.",
            "license_number": "FDA-EST-3001234567",
            "license_valid_until": business_date() + timedelta(days=400),
            "licensed_scope": ["II", "III"],
            "address": "Boston, MA, USA",
        },
    )
    line = {"material": "CK-100", "lot": "K-26111", "quantity": 5, "from_location": "WH-A"}
    shipments.ship(sales, shipments.create_shipment(sales, "US-DIST", [line]))


def _complaint(days_ago, intake, assessment):
    qa = _user("qa")
    instance = instances.start_instance(qa, "complaint")
    day = business_date() - timedelta(days=days_ago)
    _step("qa", instance, "cp_intake", {"channel": "hospital", "awareness_date": day.isoformat(), **intake})
    _step("qa", instance, "cp_assessment", {**FLAGS, **assessment})
    return instance


def load_demo():
    """Enter the demo complaints (the ERP demo's lots and customers must exist)."""
    _us_distributor()
    _complaint(
        3,
        {
            "customer": "HOSP-A",
            "product": "CK-100",
            "lot": "K-26111",
            "event_description": "术中发现包装袋封口开裂,导管污染导致患者感染。Open pouch seal found during surgery; "
            "the contaminated catheter led to a patient infection.",
            "patient_involved": True,
            "outcome": "serious_injury",
            "device_available": True,
        },
        {"assessment_notes": "严重伤害,须向 NMPA 和 FDA 报告。Serious injury: report to NMPA and FDA."},
    )
    _complaint(
        2,
        {
            "channel": "service",
            "customer": "HOSP-B",
            "product": "BPM-200",
            "lot": "B-2611",
            "serial": "BPM26110001",
            "event_description": "血压计偶尔显示错误代码 E3,重启后正常。The monitor sometimes shows error E3 and "
            "works after a restart.",
            "patient_involved": False,
            "outcome": "no_harm",
            "device_available": True,
        },
        {"failure_code": "electrical"},
    )
    for days_ago, customer in ((5, "HOSP-A"), (1, "HOSP-B")):
        _complaint(
            days_ago,
            {
                "customer": customer,
                "product": "CK-100",
                "lot": "K-26110",
                "event_description": "使用前发现包装袋封口开裂。Pouch seal found open before use.",
                "patient_involved": False,
                "outcome": "no_harm",
                "device_available": True,
            },
            {},
        )
