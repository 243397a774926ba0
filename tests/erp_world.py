"""A small ERP world built through the services, for service, API and page tests.

Materials: TUBE (raw tubing, lot), KIT (class III catheter kit, lot, GTIN), BPM (class II BP
monitor, serialized, GTIN), REAGENT (2–8 °C class II kit, GTIN). Suppliers: SUP-TUBE and SUP-REAG
approved, SUP-NEW pending, STERI (EO subcontractor). Customers: HOSP (licence valid, classes II and
III), CLINIC (class II only), DIST-EXP (licence expired yesterday).
"""

from datetime import timedelta

from tests.helpers import user
from webapp.services.erp import lots, materials, parties, receipts
from webapp.services.erp.common import business_date


def gtin(item):
    """A valid GTIN-14 under GS1's example company prefix 0614141."""
    body = f"00614141{item:05d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def bad_check_digit(code):
    """`code` with a wrong last digit."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def days(n):
    """The business date `n` days from today (the default business time zone outside an app)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from flask import has_app_context

    today = business_date() if has_app_context() else datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return today + timedelta(days=n)


CERTS = [{"type": "iso13485", "number": "ISO-1"}, {"type": "business_licence", "number": "BL-1"}]


def build_world():
    """Create the master data and return the QA user (who holds every ERP edit permission used here)."""
    qa = user("qa")
    for code, name, tracking, storage, device_class, item, shelf in (
        ("TUBE", "PVC tubing", "lot", "ambient", None, None, 1095),
        ("KIT", "Sterile catheter kit", "lot", "ambient", "III", 101, 730),
        ("BPM", "Electronic BP monitor", "serial", "ambient", "II", 102, None),
        ("REAGENT", "Reagent kit 2-8 °C", "lot", "2-8C", "II", 103, 365),
    ):
        materials.create_material(
            qa,
            {
                "code": code,
                "name": name,
                "tracking": tracking,
                "storage": storage,
                "device_class": device_class,
                "gtin": gtin(item) if item else None,
                "shelf_life_days": shelf,
            },
        )
    for code, name, kind in (
        ("QUA", "Quarantine", "quarantine"),
        ("WH", "Main warehouse", "warehouse"),
        ("PROD", "Production", "production"),
        ("STER", "Sterilizer", "subcontractor"),
    ):
        materials.create_location(qa, {"code": code, "name": name, "kind": kind})
    for code, status, scope in (
        ("SUP-TUBE", "approved", ["TUBE", "BPM"]),
        ("SUP-REAG", "approved", ["REAGENT"]),
        ("SUP-NEW", "pending", ["TUBE"]),
        ("STERI", "approved", []),
    ):
        supplier = parties.create_supplier(qa, {"code": code, "name": code.title(), "status": status})
        parties.set_supplier_scope(qa, supplier, scope, ["EO sterilization"] if code == "STERI" else [], "qualified")
        for cert in CERTS:
            parties.add_certificate(qa, supplier, {**cert, "valid_from": days(-300), "valid_until": days(300)})
    for code, until, scope in (
        ("HOSP", days(365), ["II", "III"]),
        ("CLINIC", days(365), ["II"]),
        ("DIST-EXP", days(-1), ["II", "III"]),
    ):
        parties.create_customer(
            qa,
            {
                "code": code,
                "name": code.title(),
                "license_number": f"LIC-{code}",
                "license_valid_until": until,
                "licensed_scope": scope,
                "address": "Shanghai",
            },
        )
    return qa


def receive(actor, material="TUBE", lot="T1", quantity=100, supplier="SUP-TUBE", location="QUA", **extra):
    """Receive goods through the service (defaults: 100 TUBE of lot T1 into quarantine)."""
    return receipts.receive(
        actor,
        {
            "supplier": supplier,
            "material": material,
            "lot": lot,
            "quantity": quantity,
            "to_location": location,
            "reference": "PO-1",
            **extra,
        },
    )


def released_stock(actor, material="TUBE", lot="T1", quantity=100, supplier="SUP-TUBE", **extra):
    """Receive into quarantine, release, and move to the warehouse: shippable stock."""
    from webapp.services.erp import ledger

    result = receive(actor, material, lot, quantity, supplier, **extra)
    lots.release_lot(actor, result.lot, "incoming inspection passed")
    for movement in result.movements:
        ledger.record_movement(
            actor,
            {
                "type": "transfer",
                "material": material,
                "lot": lot,
                "serial": movement.serial.serial if movement.serial else None,
                "quantity": movement.quantity,
                "from_location": "QUA",
                "to_location": "WH",
            },
        )
    return result.lot
