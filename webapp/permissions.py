"""Role-based access, decided in one place: every endpoint names one permission here, and the
policy in rules/access_policy.json says which roles hold it. security.py checks it before any view
runs. An endpoint missing from ENDPOINT_PERMISSIONS is refused to everyone (fail closed).
"""

import json
from functools import lru_cache
from pathlib import Path

from flask import current_app

ANY_USER = "*"

ENDPOINT_PERMISSIONS = {
    "auth.logout": "session.use",
    "auth.change_password": "session.use",
    "api.revoke_token": "session.use",
    "api.audit_verify": "audit.view",
    "main.cancel": "instance.cancel",
    "main.retry_incident": "workflow.use",
    "main.notifications_read": "workflow.use",
    "api.retry_incident": "workflow.use",
    "api.retry_message": "workflow.use",
    "main.retry_message": "workflow.use",
    "processes.definition": "process.view",
    "processes.version_diagram": "process.view",
    "processes.version_file": "process.view",
    "processes.version_diff": "process.view",
    "processes.diff_svg": "process.view",
    "processes.instance_diagram": "workflow.use",
    "processes.deployment_list": "process.view",
    "processes.upload": "process.deploy",
    "processes.decide": "process.approve",
    "processes.migration_list": "process.migrate",
    "processes.migrate": "process.migrate",
    "api.create_deployment": "process.deploy",
    "api.decide_deployment": "process.approve",
    "api.migrate_instance": "process.migrate",
    "api.cancel_instance": "instance.cancel",
    "audit.events": "audit.view",
    "audit.record": "audit.view",
    "audit.export_csv": "audit.view",
    "audit.export_pdf": "audit.view",
    "audit.instance_pdf": "workflow.use",
    "admin.user_list": "admin.users",
    "admin.user_new": "admin.users",
    "admin.user_edit": "admin.users",
    "main.inbox": "workflow.use",
    "main.processes": "workflow.use",
    "main.start": "workflow.use",
    "main.start_form": "workflow.use",
    "main.task": "workflow.use",
    "main.claim": "workflow.use",
    "main.unclaim": "workflow.use",
    "main.instance_list": "workflow.use",
    "main.instance": "workflow.use",
    "api.process_definitions": "workflow.use",
    "api.start_instance": "workflow.use",
    "api.get_instance": "workflow.use",
    "api.list_tasks": "workflow.use",
    "api.get_task": "workflow.use",
    "api.claim_task": "workflow.use",
    "api.unclaim_task": "workflow.use",
    "api.complete_task": "workflow.use",
    # attachments
    "api.upload_attachment": "attachment.upload",
    "api.download_attachment": "attachment.view",
    "api.remove_attachment": "attachment.upload",
    "main.attachment": "attachment.view",
    # ERP master data
    **{f"api.list_{plural}": "erp.view" for plural in ("materials", "suppliers", "customers", "locations")},
    **{f"api.get_{kind}": "erp.view" for kind in ("material", "supplier", "customer", "location")},
    **{
        f"api.{verb}_{kind}": "erp.master_data.edit"
        for verb in ("create", "update", "void")
        for kind in ("material", "supplier", "customer", "location")
    },
    "api.set_supplier_status": "erp.supplier.approve",
    "api.set_supplier_scope": "erp.supplier.approve",
    "api.add_certificate": "erp.master_data.edit",
    "api.void_certificate": "erp.master_data.edit",
    # lots, ledger, stock
    "api.list_lots": "erp.view",
    "api.get_lot": "erp.view",
    "api.create_lot": "erp.inventory.edit",
    "api.update_lot": "erp.inventory.edit",
    "api.void_lot": "erp.inventory.edit",
    "api.release_lot": "erp.lot.release",
    "api.set_lot_status": "erp.lot.release",
    "api.list_serials": "erp.view",
    "api.list_movements": "erp.view",
    "api.get_movement": "erp.view",
    "api.create_movement": "erp.inventory.edit",
    "api.reverse_movement": "erp.inventory.edit",
    "api.get_stock": "erp.view",
    "api.create_receipt": "erp.inventory.edit",
    "api.scan_receipt": "erp.inventory.edit",
    # shipments
    "api.list_shipments": "erp.view",
    "api.get_shipment": "erp.view",
    "api.create_shipment": "erp.shipment.edit",
    "api.ship_shipment": "erp.shipment.edit",
    "api.void_shipment": "erp.shipment.edit",
    "api.fefo": "erp.view",
    # UDI, trace, import
    "api.parse_udi": "erp.view",
    "api.trace": "trace.view",
    "api.get_recall": "erp.view",
    "api.list_complaints": "complaint.view",
    "api.get_complaint": "complaint.view",
    "api.list_complaint_deadlines": "complaint.view",
    "api.get_complaint_report": "complaint.view",
    "api.create_import": "erp.import",
    # ERP pages
    "erp.index": "erp.view",
    "erp.record_list": "erp.view",
    "erp.record": "erp.view",
    "erp.record_new": "erp.master_data.edit",
    "erp.record_edit": "erp.master_data.edit",
    "erp.record_void": "erp.master_data.edit",
    "erp.supplier_status": "erp.supplier.approve",
    "erp.supplier_scope": "erp.supplier.approve",
    "erp.certificate_add": "erp.master_data.edit",
    "erp.certificate_void": "erp.master_data.edit",
    "erp.lot_list": "erp.view",
    "erp.recall_list": "erp.view",
    "erp.complaint_list": "complaint.view",
    "erp.complaint": "complaint.view",
    "erp.complaint_export": "complaint.view",
    "erp.complaint_reports_export": "complaint.view",
    "erp.complaint_report_pdf": "complaint.view",
    "erp.recall": "erp.view",
    "erp.recall_notice": "erp.view",
    # controlled documents and training (webapp/processes/document_control)
    "erp.document_list": "document.view",
    "erp.document": "document.view",
    "erp.my_training": "training.use",
    "erp.training_sign": "training.use",
    "erp.training_matrix": "training.matrix",
    "erp.training_matrix_csv": "training.matrix",
    "erp.user_training": "training.matrix",
    "api.list_documents": "document.view",
    "api.get_document": "document.view",
    "api.my_training": "training.use",
    "api.complete_training": "training.use",
    "erp.lot": "erp.view",
    "erp.lot_release": "erp.lot.release",
    "erp.lot_status": "erp.lot.release",
    "erp.movement_reverse": "erp.inventory.edit",
    "erp.receive": "erp.inventory.edit",
    "erp.movement_new": "erp.inventory.edit",
    "erp.udi": "erp.view",
    "erp.shipment_list": "erp.view",
    "erp.shipment_new": "erp.shipment.edit",
    "erp.shipment": "erp.view",
    "erp.shipment_ship": "erp.shipment.edit",
    "erp.shipment_void": "erp.shipment.edit",
    "erp.trace_page": "trace.view",
    "erp.pick": "erp.view",
    "erp.trace_csv": "trace.view",
    "erp.import_page": "erp.import",
}


@lru_cache(maxsize=8)
def _policy(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def policy():
    """The access policy of the running app (rules/access_policy.json)."""
    return _policy(str(Path(current_app.config["RULES_DIR"]) / "access_policy.json"))


def permission_for(endpoint):
    """The permission an endpoint requires, or None when it has none declared."""
    return ENDPOINT_PERMISSIONS.get(endpoint)


def has_permission(user, permission):
    """True when one of `user`'s roles holds `permission` (or the permission is open to all)."""
    roles = policy()["permissions"].get(permission) if permission else None
    if not roles:
        return False
    return ANY_USER in roles or bool(user.role_names & set(roles))


def may(permission):
    """Template helper: may the current user use `permission`?"""
    from flask import g

    user = getattr(g, "user", None)
    return user is not None and has_permission(user, permission)
