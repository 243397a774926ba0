"""Shipments to customers: a draft with lines (FEFO suggested), then shipping under the guards."""

from datetime import date

from ...errors import Conflict, InvalidInput
from ...models import Shipment, ShipmentLine
from ...models._types import utcnow
from .. import audit
from ..numbering import next_number
from ..uow import transaction
from .common import business_date, by_code, find_lot, refusals_audited, require
from .guards import check_customer, check_lot_shippable
from .ledger import post, resolve_serial, structure_errors
from .records import void_record
from .rules import rule
from .stock import serials_at, stock_rows


def create_shipment(actor, customer_code, lines, note=""):
    """Draft a shipment: lines of {material, lot, serial, quantity, from_location} (by code)."""
    customer = by_code("customer", customer_code, "customer")
    require(lines, "lines", "a shipment needs at least one line")
    with transaction() as session:
        rows = [_line(i, line) for i, line in enumerate(lines)]
        shipment = Shipment(
            number=next_number(session, "SH"),
            customer_id=customer.id,
            status="draft",
            note=note or "",
            created_by_id=getattr(actor, "id", None),
            lines=rows,
        )
        session.add(shipment)
        session.flush()
        audit.record(
            actor,
            "shipment.create",
            "shipment",
            shipment.id,
            after={"number": shipment.number, "customer": customer.code, "lines": lines},
        )
    return shipment


def _line(index, line):
    """A ShipmentLine from codes; errors are keyed lines.<index>.<field>."""
    try:
        material = by_code("material", line.get("material"), "material")
        location = by_code("location", line.get("from_location"), "from_location")
        lot = find_lot(material, line["lot"]) if line.get("lot") else None
        require(not line.get("lot") or lot is not None, "lot", "unknown lot")
        errors = structure_errors(
            "shipment",
            from_kind=location.kind,
            to_kind=None,
            customer=True,
            supplier=None,
            reference="-",
            tracking=material.tracking,
            lot=lot,
            serial=line.get("serial"),
            quantity=line.get("quantity"),
        )
        if errors:
            raise InvalidInput("invalid line", errors)
        serial = resolve_serial(material, lot, line.get("serial"), False) if lot else None
    except InvalidInput as exc:
        raise InvalidInput(
            f"line {index + 1}: {exc.message}", {f"lines.{index}.{k}": v for k, v in exc.errors.items()}
        ) from None
    return ShipmentLine(
        material_id=material.id,
        lot_id=getattr(lot, "id", None),
        serial_id=getattr(serial, "id", None),
        quantity=line["quantity"],
        from_location_id=location.id,
    )


def ship(actor, shipment, shipped_at=None):
    """Ship a draft: check the customer and lot guards, post one shipment movement per line."""
    if shipment.status != "draft" or shipment.voided:
        raise Conflict(f"shipment {shipment.number} is {'voided' if shipment.voided else shipment.status}")
    with refusals_audited(actor, "shipment.ship", "shipment", shipment.id), transaction() as session:
        on = business_date(shipped_at)
        customer = shipment.customer
        for line in shipment.lines:
            check_customer(customer, line.material, on)
            if line.lot is not None:
                check_lot_shippable(line.lot, customer, on)
        moved_at = shipped_at or utcnow()
        movements = [
            post(
                session,
                actor,
                "shipment",
                line.material,
                line.quantity,
                lot=line.lot,
                serial=line.serial,
                from_location=line.from_location,
                customer=customer,
                reference=shipment.number,
                moved_at=moved_at,
                shipment_id=shipment.id,
            )
            for line in shipment.lines
        ]
        shipment.status, shipment.shipped_at, shipment.shipped_by_id = "shipped", moved_at, getattr(actor, "id", None)
        audit.record(
            actor,
            "shipment.ship",
            "shipment",
            shipment.id,
            before={"status": "draft"},
            after={
                "status": "shipped",
                "number": shipment.number,
                "customer": customer.code,
                "movements": [m.id for m in movements],
            },
        )
    return shipment


def void_shipment(actor, shipment, reason):
    """Cancel a draft shipment (a shipped one is corrected by a customer return)."""
    if shipment.status != "draft":
        raise Conflict("only a draft shipment is cancelled; record a customer return instead")
    return void_record(actor, shipment, "shipment", reason)


def fefo(material, quantity, customer=None, on=None):
    """First-expired-first-out picks for `quantity` of `material` from released, unexpired warehouse stock.

    Returns (picks, shortfall); picks are {lot, from_location, expires_on, available, quantity[, serials]}."""
    on = on or business_date()
    minimum = 0
    if customer is not None:
        minimum = customer.min_remaining_shelf_life_days
        minimum = rule("SHP-SHELF-LIFE")["default_min_remaining_days"] if minimum is None else minimum
    candidates = [
        r
        for r in stock_rows(material_id=material.id)
        if r["location_kind"] == "warehouse"
        and r["quantity"] > 0
        and (material.tracking == "none" or r["status"] == "released")
        and (r["expires_on"] is None or (r["expires_on"] - on).days >= minimum)
    ]
    candidates.sort(key=lambda r: (r["expires_on"] or date.max, r["lot"] or "", r["location"]))
    picks, left = [], quantity
    for row in candidates:
        if left <= 0:
            break
        take = min(left, row["quantity"])
        pick = {
            "lot": row["lot"],
            "from_location": row["location"],
            "expires_on": row["expires_on"],
            "available": row["quantity"],
            "quantity": take,
        }
        if material.tracking == "serial":
            pick["serials"] = serials_at(by_code("location", row["location"]).id, row["lot_id"])[:take]
        picks.append(pick)
        left -= take
    return picks, max(left, 0)
