"""Every route × every role: the allow/deny matrix, asserted over HTTP.

The expectation below is written out by hand from the role descriptions (README, rules/
access_policy.json); a new endpoint fails this test until someone decides who may use it.
"""

import pytest

from tests.helpers import Api, Browser, route_url
from webapp.security import PUBLIC_ENDPOINTS

ROLES = [
    "admin",
    "process_owner",
    "qa",
    "qa_manager",
    "regulatory",
    "purchasing",
    "warehouse",
    "production",
    "sales",
    "employee",
]
EVERYONE = set(ROLES)
AUDITORS = {"qa", "qa_manager", "regulatory", "admin"}
MASTER_DATA = {"purchasing", "qa", "qa_manager", "regulatory", "sales"}
INVENTORY = {"warehouse", "production", "qa", "qa_manager"}
SHIPPING = {"warehouse", "sales"}
QUALITY = {"qa", "qa_manager"}
COMPLAINTS = {"qa", "qa_manager", "regulatory", "sales"}
EXPECTED = {
    "auth.logout": EVERYONE,
    "auth.change_password": EVERYONE,
    "main.inbox": EVERYONE,
    "main.processes": EVERYONE,
    "main.start": EVERYONE,
    "main.start_form": EVERYONE,
    "main.task": EVERYONE,
    "main.claim": EVERYONE,
    "main.unclaim": EVERYONE,
    "main.instance_list": EVERYONE,
    "main.instance": EVERYONE,
    "api.process_definitions": EVERYONE,
    "api.start_instance": EVERYONE,
    "api.get_instance": EVERYONE,
    "api.list_tasks": EVERYONE,
    "api.get_task": EVERYONE,
    "api.claim_task": EVERYONE,
    "api.unclaim_task": EVERYONE,
    "api.complete_task": EVERYONE,
    "api.revoke_token": EVERYONE,
    "api.audit_verify": AUDITORS,
    "audit.events": AUDITORS,
    "audit.record": AUDITORS,
    "audit.export_csv": AUDITORS,
    "audit.export_pdf": AUDITORS,
    "audit.instance_pdf": EVERYONE,
    "admin.user_list": {"admin"},
    "admin.user_new": {"admin"},
    "admin.user_edit": {"admin"},
    "main.cancel": {"qa_manager", "admin"},
    "main.retry_incident": EVERYONE,
    "main.retry_message": EVERYONE,
    "main.notifications_read": EVERYONE,
    "api.retry_incident": EVERYONE,
    "api.retry_message": EVERYONE,
    "api.cancel_instance": {"qa_manager", "admin"},
    "api.create_deployment": {"admin", "process_owner"},
    "api.decide_deployment": {"qa", "qa_manager"},
    "api.migrate_instance": {"admin", "process_owner"},
    "processes.definition": EVERYONE,
    "processes.version_diagram": EVERYONE,
    "processes.version_file": EVERYONE,
    "processes.version_diff": EVERYONE,
    "processes.diff_svg": EVERYONE,
    "processes.instance_diagram": EVERYONE,
    "processes.deployment_list": EVERYONE,
    "processes.upload": {"admin", "process_owner"},
    "processes.decide": {"qa", "qa_manager"},
    "processes.migration_list": {"admin", "process_owner"},
    "processes.migrate": {"admin", "process_owner"},
    # ERP: everyone reads and traces; edits by the functions that own the records
    **dict.fromkeys(
        (
            "api.fefo",
            "api.get_customer",
            "api.get_location",
            "api.get_lot",
            "api.get_material",
            "api.get_movement",
            "api.get_shipment",
            "api.get_stock",
            "api.get_supplier",
            "api.list_customers",
            "api.list_locations",
            "api.list_lots",
            "api.list_materials",
            "api.list_movements",
            "api.list_serials",
            "api.list_shipments",
            "api.list_suppliers",
            "api.parse_udi",
            "erp.index",
            "erp.lot",
            "erp.lot_list",
            "erp.record",
            "erp.record_list",
            "erp.shipment",
            "erp.shipment_list",
            "erp.udi",
            "erp.pick",
            "api.trace",
            "erp.trace_csv",
            "erp.trace_page",
            "erp.recall_list",
            "erp.recall",
            "erp.recall_notice",
            "api.get_recall",
        ),
        EVERYONE,
    ),
    # complaints (patient and event details): quality, regulatory and the sales side that takes them in
    **dict.fromkeys(
        (
            "erp.complaint_list",
            "erp.complaint",
            "erp.complaint_export",
            "erp.complaint_reports_export",
            "api.list_complaints",
            "api.get_complaint",
            "api.list_complaint_deadlines",
            "api.get_complaint_report",
            "erp.complaint_report_pdf",
        ),
        COMPLAINTS,
    ),
    **dict.fromkeys(
        (
            "api.add_certificate",
            "api.create_customer",
            "api.create_location",
            "api.create_material",
            "api.create_supplier",
            "api.update_customer",
            "api.update_location",
            "api.update_material",
            "api.update_supplier",
            "api.void_certificate",
            "api.void_customer",
            "api.void_location",
            "api.void_material",
            "api.void_supplier",
            "erp.certificate_add",
            "erp.certificate_void",
            "erp.record_edit",
            "erp.record_new",
            "erp.record_void",
        ),
        MASTER_DATA,
    ),
    **dict.fromkeys(
        (
            "api.create_lot",
            "api.create_movement",
            "api.create_receipt",
            "api.reverse_movement",
            "api.scan_receipt",
            "api.update_lot",
            "api.void_lot",
            "erp.movement_new",
            "erp.movement_reverse",
            "erp.receive",
        ),
        INVENTORY,
    ),
    **dict.fromkeys(
        (
            "api.create_shipment",
            "api.ship_shipment",
            "api.void_shipment",
            "erp.shipment_new",
            "erp.shipment_ship",
            "erp.shipment_void",
        ),
        SHIPPING,
    ),
    **dict.fromkeys(
        (
            "api.release_lot",
            "api.set_lot_status",
            "erp.lot_release",
            "erp.lot_status",
            "api.set_supplier_scope",
            "api.set_supplier_status",
            "erp.supplier_scope",
            "erp.supplier_status",
        ),
        QUALITY,
    ),
    **{e: {"admin", "qa_manager"} for e in ("api.create_import", "erp.import_page")},
    # attachments: everyone downloads; everyone but the administrator (who edits no GxP record) uploads
    "api.upload_attachment": EVERYONE - {"admin"},
    "api.remove_attachment": EVERYONE - {"admin"},
    "api.download_attachment": EVERYONE,
    "main.attachment": EVERYONE,
    # controlled documents and training; the matrix is for QA (and the administrator)
    **dict.fromkeys(
        (
            "erp.document_list",
            "erp.document",
            "erp.my_training",
            "erp.training_sign",
            "api.list_documents",
            "api.get_document",
            "api.my_training",
            "api.complete_training",
        ),
        EVERYONE,
    ),
    "erp.training_matrix": {"qa", "qa_manager", "admin"},
    "erp.training_matrix_csv": {"qa", "qa_manager", "admin"},
    "erp.user_training": {"qa", "qa_manager", "admin"},
}
SESSION_ENDERS = {"auth.logout": ("POST", "/logout"), "api.revoke_token": ("DELETE", "/api/v1/auth/token")}
ARGS = {
    "task_id": "00000000-0000-0000-0000-000000000000",
    "instance_id": "999",
    "key": "nothing",
    "kind": "material",
    "user_id": "999",
    "deployment_id": "999",
    "number": "999",
    "name": "x.bpmn",
    "entity_type": "user",
    "entity_id": "999",
    "filename": "app.css",
    "code": "X-1",
    "lot_id": "999",
    "movement_id": "999",
    "shipment_id": "999",
    "certificate_id": "999",
    "plural": "materials",
    "incident_id": "999",
    "message_id": "999",
    "business_key": "RC-999",
    "report_id": "999",
    "customer": "X-1",
    "attachment_id": "999",
    "record_id": "999",
    "username": "nobody",
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = route_url(rule, ARGS)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint in SESSION_ENDERS:
                continue  # would end the session the walk relies on; walked last, below
            yield rule.endpoint, method, url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_role_route_matrix(app):
    with app.app_context():
        from webapp.services.users import create_user

        for role in ROLES:
            create_user(f"only_{role}", "Matrix-Password-1", [role])
    routes = list(_routes(app))
    assert {e for e, _, _ in routes} | set(SESSION_ENDERS) == set(EXPECTED), "update EXPECTED for new endpoints"
    mismatches = []
    for role in ROLES:
        page, api = Browser(app, f"only_{role}", "Matrix-Password-1"), Api(app, f"only_{role}", "Matrix-Password-1")
        for endpoint, method, url in routes:
            client = api if url.startswith("/api/") else page
            if method == "GET":
                response = client.get(url)
            elif url.startswith("/api/"):
                response = client.client.open(url, method=method, json={}, headers=client.headers)
            else:
                response = client.post(url, {})
            _check(mismatches, role, endpoint, method, response)
        revoked = api.client.delete("/api/v1/auth/token", headers=api.headers)
        _check(mismatches, role, "api.revoke_token", "DELETE", revoked)
        _check(mismatches, role, "auth.logout", "POST", page.post("/logout"))
    assert mismatches == []


def _check(mismatches, role, endpoint, method, response):
    assert response.status_code != 401, (role, endpoint, "lost the session during the walk")
    if (response.status_code == 403) == (role in EXPECTED[endpoint]):
        mismatches.append((role, endpoint, method, response.status_code))
