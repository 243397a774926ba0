"""The complaint's checks of its task forms beyond JSON Schema (services/task_checks.py): the intake
(awareness not in the future, the device given or scanned, the lot of the product and shipped, a
related complaint that is closed) and a late regulator report's reason."""

from datetime import datetime

from sqlalchemy import func, select

from ...extensions import db
from ...models import Material, Movement, Serial
from ...models._types import utcnow
from ...services.erp.common import business_date
from ...services.erp.stock import not_reversed
from ...services.erp.udi import parse_udi
from .models import Complaint, ComplaintReport
from .records import _as_date, _lot, awareness_moment


def _shipped(lot_id=None, serial_id=None):
    query = select(func.count(Movement.id)).where(Movement.type == "shipment", not_reversed(Movement))
    query = (
        query.where(Movement.serial_id == serial_id)
        if serial_id is not None
        else query.where(Movement.lot_id == lot_id)
    )
    return (db.session.scalar(query) or 0) > 0


def _clock(text):
    """True for an HH:MM time of day."""
    try:
        datetime.strptime(str(text or ""), "%H:%M")
    except ValueError:
        return False
    return True


def device_from(data):
    """(product, lot, serial) of an intake, a scanned GS1 UDI filling what was left empty; the parsed
    UDI (None when there is none) or the message of a UDI that does not parse."""
    product, number = str(data.get("product") or "").strip(), str(data.get("lot") or "").strip()
    serial, udi = str(data.get("serial") or "").strip(), str(data.get("udi") or "").strip()
    if not udi:
        return (product, number, serial), None
    try:
        parsed = parse_udi(udi)
    except Exception:  # the UDI service's own refusal: a field error here
        return (product, number, serial), "not a valid GS1 UDI"
    if not product and parsed.get("gtin"):
        material = db.session.scalar(select(Material).where(Material.gtin == parsed["gtin"]))
        product = material.code if material is not None else ""
    return (product, number or parsed.get("lot") or "", serial or parsed.get("serial") or ""), parsed


def intake_errors(data):
    """Field errors of the intake beyond its schema: the awareness date (and time) not in the future,
    the product and lot given or scanned, the lot of the product, the lot (or the serial) shipped, a
    scanned UDI that names the same device, a related complaint that exists and is closed."""
    errors = {}
    day = _as_date(data.get("awareness_date"))
    if day is not None and day > business_date():
        errors["awareness_date"] = "must not be in the future"
    elif (
        day is not None
        and _clock(data.get("awareness_time"))
        and awareness_moment(day, data["awareness_time"]) > utcnow()
    ):
        errors["awareness_time"] = "must not be later than now"
    (product, number, serial_text), parsed = device_from(data)
    if isinstance(parsed, str):
        errors["udi"] = parsed
    for field, value in (("product", product), ("lot", number)):
        if not value:
            errors[field] = "required"
    material = db.session.scalar(select(Material).where(Material.code == product)) if product else None
    lot = _lot(product, number) if material is not None and number else None
    if material is not None and number and lot is None:
        errors["lot"] = "this lot does not belong to the product"
    if lot is not None and serial_text:
        serial = db.session.scalar(select(Serial).where(Serial.lot_id == lot.id, Serial.serial == serial_text))
        if serial is None:
            errors["serial"] = "no such serial number in this lot"
        elif not _shipped(serial_id=serial.id):
            errors["serial"] = "this serial number was never shipped"
    elif lot is not None and not _shipped(lot_id=lot.id):
        errors["lot"] = "this lot was never shipped"
    if isinstance(parsed, dict) and material is not None:
        if parsed.get("gtin") and parsed["gtin"] != material.gtin:
            errors["udi"] = "the UDI names another product"
        elif parsed.get("lot") and parsed["lot"] != number:
            errors["udi"] = "the UDI names another lot"
    related = str(data.get("related_complaint") or "").strip()
    if related:
        earlier = db.session.scalar(select(Complaint).where(Complaint.business_key == related))
        if earlier is None or earlier.status == "open":
            errors["related_complaint"] = "no closed complaint with this number"
    return errors


def report_errors(data, task_data):
    """A report submitted after its deadline needs the reason for the lateness."""
    report_id = (task_data.get("report") or {}).get("id")
    report = db.session.get(ComplaintReport, report_id) if report_id else None
    if report is not None and utcnow() > report.due_at and not str(data.get("lateness_reason") or "").strip():
        return {"lateness_reason": "required: the report is late"}
    return {}


def intake(submitted, task_data, instance):
    """The intake's record and time checks."""
    return intake_errors(submitted)


def regulator_report(submitted, task_data, instance):
    """A late report needs the reason."""
    return report_errors(submitted, task_data)


CHECKS = {
    "cp_intake": intake,
    "regulator_reports_task": regulator_report,
    "added_reports_sub_task": regulator_report,
}
