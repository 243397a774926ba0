"""ERP services: the ledger (stock, reversals, serials), FEFO, shipments, lots, master data."""

import pytest
from sqlalchemy import select

from tests.erp_world import build_world, days, gtin, receive, released_stock
from tests.helpers import table_snapshot, user
from webapp.errors import Conflict, InvalidInput
from webapp.extensions import db
from webapp.models import AuditEvent, Lot
from webapp.services.erp import ledger, lots, materials, shipments, stock
from webapp.services.erp.common import by_code, find_lot


@pytest.fixture
def qa(app):
    with app.app_context():
        yield build_world()


def _at(location, material="TUBE", lot="T1"):
    material_row = by_code("material", material)
    return stock.quantity_at(by_code("location", location), material_row, find_lot(material_row, lot))


def _transfer(qa, quantity, source="WH", target="QUA", lot="T1"):
    return ledger.record_movement(
        qa,
        {
            "type": "transfer",
            "material": "TUBE",
            "lot": lot,
            "quantity": quantity,
            "from_location": source,
            "to_location": target,
        },
    )


def test_stock_is_derived_from_the_ledger_and_cannot_go_negative(qa):
    released_stock(qa)
    _transfer(qa, 30)
    assert (_at("WH"), _at("QUA")) == (70, 30)
    before = table_snapshot()
    with pytest.raises(InvalidInput) as info:
        _transfer(qa, 71)
    assert info.value.errors == {"quantity": "only 70 available"}
    assert table_snapshot() == before


def test_a_correction_is_a_reversing_movement_with_a_reason(qa):
    released_stock(qa)
    wrong = _transfer(qa, 30)
    with pytest.raises(InvalidInput):
        ledger.reverse_movement(qa, wrong.id, " ")
    reversal = ledger.reverse_movement(qa, wrong.id, "wrong location")
    assert (reversal.from_location.code, reversal.to_location.code, reversal.reverses_id) == ("QUA", "WH", wrong.id)
    assert (_at("WH"), _at("QUA")) == (100, 0)
    with pytest.raises(Conflict):
        ledger.reverse_movement(qa, wrong.id, "again")
    with pytest.raises(Conflict):
        ledger.reverse_movement(qa, reversal.id, "undo the undo")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "movement.reverse"))
    assert event.reason == "wrong location" and event.before["to_location"] == "QUA"


def test_movement_structure_per_type(qa):
    released_stock(qa)
    cases = [
        ({"type": "consumption", "from_location": "WH"}, "reference"),
        ({"type": "transfer", "from_location": "WH"}, "to_location"),
        ({"type": "scrap", "from_location": "WH", "to_location": "QUA"}, "to_location"),
        ({"type": "to_subcontractor", "from_location": "WH", "to_location": "QUA", "reference": "SC"}, "to_location"),
        ({"type": "return", "to_location": "QUA"}, "customer"),
        ({"type": "adjustment", "to_location": "WH"}, "reason"),
        ({"type": "receipt", "to_location": "WH"}, "type"),
    ]
    for values, field in cases:
        with pytest.raises(InvalidInput) as info:
            ledger.record_movement(qa, {"material": "TUBE", "lot": "T1", "quantity": 1, **values})
        assert field in info.value.errors, (values, info.value.errors)
    ledger.record_movement(
        qa,
        {
            "type": "adjustment",
            "material": "TUBE",
            "lot": "T1",
            "quantity": 2,
            "to_location": "WH",
            "reason": "cycle count",
        },
    )
    assert _at("WH") == 102


def test_serialized_receipts_bind_each_serial_to_its_lot(qa):
    with pytest.raises(InvalidInput) as info:
        receive(qa, "BPM", "B1", 2, serials=["S1"])
    assert "serials" in info.value.errors
    result = receive(qa, "BPM", "B1", 2, serials=["S1", "S2"])
    assert [m.serial.serial for m in result.movements] == ["S1", "S2"]
    with pytest.raises(InvalidInput) as info:
        receive(qa, "BPM", "B1", 1, serials=["S1"])
    assert info.value.errors == {"serial": "already in stock"}
    with pytest.raises(InvalidInput) as info:
        receive(qa, "BPM", "B2", 1, serials=["S2"])
    assert info.value.errors == {"serial": "in another lot"}


def test_fefo_picks_the_first_expiring_released_lots(qa):
    released_stock(qa, lot="LATE", quantity=50, expires_on=days(400))
    released_stock(qa, lot="EARLY", quantity=30, expires_on=days(200))
    released_stock(qa, lot="SHORT", quantity=30, expires_on=days(20))
    receive(qa, lot="UNRELEASED", quantity=30, expires_on=days(100))
    picks, shortfall = shipments.fefo(by_code("material", "TUBE"), 60, by_code("customer", "HOSP"))
    assert [(p["lot"], p["quantity"]) for p in picks] == [("EARLY", 30), ("LATE", 30)] and shortfall == 0
    picks, shortfall = shipments.fefo(by_code("material", "TUBE"), 200)
    assert [p["lot"] for p in picks] == ["SHORT", "EARLY", "LATE"] and shortfall == 90


def test_a_shipment_ships_once_and_only_a_draft_is_cancelled(qa):
    released_stock(qa)
    sales = user("sales")
    draft = shipments.create_shipment(
        sales, "HOSP", [{"material": "TUBE", "lot": "T1", "quantity": 10, "from_location": "WH"}]
    )
    assert draft.number.startswith("SH-")
    shipments.ship(sales, draft)
    assert _at("WH") == 90
    with pytest.raises(Conflict):
        shipments.ship(sales, draft)
    with pytest.raises(Conflict):
        shipments.void_shipment(sales, draft, "oops")
    other = shipments.create_shipment(
        sales, "HOSP", [{"material": "TUBE", "lot": "T1", "quantity": 1, "from_location": "WH"}]
    )
    assert shipments.void_shipment(sales, other, "customer cancelled").voided
    with pytest.raises(InvalidInput) as info:
        shipments.create_shipment(
            sales, "HOSP", [{"material": "TUBE", "lot": "NOPE", "quantity": 1, "from_location": "WH"}]
        )
    assert "lines.0.lot" in info.value.errors


def test_lots_start_quarantined_and_are_voided_only_without_movements(qa):
    kit = lots.create_lot(qa, by_code("material", "KIT"), "K9", manufactured_on=days(0))
    assert kit.status == "quarantine" and kit.expires_on == days(730)
    with pytest.raises(InvalidInput):
        lots.create_lot(qa, by_code("material", "KIT"), "K9")
    used = receive(qa).lot
    with pytest.raises(Conflict):
        lots.void_lot(qa, used, "typo")
    assert lots.void_lot(qa, kit, "created twice").voided
    lots.update_lot_dates(qa, used, {"expires_on": days(100)}, "supplier corrected the label")
    assert db.session.get(Lot, used.id).expires_on == days(100)


def test_master_data_codes_and_gtins_are_unique_and_tracking_is_fixed_once_used(qa):
    with pytest.raises(InvalidInput) as info:
        materials.create_material(qa, {"code": "TUBE", "name": "again", "tracking": "lot"})
    assert info.value.errors == {"code": "exists"}
    with pytest.raises(InvalidInput) as info:
        materials.create_material(qa, {"code": "KIT2", "name": "same GTIN", "tracking": "lot", "gtin": gtin(101)})
    assert "gtin" in info.value.errors
    receive(qa)
    with pytest.raises(InvalidInput) as info:
        materials.update_material(qa, by_code("material", "TUBE"), {"tracking": "serial"}, "switch")
    assert "tracking" in info.value.errors
    materials.void_material(qa, by_code("material", "KIT"), "discontinued")
    with pytest.raises(InvalidInput):
        receive(qa, "KIT", "K1")
