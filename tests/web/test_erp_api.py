"""ERP REST API: the trace and import contracts, CRUD with audit, validation, guards, permissions."""

import io

import pytest
from sqlalchemy import select

from tests.erp_world import bad_check_digit, build_world, days, gtin, released_stock
from tests.helpers import Api, table_snapshot, user
from tests.integration.test_erp_import import VALID
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.services.erp import parties
from webapp.services.erp.common import by_code

TRACE_KEYS = {"root", "lots", "shipments", "customers", "stock", "suppliers"}
SHAPES = {
    "root": {"material", "lot"},
    "lots": {"material", "lot", "depth", "status"},
    "shipments": {"shipment", "customer", "material", "lot", "serial", "quantity", "shipped_at"},
    "customers": {"code", "name", "quantity"},
    "stock": {"location", "material", "lot", "quantity"},
    "suppliers": {"code", "name", "material", "lot"},
}


@pytest.fixture
def api(app):
    with app.app_context():
        build_world()
        db.session.remove()
    clients = {}

    def get(username):
        if username not in clients:
            clients[username] = Api(app, username)
        return clients[username]

    return get


def _patch(client, url, body):
    return client.client.patch(url, json=body, headers=client.headers)


def _produce_and_ship(app, api):
    """TUBE lot T1 → production order MO-1 → KIT lot K1, shipped to HOSP through the API."""
    with app.app_context():
        qa = user("qa")
        parties.set_supplier_scope(qa, by_code("supplier", "SUP-TUBE"), ["TUBE", "BPM", "KIT"], [], "kits")
        released_stock(qa)
    qa, sales = api("qa"), api("sales")
    assert (
        qa.post("/api/v1/lots", {"material": "KIT", "lot": "K1", "manufactured_on": days(0).isoformat()}).status_code
        == 201
    )
    for move in (
        {
            "type": "consumption",
            "material": "TUBE",
            "lot": "T1",
            "quantity": 40,
            "from_location": "WH",
            "reference": "MO-1",
        },
        {"type": "output", "material": "KIT", "lot": "K1", "quantity": 20, "to_location": "QUA", "reference": "MO-1"},
    ):
        response = qa.post("/api/v1/movements", move)
        assert response.status_code == 201, response.get_json()
    lot = qa.get("/api/v1/lots?material=KIT&lot=K1").get_json()["items"][0]
    assert qa.post(f"/api/v1/lots/{lot['id']}/release", {"reason": "sterility test passed"}).status_code == 200
    assert (
        qa.post(
            "/api/v1/movements",
            {
                "type": "transfer",
                "material": "KIT",
                "lot": "K1",
                "quantity": 20,
                "from_location": "QUA",
                "to_location": "WH",
            },
        ).status_code
        == 201
    )
    picks = sales.get("/api/v1/fefo?material=KIT&quantity=25&customer=HOSP").get_json()
    assert picks == {
        "picks": [
            {"lot": "K1", "from_location": "WH", "expires_on": days(730).isoformat(), "available": 20, "quantity": 20}
        ],
        "shortfall": 5,
    }
    shipment = sales.post(
        "/api/v1/shipments",
        {"customer": "HOSP", "lines": [{"material": "KIT", "lot": "K1", "quantity": 5, "from_location": "WH"}]},
    ).get_json()
    shipped = sales.post(f"/api/v1/shipments/{shipment['id']}/ship", {})
    assert shipped.status_code == 200, shipped.get_json()
    return shipped.get_json()


def test_trace_api_follows_the_contract(app, api):
    shipment = _produce_and_ship(app, api)
    forward = api("requester").get("/api/v1/trace?material=TUBE&lot=T1&direction=forward")
    assert forward.status_code == 200
    body = forward.get_json()
    assert set(body) == TRACE_KEYS and set(body["root"]) == SHAPES["root"]
    for section in TRACE_KEYS - {"root"}:
        assert body[section], section
        assert all(set(entry) == SHAPES[section] for entry in body[section]), section
    assert body["root"] == {"material": "TUBE", "lot": "T1"}
    assert body["lots"] == [{"material": "KIT", "lot": "K1", "depth": 1, "status": "released"}]
    [line] = body["shipments"]
    assert line == {**line, "shipment": shipment["number"], "customer": "HOSP", "quantity": 5, "serial": None}
    assert body["customers"] == [{"code": "HOSP", "name": "Hosp", "quantity": 5}]
    assert {(r["location"], r["lot"], r["quantity"]) for r in body["stock"]} == {("WH", "T1", 60), ("WH", "K1", 15)}
    assert body["suppliers"] == [{"code": "SUP-TUBE", "name": "Sup-Tube", "material": "TUBE", "lot": "T1"}]
    backward = api("requester").get("/api/v1/trace?material=KIT&lot=K1&direction=backward").get_json()
    assert backward["lots"] == [{"material": "TUBE", "lot": "T1", "depth": 1, "status": "released"}]


@pytest.mark.parametrize(
    "query, status, field",
    [
        ("material=TUBE", 400, "lot"),
        ("material=TUBE&lot=T1&direction=up", 400, "direction"),
        ("material=TUBE&lot=T1&depth=3", 400, "depth"),
        ("material=TUBE&lot=NOPE", 404, None),
    ],
)
def test_trace_api_errors(api, query, status, field):
    response = api("qa").get(f"/api/v1/trace?{query}")
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"code", "message", "errors"} and (field is None or field in body["errors"])


def test_material_crud_is_validated_audited_and_never_deleted(app, api):
    qa = api("qa")
    created = qa.post(
        "/api/v1/materials",
        {"code": "CATH-2", "name": "Catheter", "tracking": "lot", "gtin": gtin(201), "device_class": "II"},
    )
    assert created.status_code == 201 and created.get_json()["gtin"] == gtin(201)
    bad = qa.post(
        "/api/v1/materials",
        {"code": "X", "name": "X", "tracking": "lots", "colour": "red", "gtin": bad_check_digit(gtin(202))},
    )
    assert bad.status_code == 400 and {"tracking", "colour"} <= set(bad.get_json()["errors"])
    bad_gtin = qa.post(
        "/api/v1/materials", {"code": "X", "name": "X", "tracking": "lot", "gtin": bad_check_digit(gtin(202))}
    )
    assert bad_gtin.status_code == 400 and "check digit" in bad_gtin.get_json()["errors"]["gtin"]
    assert _patch(qa, "/api/v1/materials/CATH-2", {"name": "Catheter, 2 m"}).status_code == 400  # no reason
    changed = _patch(qa, "/api/v1/materials/CATH-2", {"name": "Catheter, 2 m", "reason": "label revision C"})
    assert changed.status_code == 200 and changed.get_json()["name"] == "Catheter, 2 m"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "material.update"))
        assert (event.before, event.after, event.reason) == (
            {"name": "Catheter"},
            {"name": "Catheter, 2 m"},
            "label revision C",
        )
    assert qa.post("/api/v1/materials/CATH-2/void", {"reason": "duplicate"}).status_code == 200
    codes = [m["code"] for m in qa.get("/api/v1/materials?per_page=100").get_json()["items"]]
    assert "CATH-2" not in codes
    voided = qa.get("/api/v1/materials?include_voided=true&q=CATH").get_json()["items"]
    assert voided[0]["voided_at"] and voided[0]["void_reason"] == "duplicate"
    assert qa.get("/api/v1/materials/CATH-2").status_code == 200


def test_lists_paginate_and_filter(api):
    qa = api("qa")
    page = qa.get("/api/v1/materials?per_page=2&page=2").get_json()
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (2, 2, 4, 2)
    assert [m["code"] for m in qa.get("/api/v1/materials?tracking=serial").get_json()["items"]] == ["BPM"]
    assert [c["code"] for c in qa.get(f"/api/v1/customers?license_valid_before={days(0)}").get_json()["items"]] == [
        "DIST-EXP"
    ]
    assert [s["code"] for s in qa.get("/api/v1/suppliers?status=pending").get_json()["items"]] == ["SUP-NEW"]
    assert qa.get("/api/v1/locations?kind=subcontractor").get_json()["items"][0]["code"] == "STER"
    assert qa.get("/api/v1/materials?per_page=0").status_code == 400
    supplier = qa.get("/api/v1/suppliers/STERI").get_json()
    assert supplier["scope"] == {"materials": [], "services": ["EO sterilization"]}
    assert {c["type"] for c in supplier["certificates"]} == {"iso13485", "business_licence"}


def test_guard_refusal_is_422_naming_the_rule(app, api):
    response = api("qa").post(
        "/api/v1/receipts",
        {"supplier": "SUP-NEW", "material": "TUBE", "lot": "T9", "quantity": 5, "to_location": "QUA"},
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"]["rule"] == "REC-SUPPLIER-APPROVED" and "REC-SUPPLIER-APPROVED" in body["message"]


def test_receive_by_scan_and_parse_udi(api):
    qa = api("qa")
    scan = "]d201" + gtin(102) + "11260301" + "10B-7" + "\x1d" + "21SN-0001"
    parsed = qa.post("/api/v1/udi/parse", {"code": scan}).get_json()
    assert parsed == {
        **parsed,
        "gtin": gtin(102),
        "lot": "B-7",
        "serial": "SN-0001",
        "production_date": "2026-03-01",
        "material": "BPM",
    }
    received = qa.post("/api/v1/receipts/scan", {"scan": scan, "supplier": "SUP-TUBE", "to_location": "QUA"})
    assert received.status_code == 201, received.get_json()
    body = received.get_json()
    assert body["lot"]["lot"] == "B-7" and body["movements"][0]["serial"] == "SN-0001"
    again = qa.post("/api/v1/receipts/scan", {"scan": scan, "supplier": "SUP-TUBE", "to_location": "QUA"})
    assert again.status_code == 400 and again.get_json()["errors"] == {"serial": "already in stock"}
    unknown = qa.post("/api/v1/udi/parse", {"code": "(01)" + gtin(999) + "(10)X"}).get_json()
    assert unknown["material"] is None
    assert qa.post(
        "/api/v1/receipts/scan", {"scan": "(01)" + gtin(999) + "(10)X", "supplier": "SUP-TUBE", "to_location": "QUA"}
    ).get_json()["errors"] == {"gtin": "unknown"}
    bad = qa.post("/api/v1/udi/parse", {"code": "(01)" + bad_check_digit(gtin(102))})
    assert bad.status_code == 400 and "gtin" in bad.get_json()["errors"]


@pytest.mark.parametrize(
    "username, method, url, body",
    [
        ("requester", "post", "/api/v1/materials", {"code": "Z", "name": "Z", "tracking": "lot"}),
        ("qa", "post", "/api/v1/shipments", {"customer": "HOSP", "lines": []}),
        ("sales", "post", "/api/v1/receipts", {}),
        ("warehouse", "post", "/api/v1/suppliers/SUP-NEW/status", {"status": "approved", "reason": "x"}),
        ("qa", "post", "/api/v1/imports", None),
    ],
)
def test_permissions(api, username, method, url, body):
    assert getattr(api(username), method)(url, body).status_code == 403


def test_import_over_http_is_all_or_nothing(app):
    admin = Api(app, "admin")

    def upload(files):
        data = {name: (io.BytesIO(text.encode()), name) for name, text in files.items()}
        return admin.client.post(
            "/api/v1/imports", data=data, headers=admin.headers, content_type="multipart/form-data"
        )

    with app.app_context():
        before = table_snapshot()
    rejected = upload({**VALID, "locations.csv": VALID["locations.csv"] + "X,Y,garage\n"})
    assert rejected.status_code == 422
    assert rejected.get_json()["errors"]["rows"] == [
        {
            "file": "locations.csv",
            "row": 6,
            "column": "kind",
            "reason": "must be one of warehouse|quarantine|subcontractor|production|customer",
        }
    ]
    with app.app_context():
        after = table_snapshot()
        assert len(after.pop("audit_events")) == len(before.pop("audit_events")) + 1 and after == before
    assert upload({}).status_code == 400
    done = upload(VALID)
    assert done.status_code == 201 and done.get_json()["imported"]["movements.csv"] == 13
    assert admin.get("/api/v1/trace?material=RAW&lot=R1").get_json()["lots"][0]["lot"] == "K1"


def test_openapi_describes_the_erp_paths(app):
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/trace",
        "/api/v1/imports",
        "/api/v1/udi/parse",
        "/api/v1/materials/{code}",
        "/api/v1/lots/{lot_id}/release",
        "/api/v1/shipments/{shipment_id}/ship",
        "/api/v1/receipts/scan",
    ):
        assert path in paths, path


def test_ledger_stock_serials_and_shipment_lists(app, api):
    _produce_and_ship(app, api)
    viewer = api("requester")
    stock = viewer.get("/api/v1/stock?material=KIT&lot=K1").get_json()
    assert [(r["location"], r["quantity"]) for r in stock] == [("WH", 15)]
    assert viewer.get("/api/v1/stock?lot=K1").status_code == 400
    moves = viewer.get("/api/v1/movements?material=TUBE&lot=T1&type=consumption").get_json()
    assert moves["total"] == 1 and moves["items"][0]["reference"] == "MO-1" and moves["items"][0]["user"] == "qa"
    assert viewer.get("/api/v1/movements?location=WH&per_page=1").get_json()["total"] >= 4
    movement_id = moves["items"][0]["id"]
    assert viewer.get(f"/api/v1/movements/{movement_id}").get_json()["type"] == "consumption"
    reversed_ = api("qa").post(f"/api/v1/movements/{movement_id}/reverse", {"reason": "wrong order"})
    assert reversed_.status_code == 201 and reversed_.get_json()["reverses_id"] == movement_id
    assert viewer.get("/api/v1/trace?material=TUBE&lot=T1").get_json()["lots"] == []
    shipments = viewer.get("/api/v1/shipments?customer=HOSP&status=shipped").get_json()
    assert shipments["total"] == 1 and shipments["items"][0]["lines"][0]["lot"] == "K1"
    with app.app_context():
        from webapp.services.erp import receipts

        receipts.receive(
            user("qa"),
            {
                "supplier": "SUP-TUBE",
                "material": "BPM",
                "lot": "B1",
                "quantity": 2,
                "to_location": "QUA",
                "serials": ["S-1", "S-2"],
            },
        )
    serials = viewer.get("/api/v1/serials?material=BPM").get_json()
    assert [s["serial"] for s in serials["items"]] == ["S-1", "S-2"] and serials["items"][0]["lot"] == "B1"


WIDE = 10**23
RECEIPT = {"supplier": "SUP-TUBE", "material": "TUBE", "lot": "T9", "quantity": 5, "to_location": "QUA"}
TEMPERATURE = {"transport_mode": "cold chain", "min_c": 2, "max_c": 8, "arrival_c": 5}


@pytest.mark.parametrize(
    "username, url, body, field",
    [
        ("qa", "/api/v1/receipts", {**RECEIPT, "quantity": 2**31}, "quantity"),
        ("qa", "/api/v1/receipts", {**RECEIPT, "quantity": WIDE}, "quantity"),
        ("qa", "/api/v1/receipts", {**RECEIPT, "quantity": 2.5}, "quantity"),
        ("qa", "/api/v1/receipts", {**RECEIPT, "temperature": {**TEMPERATURE, "transit_minutes": WIDE}}, "temperature"),
        (
            "qa",
            "/api/v1/movements",
            {"type": "adjustment", "material": "TUBE", "lot": "T1", "quantity": WIDE, "to_location": "WH"},
            "quantity",
        ),
        (
            "sales",
            "/api/v1/shipments",
            {"customer": "HOSP", "lines": [{"material": "KIT", "lot": "K1", "quantity": WIDE, "from_location": "WH"}]},
            "lines",
        ),
        (
            "qa",
            "/api/v1/materials",
            {"code": "LONG", "name": "x", "tracking": "none", "shelf_life_days": 10**6},
            "shelf_life_days",
        ),
        (
            "qa",
            "/api/v1/customers",
            {"code": "C-9", "name": "x", "min_remaining_shelf_life_days": WIDE},
            "min_remaining_shelf_life_days",
        ),
    ],
)
def test_integer_fields_beyond_the_database_are_400_naming_the_field(app, api, username, url, body, field):
    client = api(username)
    with app.app_context():
        before = table_snapshot()
    response = client.post(url, body)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["errors"]
    with app.app_context():
        assert table_snapshot() == before


def test_a_material_form_with_a_shelf_life_beyond_the_calendar_is_refused_on_the_page(app, api):
    from tests.helpers import Browser

    qa = Browser(app, "qa")
    page = qa.post(
        "/erp/materials/new",
        {
            "code": "LONG",
            "name": "Long life",
            "tracking": "none",
            "storage": "ambient",
            "unit": "EA",
            "shelf_life_days": "99999999999",
        },
    )
    assert page.status_code == 400 and "LONG" not in [
        m["code"] for m in api("qa").get("/api/v1/materials?q=LONG").get_json()["items"]
    ]


def test_a_shipment_line_quantity_beyond_the_database_is_refused_on_the_page(app, api):
    from tests.helpers import Browser

    with app.app_context():
        released_stock(user("qa"))  # TUBE lot T1 in WH
    sales = Browser(app, "sales")
    page = sales.post(
        "/erp/shipments/new",
        {
            "customer": "HOSP",
            "material": "TUBE",
            "lot": "T1",
            "serial": "",
            "quantity": str(WIDE),
            "from_location": "WH",
        },
    )
    assert page.status_code == 400 and api("sales").get("/api/v1/shipments").get_json()["total"] == 0
