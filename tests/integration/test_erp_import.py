"""CSV import (the fixed file and header contract): all or nothing, with a row-level error report."""

import pytest
from sqlalchemy import func, select

from tests.helpers import table_snapshot, user
from webapp.errors import ImportRejected
from webapp.extensions import db
from webapp.models import AuditEvent, Customer, Lot, Material, Movement, Serial
from webapp.services.erp import imports, trace

VALID = {
    "materials.csv": "code,name,gtin,tracking,storage,shelf_life_days,device_class\n"
    "RAW,PVC tubing,,lot,ambient,1095,\n"
    "KIT,Catheter kit,00614141001019,lot,ambient,730,III\n"
    "BPM,BP monitor,614141001026,serial,ambient,,II\n"
    "BOX,Shipping box,,none,ambient,,\n",
    "suppliers.csv": "code,name,status\nS-RAW,Tubing Co,approved\nS-EO,EO Sterilizer,approved\n",
    "customers.csv": "code,name,license_number,license_valid_until\n"
    "H1,First Hospital,LIC-1,2030-12-31\nD-OLD,Old Distributor,LIC-2,2020-01-01\n",
    "locations.csv": "code,name,kind\nQUA,Quarantine,quarantine\nWH,Warehouse,warehouse\n"
    "PROD,Production,production\nEO,EO sterilizer,subcontractor\n",
    "lots.csv": "material,lot,manufactured_on,expires_on,status,supplier\n"
    "RAW,R1,2025-01-01,2028-01-01,released,S-RAW\n"
    "KIT,K1,2025-02-01,2027-02-01,released,\n"
    "BPM,B1,2025-03-01,,released,\n",
    "movements.csv": "moved_at,type,material,lot,serial,quantity,from_location,to_location,customer,supplier,reference\n"
    "2025-01-05T09:00:00+08:00,receipt,RAW,R1,,100,,QUA,,S-RAW,PO-1\n"
    "2025-01-06,transfer,RAW,R1,,100,QUA,WH,,,\n"
    "2025-02-01T08:00:00,consumption,RAW,R1,,40,WH,,,,MO-1\n"
    "2025-02-01T17:00:00,output,KIT,K1,,20,,WH,,,MO-1\n"
    "2025-02-02,to_subcontractor,KIT,K1,,20,WH,EO,,S-EO,SC-1\n"
    "2025-02-05,from_subcontractor,KIT,K1,,20,EO,WH,,S-EO,SC-1\n"
    "2025-03-01,shipment,KIT,K1,,5,WH,,D-OLD,,SO-1\n"
    "2025-03-02,shipment,KIT,K1,,3,WH,,H1,,SO-2\n"
    "2025-03-03,return,KIT,K1,,1,,QUA,H1,,RMA-1\n"
    "2025-03-04,output,BPM,B1,SN-1,1,,WH,,,MO-2\n"
    "2025-03-04,output,BPM,B1,SN-2,1,,WH,,,MO-2\n"
    "2025-03-05,shipment,BPM,B1,SN-1,1,WH,,H1,,SO-3\n"
    "2025-03-06,adjustment,BOX,,,50,,WH,,,\n",
}


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def rejected(files):
    """Import `files`, expect a rejection that changed nothing but the audit trail; return its rows."""
    before = table_snapshot()
    with pytest.raises(ImportRejected) as info:
        imports.import_files(user("admin"), files)
    after = table_snapshot()
    assert len(after.pop("audit_events")) == len(before.pop("audit_events")) + 1
    assert after == before
    assert db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first().action == "import.refused"
    assert info.value.status == 422 and info.value.errors["total"] == len(info.value.errors["rows"])
    return info.value.errors["rows"]


def test_a_valid_set_imports_completely(ctx):
    counts = imports.import_files(user("admin"), VALID)
    assert counts == {
        "materials.csv": 4,
        "suppliers.csv": 2,
        "customers.csv": 2,
        "locations.csv": 4,
        "lots.csv": 3,
        "movements.csv": 13,
    }
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert (count(Material), count(Customer), count(Lot), count(Serial), count(Movement)) == (4, 2, 3, 2, 13)
    assert db.session.scalar(select(Material.gtin).where(Material.code == "BPM")) == "00614141001026"
    first = db.session.scalar(select(Movement).order_by(Movement.id))
    assert first.moved_at.isoformat() == "2025-01-05T01:00:00+00:00"  # the offset is kept, stored in UTC
    forward = trace.trace("RAW", "R1", "forward").as_dict()
    assert forward["lots"] == [{"material": "KIT", "lot": "K1", "depth": 1, "status": "released"}]
    assert forward["customers"] == [
        {"code": "D-OLD", "name": "Old Distributor", "quantity": 5},
        {"code": "H1", "name": "First Hospital", "quantity": 2},
    ]
    assert {(r["location"], r["lot"], r["quantity"]) for r in forward["stock"]} == {
        ("WH", "R1", 60),
        ("WH", "K1", 12),
        ("QUA", "K1", 1),
    }
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.run"))
    assert event.after["files"]["movements.csv"]["rows"] == 13 and len(event.after["files"]["lots.csv"]["sha256"]) == 64


def _with(file, line=None, replace=None):
    files = dict(VALID)
    if replace:
        files[file] = files[file].replace(*replace)
    if line:
        files[file] += line + "\n"
    return files


@pytest.mark.parametrize(
    "files, file, row, column, reason",
    [
        (
            _with("materials.csv", "BAD,Bad GTIN,00614141001018,lot,ambient,,"),
            "materials.csv",
            6,
            "gtin",
            "check digit",
        ),
        (_with("materials.csv", "ODD,Odd,,batch,ambient,,"), "materials.csv", 6, "tracking", "lot|serial|none"),
        (_with("materials.csv", "RAW,Again,,lot,ambient,,"), "materials.csv", 6, "code", "exists"),
        (_with("materials.csv", "CLS,Class,,lot,cold,,IV"), "materials.csv", 6, "storage", "ambient|2-8C|frozen"),
        (_with("suppliers.csv", "S-X,X,trusted"), "suppliers.csv", 4, "status", "pending|approved"),
        (_with("customers.csv", "C-X,X,L,31/12/2030"), "customers.csv", 4, "license_valid_until", "ISO 8601"),
        (_with("locations.csv", "SHOP,Shop,store"), "locations.csv", 6, "kind", "warehouse|quarantine"),
        (_with("lots.csv", "NOPE,N1,,,released,"), "lots.csv", 5, "material", "unknown material NOPE"),
        (_with("lots.csv", "RAW,R2,2025-01-01,2024-01-01,released,"), "lots.csv", 5, "expires_on", "before"),
        (
            _with("movements.csv", "2025-04-01,shipment,KIT,K1,,100,WH,,H1,,SO-9"),
            "movements.csv",
            15,
            "quantity",
            "negative stock",
        ),
        (
            _with("movements.csv", "2025-04-01,shipment,KIT,K1,,1,PROD,,H1,,SO-9"),
            "movements.csv",
            15,
            "quantity",
            "negative stock: 0",
        ),
        (
            _with("movements.csv", "2025-04-01,shipment,KIT,K1,,1,WH,,,,SO-9"),
            "movements.csv",
            15,
            "customer",
            "required",
        ),
        (
            _with("movements.csv", "2025-04-01,consumption,KIT,K9,,1,WH,,,,MO-9"),
            "movements.csv",
            15,
            "lot",
            "unknown lot K9",
        ),
        (_with("movements.csv", "2025-04-01,transfer,BPM,B1,,1,WH,QUA,,,"), "movements.csv", 15, "serial", "required"),
        (_with("movements.csv", "yesterday,scrap,RAW,R1,,1,WH,,,,"), "movements.csv", 15, "moved_at", "ISO 8601"),
        (_with("movements.csv", "2025-04-01,gift,RAW,R1,,1,WH,,,,"), "movements.csv", 15, "type", "must be one of"),
        (
            _with("movements.csv", replace=("2025-02-01T08:00:00,consumption", "2024-12-31T08:00:00,consumption")),
            "movements.csv",
            4,
            "quantity",
            "negative stock",
        ),  # consumed before it was received
        (_with("lots.csv", replace=("expires_on,status", "expiry,status")), "lots.csv", 1, "", "header"),
        ({**VALID, "items.csv": "code\nX\n"}, "items.csv", 0, "", "unknown file"),
        # wider than the INTEGER column; a shelf life beyond the calendar
        (
            _with("movements.csv", "2025-04-01,adjustment,BOX,,,2147483648,,WH,,,"),
            "movements.csv",
            15,
            "quantity",
            "at most",
        ),
        (
            _with("materials.csv", "LONG,Long life,,none,ambient,99999999999,"),
            "materials.csv",
            6,
            "shelf_life_days",
            "at most",
        ),
    ],
)
def test_one_bad_row_rejects_the_whole_import(ctx, files, file, row, column, reason):
    rows = rejected(files)
    assert any(
        (r["file"], r["row"], r["column"]) == (file, row, column) and reason.split("|")[0] in r["reason"] for r in rows
    ), rows


def test_the_report_lists_every_error_with_file_row_and_column(ctx):
    files = _with("materials.csv", "BAD,Bad GTIN,00614141001018,lot,ambient,-5,")
    files = {**files, "movements.csv": files["movements.csv"] + "2025-04-01,shipment,NOPE,X,,1,WH,,H1,,SO-9\n"}
    rows = rejected(files)
    assert [(r["file"], r["row"], r["column"]) for r in rows] == [
        ("materials.csv", 6, "gtin"),
        ("materials.csv", 6, "shelf_life_days"),
        ("movements.csv", 15, "material"),
        ("movements.csv", 15, "lot"),
    ]


def test_history_is_not_rechecked_against_present_guards(ctx):
    # D-OLD's licence expired in 2020 and K1 ships in 2025: imported history is kept as it happened.
    imports.import_files(user("admin"), VALID)
    assert db.session.scalar(select(func.count()).select_from(Movement).where(Movement.type == "shipment")) == 3


def test_files_may_come_in_several_imports(ctx):
    masters = {k: v for k, v in VALID.items() if k != "movements.csv"}
    imports.import_files(user("admin"), masters)
    assert imports.import_files(user("admin"), {"movements.csv": VALID["movements.csv"]}) == {"movements.csv": 13}
    rows = rejected(
        {"movements.csv": VALID["movements.csv"].split("\n", 1)[0] + "\n2025-05-01,shipment,KIT,K1,,13,WH,,H1,,SO-8\n"}
    )  # only 12 left in WH
    assert rows[0]["column"] == "quantity" and "12" in rows[0]["reason"]
