"""Helpers the ERP services share: business dates, lookups by code, audit snapshots, refusals."""

from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ...errors import GuardRefused, InvalidInput, NotFound
from ...extensions import db
from ...models import Customer, Location, Lot, Material, Supplier
from ...models._types import utcnow
from ..refusals import audit_refusal

_BY_CODE = {"material": Material, "supplier": Supplier, "customer": Customer, "location": Location}


def business_date(at=None):
    """The calendar date (in the configured business time zone) of `at`, default now."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    return (at or utcnow()).astimezone(zone).date()


def by_code(kind, code, field=None, allow_voided=False):
    """The material/supplier/customer/location with `code`; InvalidInput (naming `field`) or NotFound."""
    model = _BY_CODE[kind]
    record = db.session.scalar(select(model).where(model.code == (code or "")))
    if record is None or (record.voided and not allow_voided):
        message = f"no {kind} {code}" if record is None else f"{kind} {code} is voided"
        if field:
            raise InvalidInput(message, {field: message})
        raise NotFound(message)
    return record


def find_lot(material, lot_number):
    """The lot `lot_number` of `material` (a Material), or None."""
    return db.session.scalar(select(Lot).where(Lot.material_id == material.id, Lot.lot_number == lot_number))


def lot_by_codes(material_code, lot_number):
    """The lot `lot_number` of the material with `material_code`; InvalidInput naming the field otherwise."""
    lot = find_lot(by_code("material", material_code, "material"), lot_number)
    if lot is None:
        raise InvalidInput(f"no lot {lot_number} of {material_code}", {"lot": "unknown"})
    return lot


def get_lot(lot_id):
    """The lot with `lot_id`; NotFound otherwise."""
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"no lot {lot_id}")
    return lot


def plain(value):
    """A JSON-friendly audit value (dates as ISO strings)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def snapshot(record, fields):
    """The audited view of `record`: {field: value} for `fields`."""
    return {f: plain(getattr(record, f)) for f in fields}


def require(condition, field, message):
    """Raise InvalidInput with a per-field message unless `condition` holds."""
    if not condition:
        raise InvalidInput(message, {field: message})


def reason_required(reason):
    """The stripped reason; InvalidInput when it is empty (GxP edits need a reason)."""
    text = (reason or "").strip()
    require(text, "reason", "a reason is required")
    return text


@contextmanager
def refusals_audited(actor, action, entity_type, entity_id):
    """Audit a GuardRefused raised inside the block in its own transaction, then re-raise it."""
    try:
        yield
    except GuardRefused as exc:
        audit_refusal(actor, f"{action}.refused", entity_type, entity_id, exc.message)
        raise
