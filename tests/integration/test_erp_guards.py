"""Every compliance guard of rules/erp_guards.json: refused, database unchanged, refusal audited."""

import pytest
from sqlalchemy import select

from tests.erp_world import build_world, days, receive, released_stock
from tests.helpers import table_snapshot, user
from webapp.errors import GuardRefused
from webapp.extensions import db
from webapp.models import AuditEvent, Lot
from webapp.services.erp import ledger, lots, parties, shipments
from webapp.services.erp.common import by_code

COLD = {"transport_mode": "refrigerated truck", "min_c": 3.1, "max_c": 6.8, "arrival_c": 4.0}


@pytest.fixture
def qa(app):
    with app.app_context():
        yield build_world()


def assert_refused(rule, call):
    """`call` raises GuardRefused(rule), changes no table but the audit trail, which gains the refusal."""
    before = table_snapshot()
    with pytest.raises(GuardRefused) as info:
        call()
    assert info.value.rule == rule and rule in info.value.message
    after = table_snapshot()
    new_events = len(after.pop("audit_events")) - len(before.pop("audit_events"))
    assert after == before
    assert new_events == 1
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action.endswith(".refused") and rule in event.reason
    return event


def _ship(customer, material, lot, quantity=1, location="WH", serial=None):
    shipment = shipments.create_shipment(
        user("sales"),
        customer,
        [{"material": material, "lot": lot, "serial": serial, "quantity": quantity, "from_location": location}],
    )
    return lambda: shipments.ship(user("sales"), shipment)


def test_no_receipt_from_a_supplier_that_is_not_approved(qa):
    assert_refused("REC-SUPPLIER-APPROVED", lambda: receive(qa, supplier="SUP-NEW"))
    parties.set_supplier_status(qa, by_code("supplier", "SUP-TUBE"), "blocked", "audit findings")
    event = assert_refused("REC-SUPPLIER-APPROVED", lambda: receive(qa))
    assert event.action == "receipt.refused" and event.actor_name == "qa"


def test_no_receipt_of_a_material_outside_the_approved_scope(qa):
    assert_refused("REC-SUPPLIER-APPROVED", lambda: receive(qa, supplier="SUP-REAG"))


def test_conditional_approval_is_enough(qa):
    parties.set_supplier_status(qa, by_code("supplier", "SUP-TUBE"), "conditional", "pending corrective action")
    assert receive(qa).lot.status == "quarantine"


def test_no_receipt_when_a_required_certificate_expired(qa):
    supplier = by_code("supplier", "SUP-TUBE")
    [iso] = [c for c in supplier.certificates if c.type == "iso13485"]
    parties.void_certificate(qa, iso, "superseded")
    parties.add_certificate(
        qa, supplier, {"type": "iso13485", "number": "ISO-OLD", "valid_from": days(-400), "valid_until": days(-1)}
    )
    event = assert_refused("REC-SUPPLIER-CERTIFICATE", lambda: receive(qa))
    assert "iso13485" in event.reason
    parties.add_certificate(
        qa, supplier, {"type": "iso13485", "number": "ISO-NEW", "valid_from": days(-1), "valid_until": days(1000)}
    )
    assert receive(qa).lot is not None


def test_cold_chain_receipt_needs_a_temperature_record(qa):
    assert_refused("REC-COLD-CHAIN-RECORD", lambda: receive(qa, "REAGENT", "R1", 10, "SUP-REAG"))
    partial = {"transport_mode": "van", "min_c": 3}
    assert_refused("REC-COLD-CHAIN-RECORD", lambda: receive(qa, "REAGENT", "R1", 10, "SUP-REAG", temperature=partial))
    result = receive(qa, "REAGENT", "R1", 10, "SUP-REAG", temperature=COLD)
    assert not result.held and result.lot.status == "quarantine"


@pytest.mark.parametrize("field, value", [("max_c", 11.2), ("min_c", 0.5), ("arrival_c", 8.5)])
def test_a_temperature_excursion_puts_the_lot_on_hold(qa, field, value):
    result = receive(qa, "REAGENT", "R2", 10, "SUP-REAG", temperature={**COLD, field: value})
    assert result.held
    lot = db.session.get(Lot, result.lot.id)
    assert lot.status == "hold"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lot.hold"))
    assert event.after["rule"] == "REC-COLD-CHAIN-RANGE" and event.entity_id == str(lot.id)


@pytest.mark.parametrize("status", ["quarantine", "hold", "rejected", "recalled"])
def test_no_shipment_of_a_lot_that_is_not_released(qa, status):
    lot = released_stock(qa)
    lots.change_lot_status(qa, lot, status, "test")
    assert_refused("SHP-LOT-RELEASED", _ship("HOSP", "TUBE", "T1"))


def test_no_shipment_of_an_expired_lot(qa):
    released_stock(qa, expires_on=days(-1))
    assert_refused("SHP-LOT-EXPIRED", _ship("HOSP", "TUBE", "T1"))


def test_no_shipment_below_the_customers_minimum_shelf_life(qa):
    released_stock(qa, expires_on=days(30))
    assert_refused("SHP-SHELF-LIFE", _ship("HOSP", "TUBE", "T1"))  # the rule's default: 90 days
    parties.update_customer(qa, by_code("customer", "HOSP"), {"min_remaining_shelf_life_days": 20}, "contract")
    assert _ship("HOSP", "TUBE", "T1")().status == "shipped"
    parties.update_customer(qa, by_code("customer", "CLINIC"), {"min_remaining_shelf_life_days": 60}, "contract")
    assert_refused("SHP-SHELF-LIFE", _ship("CLINIC", "TUBE", "T1"))


def test_no_shipment_to_a_customer_whose_licence_expired(qa):
    released_stock(qa)
    event = assert_refused("SHP-CUSTOMER-LICENCE", _ship("DIST-EXP", "TUBE", "T1"))
    assert event.action == "shipment.ship.refused"


def test_no_shipment_outside_the_customers_licensed_scope(qa):
    parties.set_supplier_scope(qa, by_code("supplier", "SUP-TUBE"), ["TUBE", "BPM", "KIT"], [], "kits too")
    released_stock(qa, "KIT", "K1", 10)
    assert_refused("SHP-CUSTOMER-SCOPE", _ship("CLINIC", "KIT", "K1"))  # class III, CLINIC holds class II
    assert _ship("HOSP", "KIT", "K1")().status == "shipped"


def test_a_lot_becomes_released_only_by_a_release(qa):
    lot = receive(qa).lot
    assert_refused("LOT-RELEASE-ONLY", lambda: lots.change_lot_status(qa, lot, "released", "shortcut"))
    lots.change_lot_status(qa, lot, "rejected", "failed inspection")
    assert_refused("LOT-RELEASE-ONLY", lambda: lots.release_lot(qa, lot, "override"))


def test_unreleased_stock_does_not_leave_the_quarantine_area(qa):
    receive(qa)
    move = {
        "type": "transfer",
        "material": "TUBE",
        "lot": "T1",
        "quantity": 5,
        "from_location": "QUA",
        "to_location": "WH",
    }
    assert_refused("LOT-QUARANTINE-AREA", lambda: ledger.record_movement(qa, move))
    ledger.record_movement(qa, {**move, "to_location": "STER", "type": "to_subcontractor", "reference": "SC-1"})


def test_guard_parameters_come_from_the_rules_file(app, tmp_path):
    import json
    import shutil

    from tests.conftest import ROOT

    for name in ("access_policy.json", "erp_guards.json"):
        shutil.copy(ROOT / "rules" / name, tmp_path / name)
    rules = json.loads((tmp_path / "erp_guards.json").read_text())
    rules["rules"]["SHP-SHELF-LIFE"]["default_min_remaining_days"] = 10
    (tmp_path / "erp_guards.json").write_text(json.dumps(rules))
    app.config["RULES_DIR"] = str(tmp_path)
    with app.app_context():
        qa = build_world()
        released_stock(qa, expires_on=days(30))
        assert _ship("HOSP", "TUBE", "T1")().status == "shipped"
