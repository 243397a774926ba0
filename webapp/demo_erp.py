"""ERP demo records for `make run` (DOMAIN.md's scenario): a manufacturer and licensed distributor
of class II/III devices. A sterile catheter kit (lot-tracked, EO sterilized by a subcontractor whose
ISO 13485 certificate expires in 21 days), a serialized BP monitor, a 2–8 °C reagent kit with one
delivery held for a temperature excursion, a distributor whose licence expired yesterday (its
order is held). Two kit lots share a tubing lot: trace TUBE-PVC T-2610 forward to see both."""

from datetime import timedelta

from sqlalchemy import select

from .extensions import db
from .models import Material, User
from .models._types import utcnow
from .services.acting import acting_as
from .services.erp import ledger, lots, materials, parties, receipts, shipments
from .services.erp.common import business_date, by_code, find_lot


def _gtin(item):
    """A GTIN-14 under GS1's example company prefix 0614141, with its check digit."""
    body = f"00614141{item:05d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


MATERIALS = [
    ("TUBE-PVC", "医用 PVC 导管管材 PVC tubing", None, "lot", "ambient", 1095, None),
    ("POUCH-T", "Tyvek 灭菌包装袋 Tyvek pouch", None, "lot", "ambient", 1825, None),
    ("CK-100", "一次性使用无菌导管套件 Sterile catheter kit", 1001, "lot", "ambient", 730, "III"),
    ("BPM-200", "电子血压计 Electronic BP monitor", 1002, "serial", "ambient", None, "II"),
    ("RGT-50", "心肌标志物检测试剂盒 Cardiac marker reagent kit", 1003, "lot", "2-8C", 365, "II"),
]
LOCATIONS = [
    ("WH-QUA", "待验区 Quarantine", "quarantine"),
    ("WH-A", "合格品库 Main warehouse", "warehouse"),
    ("COLD-1", "冷库 2–8 °C store", "warehouse"),
    ("PROD-1", "装配车间 Assembly", "production"),
    ("EO-STERI", "环氧乙烷灭菌(委外)EO sterilizer", "subcontractor"),
]
SUPPLIERS = [  # code, name, scope, services, ISO 13485 valid for (days)
    ("SUP-TUBE", "苏州管材有限公司 Suzhou Tubing", ["TUBE-PVC"], [], 400),
    ("SUP-POUCH", "上海包装材料有限公司 Shanghai Packaging", ["POUCH-T"], [], 500),
    ("STERI-EO", "华东灭菌服务有限公司 East China Sterilization", [], ["EO sterilization"], 21),
    ("SUP-BPM", "深圳电子医疗 Shenzhen Medical Electronics", ["BPM-200"], [], 300),
    ("SUP-RGT", "北京诊断试剂有限公司 Beijing Diagnostics", ["RGT-50"], [], 600),
]
CUSTOMERS = [  # code, name, licence valid for (days), scope, address
    ("HOSP-A", "上海市第一人民医院 Shanghai First People's Hospital", 700, ["II", "III"], "上海市虹口区海宁路100号"),
    ("HOSP-B", "杭州市中心医院 Hangzhou Central Hospital", 500, ["II", "III"], "杭州市下城区解放路88号"),
    ("DIST-C", "南方医疗器械经营有限公司 Southern Device Distribution", -1, ["II", "III"], "广州市天河区体育西路9号"),
]


def _user(name):
    return db.session.scalar(select(User).where(User.username == name))


def load_erp_demo():
    """Create the demo ERP records unless they exist (idempotent)."""
    if db.session.scalar(select(Material.id).where(Material.code == "CK-100")) is not None:
        return
    qa, warehouse, sales = _user("qa"), _user("warehouse"), _user("sales")
    today = business_date()
    _master_data(qa, today)
    _history(qa, warehouse, sales, utcnow())


def _master_data(qa, today):
    for code, name, item, tracking, storage, shelf, device_class in MATERIALS:
        materials.create_material(
            qa,
            {
                "code": code,
                "name": name,
                "gtin": _gtin(item) if item else None,
                "tracking": tracking,
                "storage": storage,
                "shelf_life_days": shelf,
                "device_class": device_class,
                "registration_number": f"国械注准2024{3 if device_class == 'III' else 2}14{item}" if item else None,
                "registration_valid_until": today + timedelta(days=1200) if item else None,
            },
        )
    for code, name, kind in LOCATIONS:
        materials.create_location(qa, {"code": code, "name": name, "kind": kind})
    for code, name, scope, services, iso_days in SUPPLIERS:
        supplier = parties.create_supplier(qa, {"code": code, "name": name})
        parties.set_supplier_scope(qa, supplier, scope, services, "首营审核 first-time supplier review")
        parties.add_certificate(
            qa,
            supplier,
            {
                "type": "iso13485",
                "number": f"CN-13485-{code}",
                "valid_from": today - timedelta(days=700),
                "valid_until": today + timedelta(days=iso_days),
            },
        )
        parties.add_certificate(
            qa,
            supplier,
            {
                "type": "business_licence",
                "number": f"91310000{len(code):04d}{code}",
                "valid_from": today - timedelta(days=3000),
            },
        )
        parties.set_supplier_status(qa, supplier, "approved", "资质审核通过 qualification passed")
    for code, name, days, scope, address in CUSTOMERS:
        parties.create_customer(
            qa,
            {
                "code": code,
                "name": name,
                "license_number": f"沪食药监械经营许{code}",
                "license_valid_until": today + timedelta(days=days),
                "licensed_scope": scope,
                "address": address,
                "min_remaining_shelf_life_days": 180,
            },
        )


def _history(qa, warehouse, sales, now):
    def at(days):
        return now - timedelta(days=days)

    def receive(material, lot, quantity, supplier, days, location="WH-QUA", **extra):
        return receipts.receive(
            warehouse,
            {
                "supplier": supplier,
                "material": material,
                "lot": lot,
                "quantity": quantity,
                "to_location": location,
                "reference": f"PO-{lot}",
                "moved_at": at(days),
                **extra,
            },
        )

    def move(type_, material, lot, quantity, days, **places):
        return ledger.record_movement(
            warehouse,
            {"type": type_, "material": material, "lot": lot, "quantity": quantity, "moved_at": at(days), **places},
        )

    made = business_date(at(40))
    receive("TUBE-PVC", "T-2610", 500, "SUP-TUBE", 60, manufactured_on=made - timedelta(days=30))
    receive("POUCH-T", "P-2610", 400, "SUP-POUCH", 58, manufactured_on=made - timedelta(days=60))
    for material, lot in (("TUBE-PVC", "T-2610"), ("POUCH-T", "P-2610")):
        lots.release_lot(qa, find_lot(by_code("material", material), lot), "来料检验合格 incoming inspection passed")
        move(
            "transfer",
            material,
            lot,
            500 if material == "TUBE-PVC" else 400,
            55,
            from_location="WH-QUA",
            to_location="WH-A",
        )
    for number, days in (("K-26110", 40), ("K-26111", 35)):
        _make_kit(qa, number, days, at, move)
    _ship(sales, "HOSP-A", [("CK-100", "K-26110", 60)], at(20))
    _ship(sales, "HOSP-B", [("CK-100", "K-26110", 40), ("CK-100", "K-26111", 50)], at(15))
    _ship(sales, "HOSP-A", [("CK-100", "K-26111", 30)], at(8))
    serials = [f"BPM2611{n:04d}" for n in range(1, 11)]
    receive("BPM-200", "B-2611", 10, "SUP-BPM", 30, serials=serials, manufactured_on=business_date(at(45)))
    monitors = find_lot(by_code("material", "BPM-200"), "B-2611")
    lots.release_lot(qa, monitors, "出厂检验报告齐全 release documents complete")
    for serial in serials:
        ledger.record_movement(
            warehouse,
            {
                "type": "transfer",
                "material": "BPM-200",
                "lot": "B-2611",
                "serial": serial,
                "quantity": 1,
                "from_location": "WH-QUA",
                "to_location": "WH-A",
                "moved_at": at(29),
            },
        )
    shipments.ship(
        sales,
        shipments.create_shipment(
            sales,
            "HOSP-B",
            [
                {"material": "BPM-200", "lot": "B-2611", "serial": s, "quantity": 1, "from_location": "WH-A"}
                for s in serials[:4]
            ],
        ),
        at(10),
    )
    _reagents(qa, receive, move, at)
    shipments.create_shipment(
        sales,
        "DIST-C",
        [{"material": "CK-100", "lot": "K-26111", "quantity": 20, "from_location": "WH-A"}],
        "许可证已于昨日过期,订单暂停 licence expired yesterday: order held",
    )


def _make_kit(qa, number, days, at, move):
    """Assemble a kit lot, send it to the EO sterilizer and back, release it."""
    order, sterilization = f"MO-{number}", f"SC-{number}"
    kit = lots.create_lot(
        qa,
        by_code("material", "CK-100"),
        number,
        origin="production",
        manufactured_on=business_date(at(days)),
        origin_reference=order,
    )
    move("consumption", "TUBE-PVC", "T-2610", 100, days, from_location="WH-A", reference=order)
    move("consumption", "POUCH-T", "P-2610", 100, days, from_location="WH-A", reference=order)
    move("output", "CK-100", number, 100, days - 0.5, to_location="WH-QUA", reference=order)
    move(
        "to_subcontractor",
        "CK-100",
        number,
        100,
        days - 1,
        from_location="WH-QUA",
        to_location="EO-STERI",
        supplier="STERI-EO",
        reference=sterilization,
    )
    move(
        "from_subcontractor",
        "CK-100",
        number,
        100,
        days - 4,
        from_location="EO-STERI",
        to_location="WH-QUA",
        supplier="STERI-EO",
        reference=sterilization,
    )
    # History before the demo's window: these lots went through subcontract release (LOT-SUBCONTRACT-RELEASE
    # lets only that process release a lot back from the sterilizer), so the seed releases them as it did.
    with acting_as(qa, "subcontract_release", sterilization):
        lots.release_lot(qa, kit, "灭菌记录与生物指示剂合格 sterilization record and BI passed")
    move("transfer", "CK-100", number, 100, days - 5, from_location="WH-QUA", to_location="WH-A")


def _ship(sales, customer, lines, when):
    shipment = shipments.create_shipment(
        sales, customer, [{"material": m, "lot": lot, "quantity": q, "from_location": "WH-A"} for m, lot, q in lines]
    )
    shipments.ship(sales, shipment, when)


def _reagents(qa, receive, move, at):
    """One cold-chain delivery in range (released), one with 11.2 °C in transit (on hold)."""
    good = {
        "transport_mode": "冷藏车 refrigerated truck",
        "min_c": 3.2,
        "max_c": 6.9,
        "arrival_c": 4.5,
        "transit_minutes": 180,
    }
    receive("RGT-50", "R-2610", 200, "SUP-RGT", 25, manufactured_on=business_date(at(50)), temperature=good)
    lots.release_lot(qa, find_lot(by_code("material", "RGT-50"), "R-2610"), "冷链记录完整 cold chain complete")
    move("transfer", "RGT-50", "R-2610", 200, 24, from_location="WH-QUA", to_location="COLD-1")
    receive(
        "RGT-50",
        "R-2611",
        150,
        "SUP-RGT",
        3,
        manufactured_on=business_date(at(20)),
        temperature={**good, "max_c": 11.2, "transit_minutes": 47},
    )
