"""Receiving goods from suppliers: by form or by UDI scan, under the supplier and cold-chain guards."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ...errors import UdiInvalid
from ...extensions import db
from ...models import Material, TemperatureRecord
from .. import audit
from ..uow import transaction
from .common import business_date, by_code, find_lot, refusals_audited, require
from .guards import check_supplier_for_receipt, check_temperature_record, temperature_in_range
from .ledger import movement_view, post, resolve_serial
from .lots import lot_label, new_lot, set_status
from .udi import parse_udi


@dataclass(frozen=True)
class Receipt:
    """What a receipt produced: the lot (None for untracked material), its movements, whether it went on hold."""

    lot: object
    movements: list
    held: bool


def receive(actor, values):
    """Receive `quantity` of a material from a supplier into a location, creating or matching the lot.

    `values`: supplier, material, lot, quantity, to_location, reference, manufactured_on, expires_on,
    serials (list, serialized materials), temperature ({transport_mode, min_c, max_c, arrival_c,
    transit_minutes}), moved_at."""
    with refusals_audited(actor, "receipt", "material", values.get("material") or ""), transaction() as session:
        material = by_code("material", values.get("material"), "material")
        supplier = by_code("supplier", values.get("supplier"), "supplier")
        location = by_code("location", values.get("to_location"), "to_location")
        require(
            location.kind in ("quarantine", "warehouse"),
            "to_location",
            "goods are received into a quarantine or warehouse location",
        )
        check_supplier_for_receipt(supplier, material, business_date(values.get("moved_at")))
        temperature = values.get("temperature") or None
        check_temperature_record(material, temperature)
        lot = _receipt_lot(session, actor, material, supplier, values)
        movements = _post_receipt(session, actor, material, supplier, location, lot, values)
        held = _record_temperature(session, actor, material, lot, movements[0], temperature)
        audit.record(
            actor,
            "receipt.create",
            "lot" if lot else "material",
            lot.id if lot else material.id,
            after={
                **movement_view(movements[0]),
                "quantity": values.get("quantity"),
                "serials": values.get("serials") or [],
                "temperature": temperature,
                "movements": [m.id for m in movements],
            },
        )
    return Receipt(lot, movements, held)


def _receipt_lot(session, actor, material, supplier, values):
    if material.tracking == "none":
        require(not values.get("lot"), "lot", "must be empty: the material is not lot-tracked")
        return None
    require(values.get("lot"), "lot", f"required: the material is {material.tracking}-tracked")
    return find_lot(material, values["lot"]) or new_lot(
        session,
        actor,
        material,
        values["lot"],
        origin="supplier_receipt",
        supplier=supplier,
        manufactured_on=values.get("manufactured_on"),
        expires_on=values.get("expires_on"),
        origin_reference=values.get("reference"),
    )


def _post_receipt(session, actor, material, supplier, location, lot, values):
    common = dict(
        lot=lot,
        to_location=location,
        supplier=supplier,
        reference=values.get("reference"),
        moved_at=values.get("moved_at"),
    )
    if material.tracking != "serial":
        return [post(session, actor, "receipt", material, values.get("quantity"), **common)]
    serials = [s.strip() for s in values.get("serials") or [] if s and s.strip()]
    require(
        serials and len(serials) == values.get("quantity") and len(set(serials)) == len(serials),
        "serials",
        "a serialized receipt lists one distinct serial number per unit",
    )
    return [
        post(session, actor, "receipt", material, 1, serial=resolve_serial(material, lot, s, True), **common)
        for s in serials
    ]


def _record_temperature(session, actor, material, lot, movement, temperature):
    """Store the cold-chain record; an excursion puts the lot on hold (REC-COLD-CHAIN-RANGE)."""
    if not temperature:
        return False
    in_range = temperature_in_range(material, temperature)
    session.add(
        TemperatureRecord(
            movement_id=movement.id,
            transport_mode=temperature["transport_mode"],
            min_c=float(temperature["min_c"]),
            max_c=float(temperature["max_c"]),
            arrival_c=float(temperature["arrival_c"]),
            transit_minutes=temperature.get("transit_minutes"),
            in_range=in_range,
        )
    )
    if not in_range and lot is not None and lot.status != "hold":
        set_status(
            actor,
            lot,
            "hold",
            f"temperature excursion on receipt of {lot_label(lot)}: "
            f"{temperature['min_c']}–{temperature['max_c']} °C in transit, "
            f"{temperature['arrival_c']} °C on arrival",
            rule="REC-COLD-CHAIN-RANGE",
        )
    return not in_range


def material_for_gtin(gtin):
    """The material whose UDI-DI is `gtin`; UdiInvalid when we do not know it."""
    material = db.session.scalar(select(Material).where(Material.gtin == gtin, Material.voided_at.is_(None)))
    if material is None:
        raise UdiInvalid(f"GTIN {gtin} is not the UDI-DI of any material", {"gtin": "unknown"})
    return material


def receive_scan(actor, scan, values):
    """Receive by UDI scan: the GTIN names the material, (10) the lot, (21) the serial, (17)/(11) the dates."""
    udi = parse_udi(scan)
    material = material_for_gtin(udi["gtin"])
    if material.tracking != "none" and not udi["lot"]:
        raise UdiInvalid("the scan has no lot (10)", {"lot": "missing"})
    if material.tracking == "serial" and not udi["serial"]:
        raise UdiInvalid(
            "the scan has no serial (21); after a lot, a GS separator must precede (21)", {"serial": "missing"}
        )
    dates = {
        k: date.fromisoformat(udi[f])
        for k, f in (("expires_on", "expiry"), ("manufactured_on", "production_date"))
        if udi[f]
    }
    quantity = 1 if material.tracking == "serial" else values.get("quantity")
    return receive(
        actor,
        {
            **values,
            **dates,
            "material": material.code,
            "lot": udi["lot"],
            "quantity": quantity,
            "serials": [udi["serial"]] if udi["serial"] else [],
        },
    )
