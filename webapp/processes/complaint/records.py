"""Complaints: the record of one complaint process instance and its regulator reports, kept by the
complaint's service tasks (operations.py) inside the transaction that drives the instance, each
change audited.

- register: the intake; the markets are those of the customers the lot reached (the forward trace,
  services/erp/trace.py; customer → market in rules/complaint.json), and the report fields the data
  can fill (manufacturer, device, UDI-DI, lot, quantity shipped).
- plan_reports: one report per market and rule the reportability tables require, never twice; the
  deadline counts from the awareness time (hours, calendar days or work days), the reminders fall at
  50% and 80% of it. A re-assessment only adds reports; none is removed.
- escalate_report: the reminder or overdue mark of one stage, set once; the QA manager and
  Regulatory are told.
- submit_report: the signed submission (report number, date, who); late when after the deadline,
  with the reason.
(The changes themselves are in steps.py, the intake and report checks in checks.py.)
"""

import json
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ...errors import Conflict, NotFound
from ...extensions import db
from ...models import Lot, Material, Movement, OutboxMessage, ProcessInstance, ProcessVersion
from ...models._types import utcnow
from ...services.erp import trace
from ...services.erp.stock import not_reversed
from .models import Complaint, ComplaintReport

MARKETS = {
    "CN": ("中国 NMPA", "China (NMPA)"),
    "US": ("美国 FDA", "United States (FDA)"),
    "EU": ("欧盟", "European Union"),
}
REPORT_FORMS = {
    "nmpa_mdr": ("可疑医疗器械不良事件报告表", "NMPA suspected adverse event report"),
    "nmpa_group": ("群体医疗器械不良事件报告表", "NMPA group adverse event report"),
    "fda_3500a": ("FDA 3500A", "FDA Form 3500A"),
    "eu_mir": ("EU MIR 制造商事件报告", "EU Manufacturer Incident Report (MIR)"),
}
UNITS = {"hours": ("小时", "hours"), "days": ("日", "calendar days"), "work_days": ("个工作日", "work days")}


# ---------------------------------------------------------------- rules and time


@lru_cache(maxsize=4)
def _load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def rules():
    """rules/complaint.json: manufacturer, markets per customer, trend thresholds."""
    return _load(str(Path(current_app.config["RULES_DIR"]) / "complaint.json"))


def market_of(customer_code):
    """The market (CN/US/EU) of a customer, per rules/complaint.json."""
    markets = rules()["markets"]
    return markets.get("customers", {}).get(customer_code, markets["default"])


def _zone():
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


def awareness_moment(day, clock=""):
    """The awareness date (and time, HH:MM, default the start of the day) in the business time zone, as UTC."""
    hours, _, minutes = (clock or "00:00").partition(":")
    local = datetime.combine(day, time(int(hours), int(minutes)), tzinfo=_zone())
    return local.astimezone(UTC)


def deadline(start, period, unit):
    """`start` plus `period` hours, calendar days or work days (Monday–Friday, business time zone)."""
    if unit == "hours":
        return start + timedelta(hours=period)
    if unit == "days":
        return start + timedelta(days=period)
    local, left = start.astimezone(_zone()), period
    while left > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            left -= 1
    return local.astimezone(UTC)


def _iso(value):
    return value.isoformat() if value is not None else None


def _local(value):
    return value.astimezone(_zone()).strftime("%Y-%m-%d %H:%M") if value is not None else None


def _as_date(text):
    try:
        return datetime.strptime(str(text), "%Y-%m-%d").date()
    except ValueError:
        return None


# ---------------------------------------------------------------- lookups and views


def _lot(material_code, lot_number):
    return db.session.scalar(
        select(Lot)
        .join(Material, Material.id == Lot.material_id)
        .where(Material.code == material_code, Lot.lot_number == lot_number)
    )


def get_complaint(business_key):
    """The complaint with `business_key`; NotFound otherwise."""
    complaint = db.session.scalar(select(Complaint).where(Complaint.business_key == business_key))
    if complaint is None:
        raise NotFound(f"no complaint {business_key}")
    return complaint


def complaint_of(instance):
    """The complaint row of a process instance; Conflict before the intake was registered."""
    complaint = db.session.scalar(select(Complaint).where(Complaint.instance_id == instance.id))
    if complaint is None:
        raise Conflict(f"{instance.business_key} has no complaint record yet")
    return complaint


def report_state(report, now=None):
    """submitted / overdue / escalated / open."""
    now = now or utcnow()
    if report.submitted_at is not None:
        return "submitted"
    if report.overdue_at is not None or now > report.due_at:
        return "overdue"
    if report.escalated_50_at or report.escalated_80_at:
        return "escalated"
    return "open"


def report_view(report):
    """A regulator report as plain data (API, page, CSV)."""
    return {
        "id": report.id,
        "complaint": report.complaint.business_key,
        "market": report.market,
        "rule": report.rule,
        "report_form": report.report_form,
        "period": report.period,
        "unit": report.unit,
        "planned_at": _iso(report.planned_at),
        "due_at": _iso(report.due_at),
        "escalate_50_at": _iso(report.escalate_50_at),
        "escalate_80_at": _iso(report.escalate_80_at),
        "escalated_50_at": _iso(report.escalated_50_at),
        "escalated_80_at": _iso(report.escalated_80_at),
        "overdue_at": _iso(report.overdue_at),
        "started_at": _iso(report.started_at),
        "submitted_at": _iso(report.submitted_at),
        "submitted_by": report.submitted_by,
        "report_number": report.report_number,
        "report_date": report.report_date,
        "late": report.late,
        "lateness_reason": report.lateness_reason,
        "content": report.content or {},
        "state": report_state(report),
    }


def links(complaint):
    """The CAPAs and recalls this complaint's messages started: [{process, business_key, instance_id}]."""
    found = []
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.source_instance_id == complaint.instance_id,
            OutboxMessage.name.in_(("open_capa", "open_recall")),
        )
        .order_by(OutboxMessage.id)
    ).all()
    for message in rows:
        for instance_id in message.delivered_to or []:
            instance = db.session.get(ProcessInstance, instance_id)
            if instance is not None:
                found.append(
                    {"process": instance.version.key, "business_key": instance.business_key, "instance_id": instance.id}
                )
        if not message.delivered_to:
            found.append({"process": message.name, "business_key": None, "instance_id": None})
    return found


def complaint_view(complaint):
    """The complaint as plain data: what GET /api/v1/complaints/<business_key> returns."""
    return {
        "business_key": complaint.business_key,
        "instance_id": complaint.instance_id,
        "channel": complaint.channel,
        "received_by": complaint.received_by,
        "awareness_at": _iso(complaint.awareness_at),
        "customer": complaint.customer_code,
        "material": complaint.material_code,
        "lot": complaint.lot_number,
        "serial": complaint.serial,
        "udi": complaint.udi,
        "description": complaint.description,
        "patient_involved": complaint.patient_involved,
        "outcome": complaint.outcome,
        "device_available": complaint.device_available,
        "attachment_ref": complaint.attachment_ref,
        "related_complaint": complaint.related_complaint,
        "markets": complaint.markets or [],
        "failure_code": complaint.failure_code,
        "is_complaint": complaint.is_complaint,
        "reportable": complaint.reportable,
        "overdue": any(report_state(r) == "overdue" for r in complaint.reports),
        "assessment": complaint.assessment or {},
        "trend": complaint.trend or {},
        "investigation": complaint.investigation or {},
        "response": complaint.response or {},
        "status": complaint.status,
        "closed_at": _iso(complaint.closed_at),
        "closed_by": complaint.closed_by,
        "reports": [report_view(r) for r in complaint.reports],
        "links": links(complaint),
    }


def list_complaints(product=None, lot=None, status=None, reportable=None, overdue=None, limit=500):
    """Complaints, newest first, filtered by product, lot, status, reportable and overdue."""
    query = select(Complaint).order_by(Complaint.id.desc()).limit(limit)
    if product:
        query = query.where(Complaint.material_code == product)
    if lot:
        query = query.where(Complaint.lot_number == lot)
    if status:
        query = query.where(Complaint.status == status)
    if reportable is not None:
        query = query.where(Complaint.reportable.is_(bool(reportable)))
    rows = db.session.scalars(query).all()
    if overdue is not None:
        rows = [c for c in rows if any(report_state(r) == "overdue" for r in c.reports) == bool(overdue)]
    return rows


def related(complaint):
    """Other complaints on this lot, and on lots made from the same component lots (the backward
    trace's components, traced forward again)."""
    same_lot = db.session.scalars(
        select(Complaint).where(
            Complaint.material_code == complaint.material_code,
            Complaint.lot_number == complaint.lot_number,
            Complaint.id != complaint.id,
        )
    ).all()
    siblings = set()
    try:
        components = trace.trace(complaint.material_code, complaint.lot_number, "backward").as_dict()["lots"]
        for component in components:
            for row in trace.trace(component["material"], component["lot"], "forward").as_dict()["lots"]:
                siblings.add((row["material"], row["lot"]))
    except NotFound:
        components = []
    siblings.discard((complaint.material_code, complaint.lot_number))
    via = [
        c
        for c in db.session.scalars(select(Complaint).where(Complaint.id != complaint.id)).all()
        if (c.material_code, c.lot_number) in siblings
    ]
    return {
        "same_lot": [c.business_key for c in same_lot],
        "components": [f"{c['material']}/{c['lot']}" for c in components],
        "same_component": [f"{c.business_key} ({c.material_code}/{c.lot_number})" for c in via],
    }


def get_report(report_id, business_key=None):
    """The regulator report `report_id` (of complaint `business_key` when given); NotFound otherwise."""
    report = db.session.get(ComplaintReport, report_id)
    if report is None or (business_key is not None and report.complaint.business_key != business_key):
        raise NotFound(f"no regulator report {report_id}")
    return report


def device_history(complaint):
    """The lot's subcontract records, linked for the investigation: the subcontract release instances
    of the lot and its movements to and from subcontractors (reference, supplier, date)."""
    lot = _lot(complaint.material_code, complaint.lot_number)
    if lot is None:
        return {"releases": [], "movements": []}
    name = f"{complaint.material_code}/{complaint.lot_number}"
    releases = [
        {"business_key": i.business_key, "instance_id": i.id, "status": i.status}
        for i in db.session.scalars(
            select(ProcessInstance).join(ProcessInstance.version).where(ProcessVersion.key == "subcontract_release")
        ).all()
        if (i.data or {}).get("lot") == name
    ]
    movements = [
        {
            "type": m.type,
            "reference": m.reference or "",
            "supplier": m.supplier.code if m.supplier else "",
            "at": _iso(m.moved_at),
        }
        for m in db.session.scalars(
            select(Movement)
            .where(
                Movement.lot_id == lot.id,
                Movement.type.in_(("to_subcontractor", "from_subcontractor")),
                not_reversed(Movement),
            )
            .order_by(Movement.moved_at)
        ).all()
    ]
    return {"releases": releases, "movements": movements}


CSV_COLUMNS = (
    "business_key",
    "status",
    "channel",
    "awareness_at",
    "customer",
    "material",
    "lot",
    "serial",
    "outcome",
    "failure_code",
    "markets",
    "reportable",
    "overdue",
    "reports",
    "links",
)


def csv_rows(complaints):
    """One row per complaint (reports as `market rule state due`), for the CSV export."""
    yield CSV_COLUMNS
    for complaint in complaints:
        view = complaint_view(complaint)
        yield (
            *(view[k] for k in CSV_COLUMNS[:10]),
            " ".join(view["markets"]),
            view["reportable"],
            view["overdue"],
            "; ".join(f"{r['market']} {r['rule']} {r['state']} {r['due_at']}" for r in view["reports"]),
            " ".join(link["business_key"] or link["process"] for link in view["links"]),
        )


REPORT_COLUMNS = (
    "complaint",
    "market",
    "rule",
    "report_form",
    "due_at",
    "state",
    "escalated_50_at",
    "escalated_80_at",
    "overdue_at",
    "submitted_at",
    "submitted_by",
    "report_number",
    "report_date",
    "late",
    "lateness_reason",
)


def report_csv_rows(reports):
    """One row per regulator report with its deadline and state, for the CSV export."""
    yield REPORT_COLUMNS
    for report in reports:
        view = report_view(report)
        yield tuple(view[k] for k in REPORT_COLUMNS)


def all_reports(open_only=False):
    """Regulator reports, earliest deadline first (only those not yet submitted when `open_only`)."""
    query = select(ComplaintReport).order_by(ComplaintReport.due_at, ComplaintReport.id)
    if open_only:
        query = query.where(ComplaintReport.submitted_at.is_(None))
    return db.session.scalars(query).all()
