"""The append-only inventory ledger: posting movements, reversing them, and the structural rules
(which locations and parties each movement type needs) that services and imports share."""

from sqlalchemy import select

from ...errors import Conflict, InvalidInput, NotFound
from ...extensions import db
from ...models import Lot, Material, Movement, Serial
from ...models._types import MAX_INT, utcnow
from ...models.erp_ledger import MOVEMENT_TYPES
from .. import audit
from ..uow import transaction
from .common import by_code, find_lot, reason_required, refusals_audited, snapshot
from .guards import check_quarantine_exit
from .stock import quantity_at, serial_on_hand

# movement type → (from location, to location, other fields required); "one" = exactly one of from/to.
STRUCTURE = {
    "receipt": ("no", "yes", ("supplier",)),
    "consumption": ("yes", "no", ("reference",)),
    "output": ("no", "yes", ("reference",)),
    "transfer": ("yes", "yes", ()),
    "to_subcontractor": ("yes", "yes", ("reference",)),
    "from_subcontractor": ("yes", "yes", ("reference",)),
    "shipment": ("yes", "no", ("customer",)),
    "return": ("no", "yes", ("customer",)),
    "scrap": ("yes", "no", ()),
    "adjustment": ("one", "one", ()),
}
SUBCONTRACT_SIDE = {"to_subcontractor": "to_location", "from_subcontractor": "from_location"}
INBOUND = ("receipt", "output", "return")
MOVEMENT_FIELDS = ("type", "moved_at", "quantity", "reference", "reason", "reverses_id")


def structure_errors(type_, *, from_kind, to_kind, customer, supplier, reference, tracking, lot, serial, quantity):
    """{field: reason} for a movement that does not fit its type or its material's tracking."""
    if type_ not in STRUCTURE:
        return {"type": f"must be one of {', '.join(MOVEMENT_TYPES)}"}
    from_rule, to_rule, needed = STRUCTURE[type_]
    errors = {}
    if from_rule == "one":
        if (from_kind is None) == (to_kind is None):
            errors["from_location"] = "an adjustment has exactly one of from_location and to_location"
    else:
        for field, rule, kind in (("from_location", from_rule, from_kind), ("to_location", to_rule, to_kind)):
            if rule == "yes" and kind is None:
                errors[field] = f"required for a {type_}"
            elif rule == "no" and kind is not None:
                errors[field] = f"must be empty for a {type_}"
    side = SUBCONTRACT_SIDE.get(type_)
    if side and {"from_location": from_kind, "to_location": to_kind}[side] not in (None, "subcontractor"):
        errors[side] = "must be a subcontractor location"
    for field, value in (("customer", customer), ("supplier", supplier), ("reference", reference)):
        if field in needed and not value:
            errors[field] = f"required for a {type_}"
    errors.update(_tracking_errors(tracking, lot, serial, quantity))
    return errors


def _tracking_errors(tracking, lot, serial, quantity):
    errors = {}
    if not isinstance(quantity, int) or quantity <= 0:
        errors["quantity"] = "must be a positive whole number"
    elif quantity > MAX_INT:
        errors["quantity"] = f"must be at most {MAX_INT}"
    if tracking in ("lot", "serial") and not lot:
        errors["lot"] = f"required: the material is {tracking}-tracked"
    if tracking == "none" and lot:
        errors["lot"] = "must be empty: the material is not lot-tracked"
    if tracking == "serial" and not serial:
        errors["serial"] = "required: the material is serialized"
    if tracking != "serial" and serial:
        errors["serial"] = "must be empty: the material is not serialized"
    if tracking == "serial" and quantity != 1 and "quantity" not in errors:
        errors["quantity"] = "must be 1 for a serial number"
    return errors


def resolve_serial(material, lot, number, create):
    """The Serial `number` of `material`, bound to `lot`; created when `create` and new."""
    if not number:
        return None
    serial = db.session.scalar(select(Serial).where(Serial.material_id == material.id, Serial.serial == number))
    if serial is None:
        if not create:
            raise InvalidInput(f"no serial {number} of {material.code}", {"serial": "unknown"})
        serial = Serial(material_id=material.id, lot_id=lot.id, serial=number)
        db.session.add(serial)
        db.session.flush()
    elif serial.lot_id != lot.id:
        raise InvalidInput(f"serial {number} belongs to lot {serial.lot.lot_number}", {"serial": "in another lot"})
    return serial


def post(
    session,
    actor,
    type_,
    material,
    quantity,
    *,
    lot=None,
    serial=None,
    from_location=None,
    to_location=None,
    customer=None,
    supplier=None,
    reference=None,
    reason=None,
    moved_at=None,
    shipment_id=None,
):
    """Check and add one movement inside the caller's transaction (no audit: the caller audits)."""
    errors = structure_errors(
        type_,
        from_kind=getattr(from_location, "kind", None),
        to_kind=getattr(to_location, "kind", None),
        customer=customer,
        supplier=supplier,
        reference=reference,
        tracking=material.tracking,
        lot=lot,
        serial=serial,
        quantity=quantity,
    )
    if from_location is not None and to_location is not None and from_location.id == to_location.id:
        errors["to_location"] = "must differ from from_location"
    if errors:
        raise InvalidInput(f"the {type_} movement is invalid", errors)
    _lock(session, material, lot)
    if from_location is not None:
        check_quarantine_exit(lot, from_location, to_location)
        available = quantity_at(from_location, material, lot, serial)
        if available < quantity:
            raise InvalidInput(
                f"only {available} {material.unit} of {material.code} {lot.lot_number if lot else ''} "
                f"at {from_location.code}",
                {"quantity": f"only {available} available"},
            )
    if type_ in INBOUND and serial is not None and serial_on_hand(serial) > 0:
        raise InvalidInput(f"serial {serial.serial} is already in stock", {"serial": "already in stock"})
    movement = Movement(
        type=type_,
        moved_at=moved_at or utcnow(),
        material_id=material.id,
        lot_id=getattr(lot, "id", None),
        serial_id=getattr(serial, "id", None),
        quantity=quantity,
        from_location_id=getattr(from_location, "id", None),
        to_location_id=getattr(to_location, "id", None),
        customer_id=getattr(customer, "id", None),
        supplier_id=getattr(supplier, "id", None),
        reference=reference or None,
        reason=reason or None,
        shipment_id=shipment_id,
        user_id=getattr(actor, "id", None),
    )
    session.add(movement)
    session.flush()
    return movement


def _lock(session, material, lot):
    """Serialize concurrent writers of the same lot (or untracked material) before reading its stock."""
    if lot is not None:
        session.execute(select(Lot.id).where(Lot.id == lot.id).with_for_update())
    else:
        session.execute(select(Material.id).where(Material.id == material.id).with_for_update())


def movement_view(movement):
    """The audited view of a movement: its fields with codes instead of ids."""
    return {
        **snapshot(movement, MOVEMENT_FIELDS),
        "material": movement.material.code,
        "lot": movement.lot.lot_number if movement.lot else None,
        "serial": movement.serial.serial if movement.serial else None,
        "from_location": movement.from_location.code if movement.from_location else None,
        "to_location": movement.to_location.code if movement.to_location else None,
        "customer": movement.customer.code if movement.customer else None,
        "supplier": movement.supplier.code if movement.supplier else None,
    }


def record_movement(actor, values):
    """Post a consumption, output, transfer, subcontract, return, scrap or adjustment movement.

    `values` names records by code: material, lot, serial, from_location, to_location, customer, supplier."""
    type_ = values.get("type")
    if type_ in ("receipt", "shipment"):
        raise InvalidInput(f"a {type_} is recorded through the {type_}s service", {"type": "not allowed here"})
    if type_ == "adjustment":
        values = {**values, "reason": reason_required(values.get("reason"))}
    with refusals_audited(actor, "movement", "material", values.get("material") or ""), transaction() as session:
        refs = _resolve(values)
        movement = post(
            session,
            actor,
            type_,
            refs["material"],
            values.get("quantity"),
            lot=refs["lot"],
            serial=refs["serial"],
            from_location=refs["from_location"],
            to_location=refs["to_location"],
            customer=refs["customer"],
            supplier=refs["supplier"],
            reference=values.get("reference"),
            reason=values.get("reason"),
            moved_at=values.get("moved_at"),
        )
        audit.record(
            actor,
            "movement.create",
            "movement",
            movement.id,
            after=movement_view(movement),
            reason=values.get("reason"),
        )
    return movement


def _resolve(values):
    """Records named in `values` by code; per-field InvalidInput for unknown ones."""
    material = by_code("material", values.get("material"), "material")
    refs = {"material": material}
    for field, kind in (
        ("from_location", "location"),
        ("to_location", "location"),
        ("customer", "customer"),
        ("supplier", "supplier"),
    ):
        refs[field] = by_code(kind, values[field], field) if values.get(field) else None
    refs["lot"] = find_lot(material, values["lot"]) if values.get("lot") else None
    if values.get("lot") and refs["lot"] is None:
        raise InvalidInput(f"no lot {values['lot']} of {material.code}", {"lot": "unknown"})
    refs["serial"] = (
        resolve_serial(material, refs["lot"], values.get("serial"), values.get("type") == "output")
        if refs["lot"] is not None
        else None
    )
    return refs


def reverse_movement(actor, movement_id, reason):
    """Correct a movement by a reversing one (swapped locations, same quantity) with a reason."""
    reason = reason_required(reason)
    original = db.session.get(Movement, movement_id)
    if original is None:
        raise NotFound(f"no movement {movement_id}")
    if original.reverses_id is not None:
        raise Conflict("a reversal is not reversed; record a new movement instead")
    if db.session.scalar(select(Movement.id).where(Movement.reverses_id == original.id)):
        raise Conflict(f"movement {movement_id} is already reversed")
    with refusals_audited(actor, "movement.reverse", "movement", movement_id), transaction() as session:
        _lock(session, original.material, original.lot)
        source = original.to_location
        if source is not None:
            available = quantity_at(source, original.material, original.lot, original.serial)
            if available < original.quantity:
                raise InvalidInput(
                    f"only {available} left at {source.code}: the movement cannot be reversed",
                    {"quantity": f"only {available} available"},
                )
        reversal = Movement(
            type=original.type,
            moved_at=utcnow(),
            material_id=original.material_id,
            lot_id=original.lot_id,
            serial_id=original.serial_id,
            quantity=original.quantity,
            from_location_id=original.to_location_id,
            to_location_id=original.from_location_id,
            customer_id=original.customer_id,
            supplier_id=original.supplier_id,
            reference=original.reference,
            shipment_id=original.shipment_id,
            reverses_id=original.id,
            reason=reason,
            user_id=getattr(actor, "id", None),
        )
        session.add(reversal)
        session.flush()
        audit.record(
            actor,
            "movement.reverse",
            "movement",
            reversal.id,
            before=movement_view(original),
            after=movement_view(reversal),
            reason=reason,
        )
    return reversal
