"""Lots: creation (receipt, production or subcontract origin), dates, release and status changes."""

from datetime import timedelta

from sqlalchemy import select

from ...errors import Conflict
from ...extensions import db
from ...models import Lot, Movement, TemperatureRecord
from ...models._types import utcnow
from ...models.erp_items import LOT_ORIGINS, LOT_STATUSES
from .. import audit
from ..uow import transaction
from .common import find_lot, reason_required, refusals_audited, require, snapshot
from .guards import check_release, check_status_change
from .records import update_record, void_record

LOT_FIELDS = ("lot_number", "manufactured_on", "expires_on", "status", "origin", "origin_reference")


def lot_label(lot):
    """MATERIAL/LOT, how people name a lot."""
    return f"{lot.material.code}/{lot.lot_number}"


def default_expiry(material, manufactured_on):
    """Manufacturing date plus the material's shelf life, when both are known."""
    if manufactured_on and material.shelf_life_days:
        return manufactured_on + timedelta(days=material.shelf_life_days)
    return None


def new_lot(
    session,
    actor,
    material,
    lot_number,
    *,
    origin,
    manufactured_on=None,
    expires_on=None,
    supplier=None,
    origin_reference=None,
):
    """Add a quarantined lot inside the caller's transaction and audit its creation."""
    require((lot_number or "").strip(), "lot", "a lot number is required")
    require(material.tracking != "none", "lot", f"{material.code} is not lot-tracked")
    require(origin in LOT_ORIGINS, "origin", f"must be one of {', '.join(LOT_ORIGINS)}")
    require(find_lot(material, lot_number) is None, "lot", f"lot {lot_number} of {material.code} exists")
    expires_on = expires_on or default_expiry(material, manufactured_on)
    if manufactured_on and expires_on:
        require(manufactured_on <= expires_on, "expires_on", "must not be before manufactured_on")
    lot = Lot(
        material_id=material.id,
        lot_number=lot_number.strip(),
        manufactured_on=manufactured_on,
        expires_on=expires_on,
        status="quarantine",
        origin=origin,
        origin_reference=origin_reference,
        supplier_id=getattr(supplier, "id", None),
    )
    session.add(lot)
    session.flush()
    audit.record(
        actor,
        "lot.create",
        "lot",
        lot.id,
        after={"material": material.code, **snapshot(lot, LOT_FIELDS), "supplier": getattr(supplier, "code", None)},
    )
    return lot


def create_lot(actor, material, lot_number, origin="production", **dates):
    """Create a lot (status quarantine) for production or subcontract output."""
    with transaction() as session:
        lot = new_lot(session, actor, material, lot_number, origin=origin, **dates)
    return lot


def update_lot_dates(actor, lot, changes, reason):
    """Correct a lot's manufacturing or expiry date, with a reason."""
    require(set(changes) <= {"manufactured_on", "expires_on"}, "lot", "only dates change this way")
    merged = {"manufactured_on": lot.manufactured_on, "expires_on": lot.expires_on, **changes}
    if merged["manufactured_on"] and merged["expires_on"]:
        require(merged["manufactured_on"] <= merged["expires_on"], "expires_on", "must not be before manufactured_on")
    return update_record(actor, lot, "lot", changes, LOT_FIELDS, reason)


def release_lot(actor, lot, reason):
    """Release a lot from quarantine (or hold): the only way a lot becomes usable and shippable."""
    reason = reason_required(reason)
    with refusals_audited(actor, "lot.release", "lot", lot.id), transaction():
        check_release(lot)
        before = lot.status
        lot.status, lot.updated_at = "released", utcnow()
        audit.record(
            actor,
            "lot.release",
            "lot",
            lot.id,
            before={"status": before},
            after={"status": "released", "lot": lot_label(lot)},
            reason=reason,
        )
    return lot


def change_lot_status(actor, lot, status, reason):
    """Put a lot on hold, back to quarantine, rejected or recalled, with a reason (never released)."""
    reason = reason_required(reason)
    require(status in LOT_STATUSES, "status", f"must be one of {', '.join(LOT_STATUSES)}")
    with refusals_audited(actor, "lot.status", "lot", lot.id), transaction():
        check_status_change(lot, status)
        set_status(actor, lot, status, reason)
    return lot


def set_status(actor, lot, status, reason, rule=None):
    """Change the status inside the caller's transaction and audit it (`rule` when a rule did it)."""
    before = lot.status
    lot.status, lot.updated_at = status, utcnow()
    audit.record(
        actor,
        f"lot.{status}",
        "lot",
        lot.id,
        before={"status": before},
        after={"status": status, "lot": lot_label(lot), **({"rule": rule} if rule else {})},
        reason=reason,
    )


def void_lot(actor, lot, reason):
    """Void a lot created in error; a lot with movements stays (correct those by reversal)."""

    def unused(record):
        if db.session.scalar(select(Movement.id).where(Movement.lot_id == record.id).limit(1)):
            raise Conflict("the lot has movements; reverse them instead of voiding the lot")

    return void_record(actor, lot, "lot", reason, check=unused)


def lot_movements(lot, limit=500):
    """The ledger of one lot, oldest first."""
    return db.session.scalars(
        select(Movement).where(Movement.lot_id == lot.id).order_by(Movement.moved_at, Movement.id).limit(limit)
    ).all()


def temperature_records(lot):
    """The cold-chain records of the lot's receipts, oldest first: (movement, record) pairs."""
    return db.session.execute(
        select(Movement, TemperatureRecord)
        .join(TemperatureRecord, TemperatureRecord.movement_id == Movement.id)
        .where(Movement.lot_id == lot.id)
        .order_by(Movement.moved_at, Movement.id)
    ).all()
