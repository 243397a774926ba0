"""ERP pages, worked through the browser client by the user of each role (zh-CN by default)."""

import csv
import io
import re

import pytest
from sqlalchemy import select

from tests.erp_world import bad_check_digit, build_world, gtin, receive, released_stock
from tests.helpers import Browser, table_snapshot, user
from tests.integration.test_erp_import import VALID
from webapp.extensions import db
from webapp.models import AuditEvent, Lot, Material


@pytest.fixture
def world(app):
    with app.app_context():
        qa = build_world()
        released_stock(qa)
        receive(qa, "TUBE", "T2", 50)
        db.session.remove()
    return app


def _lot_id(app, number):
    with app.app_context():
        return db.session.scalar(select(Lot.id).where(Lot.lot_number == number))


def test_every_erp_page_renders_in_both_languages(world):
    qa = Browser(world, "qa")
    lot_id = _lot_id(world, "T1")
    pages = [
        "/erp/",
        "/erp/materials",
        "/erp/suppliers",
        "/erp/customers",
        "/erp/locations",
        "/erp/materials/new",
        "/erp/materials/TUBE",
        "/erp/suppliers/STERI",
        "/erp/customers/HOSP",
        "/erp/locations/QUA",
        "/erp/lots",
        f"/erp/lots/{lot_id}",
        "/erp/receive",
        "/erp/movements/new",
        "/erp/shipments",
        "/erp/udi",
        "/erp/udi?code=(01)" + gtin(101) + "(10)K",
        "/erp/trace",
        "/erp/trace?material=TUBE&lot=T1",
    ]
    for locale in ("zh_CN", "en"):
        qa.post("/locale", {"locale": locale, "next": "/"})
        for page in pages:
            response = qa.get(page)
            assert response.status_code == 200, (locale, page, response.status_code)
            html = response.get_data(as_text=True)
            assert "<script>" not in html and ('lang="zh-CN"' in html) == (locale == "zh_CN")
    assert "物料" in Browser(world, "qa").get("/erp/materials").get_data(as_text=True)


def test_the_supplier_page_shows_its_performance_from_the_ledger(world):
    html = Browser(world, "qa").get("/erp/suppliers/SUP-TUBE").get_data(as_text=True)
    table = html[html.index("供应商业绩(近 365 天)") :]
    cells = re.findall(r"<td>([^<]*)</td>", table[table.index("<tbody>") : table.index("</tbody>")])
    # T1 received and released, T2 received and still in quarantine
    assert cells == ["2", "2", "150", "1", "0", "0", "1", "0", "100.0 %"]
    empty = Browser(world, "qa").get("/erp/suppliers/STERI").get_data(as_text=True)
    assert "<td>—</td>" in empty


def test_material_form_validates_saves_and_audits_with_a_reason(world):
    qa = Browser(world, "qa")
    bad = qa.post(
        "/erp/materials/new", {"code": "CK-200", "name": "Kit", "tracking": "lot", "gtin": bad_check_digit(gtin(200))}
    )
    assert bad.status_code == 400 and "check digit" in bad.get_data(as_text=True)
    saved = qa.post(
        "/erp/materials/new",
        {"code": "CK-200", "name": "Kit", "tracking": "lot", "gtin": gtin(200), "device_class": "III"},
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/erp/materials/CK-200")
    no_reason = qa.post("/erp/materials/CK-200/edit", {"name": "Kit 2", "tracking": "lot"})
    assert no_reason.status_code == 400
    changed = qa.post(
        "/erp/materials/CK-200/edit",
        {
            "name": "Kit 2",
            "tracking": "lot",
            "gtin": gtin(200),
            "device_class": "III",
            "storage": "ambient",
            "unit": "EA",
            "reason": "new name",
        },
    )
    assert changed.status_code == 302
    with world.app_context():
        material = db.session.scalar(select(Material).where(Material.code == "CK-200"))
        assert material.name == "Kit 2"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "material.update"))
        assert event.before == {"name": "Kit"} and event.reason == "new name" and event.actor_name == "qa"
    qa.post("/erp/materials/CK-200/void", {"reason": "duplicate"})
    assert "duplicate" in qa.get("/erp/materials/CK-200").get_data(as_text=True)


def test_viewers_see_records_but_no_edit_actions_and_cannot_post(world):
    requester = Browser(world, "requester")
    page = requester.get("/erp/materials/TUBE").get_data(as_text=True)
    assert "reason" not in page and "/void" not in page
    assert requester.post("/erp/materials/TUBE/edit", {"name": "x", "reason": "x"}).status_code == 403
    assert requester.post(f"/erp/lots/{_lot_id(world, 'T2')}/release", {"reason": "x"}).status_code == 403
    assert requester.get("/erp/import").status_code == 403


def test_qa_releases_a_lot_on_its_page(world):
    qa = Browser(world, "qa")
    lot_id = _lot_id(world, "T2")
    page = qa.get(f"/erp/lots/{lot_id}").get_data(as_text=True)
    assert "PO-1" in page and "QUA" in page and "/release" in page
    assert qa.post(f"/erp/lots/{lot_id}/release", {"reason": "incoming inspection passed"}).status_code == 302
    assert "已放行" in qa.get(f"/erp/lots/{lot_id}").get_data(as_text=True)


def test_a_cold_chain_receipt_without_temperatures_is_refused_naming_the_rule(world):
    qa = Browser(world, "qa")
    with world.app_context():
        before = table_snapshot()
    response = qa.post(
        "/erp/receive",
        {"supplier": "SUP-REAG", "material": "REAGENT", "lot": "R1", "quantity": "5", "to_location": "QUA"},
    )
    assert response.status_code == 422
    assert "REC-COLD-CHAIN-RECORD" in response.get_data(as_text=True) and "温度记录" in response.get_data(as_text=True)
    with world.app_context():
        after = table_snapshot()
        assert len(after.pop("audit_events")) == len(before.pop("audit_events")) + 1 and after == before
    received = qa.post(
        "/erp/receive",
        {
            "supplier": "SUP-REAG",
            "material": "REAGENT",
            "lot": "R1",
            "quantity": "5",
            "to_location": "QUA",
            "transport_mode": "reefer",
            "min_c": "3",
            "max_c": "11.2",
            "arrival_c": "5",
            "transit_minutes": "47",
        },
    )
    assert received.status_code == 302
    assert "冻结" in qa.get(received.headers["Location"]).get_data(as_text=True)  # the excursion put it on hold


def test_receiving_by_scan(world):
    qa = Browser(world, "qa")
    scan = "]d201" + gtin(102) + "10B1" + "\x1d" + "21SN-9"
    response = qa.post("/erp/receive", {"scan": scan, "supplier": "SUP-TUBE", "to_location": "QUA"})
    assert response.status_code == 302
    assert "SN-9" in qa.get(response.headers["Location"]).get_data(as_text=True)


def test_shipping_with_fefo_and_a_refused_customer(world):
    sales = Browser(world, "sales")
    suggestion = sales.get("/erp/shipments/new?customer=HOSP&material=TUBE&quantity=30").get_data(as_text=True)
    assert 'value="T1"' in suggestion and 'value="30"' in suggestion
    draft = sales.post(
        "/erp/shipments/new",
        {
            "customer": "HOSP",
            "material": ["TUBE", ""],
            "lot": ["T1", ""],
            "serial": ["", ""],
            "quantity": ["30", ""],
            "from_location": ["WH", ""],
        },
    )
    assert draft.status_code == 302
    shipped = sales.post(draft.headers["Location"] + "/ship")
    assert "已发货" in sales.get(shipped.headers["Location"]).get_data(as_text=True)
    held = sales.post(
        "/erp/shipments/new",
        {"customer": "DIST-EXP", "material": "TUBE", "lot": "T1", "serial": "", "quantity": "1", "from_location": "WH"},
    )
    refused = sales.post(held.headers["Location"] + "/ship", follow_redirects=True).get_data(as_text=True)
    assert "SHP-CUSTOMER-LICENCE" in refused and "草稿" in refused


def test_trace_page_and_csv_export(world):
    viewer = Browser(world, "requester")
    page = viewer.get("/erp/trace?material=TUBE&lot=T1&direction=forward").get_data(as_text=True)
    assert 'class="tree"' in page and "SUP-TUBE" in page
    export = viewer.get("/erp/trace.csv?material=TUBE&lot=T1&direction=backward")
    assert export.mimetype == "text/csv" and "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0]["section"] == "root" and rows[0]["lot"] == "T1"
    assert viewer.get("/erp/trace?material=TUBE&lot=NOPE").status_code == 404


def test_import_page_shows_the_report(app):
    admin = Browser(app, "admin")
    data = {"files": [(io.BytesIO(VALID["suppliers.csv"].replace("approved", "ok", 1).encode()), "suppliers.csv")]}
    response = admin.post("/erp/import", data, content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r"<td>suppliers.csv</td><td>2</td><td>status</td>", html)
    ok = admin.post(
        "/erp/import",
        {"files": [(io.BytesIO(VALID["suppliers.csv"].encode()), "suppliers.csv")]},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 200 and "suppliers.csv" in ok.get_data(as_text=True)
    with app.app_context():
        assert user("admin") is not None


def test_record_pickers_suggest_the_records_that_match_what_was_typed(world):
    qa = Browser(world, "qa")
    materials = qa.get("/erp/pick/material?q=tub").get_json()
    assert materials == [{"value": "TUBE", "label": "TUBE PVC tubing"}]
    by_name = [m["value"] for m in qa.get("/erp/pick/material?q=kit").get_json()]
    assert "KIT" in by_name and "REAGENT" in by_name and "TUBE" not in by_name  # code or name, any case
    lots = qa.get("/erp/pick/lot?q=T&material=TUBE").get_json()
    assert [lot["value"] for lot in lots] == ["T1", "T2"]
    assert qa.get("/erp/pick/lot?q=T&material=KIT").get_json() == []
    assert qa.get("/erp/pick/material?q=%25").get_json() == []  # LIKE wildcards are literal
    assert qa.get("/erp/pick/nothing?q=a").status_code == 400
    receive_page = qa.get("/erp/receive").get_data(as_text=True)
    assert 'list="pick-material"' in receive_page and 'data-pick="/erp/pick/supplier"' in receive_page
    trace_page = qa.get("/erp/trace").get_data(as_text=True)
    assert 'data-pick="/erp/pick/lot" data-pick-material="material"' in trace_page
