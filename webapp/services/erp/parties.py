"""Suppliers (qualification status, approved scope, certificates) and customers."""

from datetime import timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import Customer, Supplier, SupplierCertificate, SupplierScope
from ...models._types import MAX_DAYS
from ...models.erp_items import DEVICE_CLASSES
from ...models.erp_parties import CERTIFICATE_TYPES, SUPPLIER_STATUSES
from .. import audit
from ..uow import transaction
from .common import business_date, by_code, reason_required, require
from .records import create_record, update_record, void_record
from .rules import rule

SUPPLIER_FIELDS = ("code", "name", "status")
CUSTOMER_FIELDS = (
    "code",
    "name",
    "license_number",
    "license_valid_until",
    "licensed_scope",
    "address",
    "min_remaining_shelf_life_days",
)
CERTIFICATE_FIELDS = ("supplier_id", "type", "number", "valid_from", "valid_until", "file_name")


def create_supplier(actor, values):
    """Create a supplier; a new supplier is pending until QA approves it (首营)."""
    values = {"status": "pending", **values}
    require(values["status"] in SUPPLIER_STATUSES, "status", f"must be one of {', '.join(SUPPLIER_STATUSES)}")
    return create_record(actor, Supplier, "supplier", values, SUPPLIER_FIELDS)


def update_supplier(actor, supplier, changes, reason):
    """Rename a supplier (status changes go through set_supplier_status)."""
    require("code" not in changes, "code", "the code of a record does not change")
    require("status" not in changes, "status", "use the qualification decision to change the status")
    return update_record(actor, supplier, "supplier", changes, SUPPLIER_FIELDS, reason)


def set_supplier_status(actor, supplier, status, reason):
    """QA's qualification decision: pending, approved, conditional or blocked, with a reason."""
    require(status in SUPPLIER_STATUSES, "status", f"must be one of {', '.join(SUPPLIER_STATUSES)}")
    return update_record(actor, supplier, "supplier", {"status": status}, SUPPLIER_FIELDS, reason)


def set_supplier_scope(actor, supplier, material_codes, services, reason):
    """Replace the approved scope of a supplier: materials (by code) and services."""
    reason = reason_required(reason)
    materials = [by_code("material", code, "materials") for code in dict.fromkeys(material_codes)]
    with transaction():
        before = _scope_view(supplier)
        supplier.scope = [SupplierScope(material_id=m.id) for m in materials] + [
            SupplierScope(service=s.strip()) for s in dict.fromkeys(services) if s.strip()
        ]
        after = {"materials": [m.code for m in materials], "services": [s.service for s in supplier.scope if s.service]}
        audit.record(actor, "supplier.scope", "supplier", supplier.id, before=before, after=after, reason=reason)
    return supplier


def _scope_view(supplier):
    return {
        "materials": [s.material.code for s in supplier.scope if s.material],
        "services": [s.service for s in supplier.scope if s.service],
    }


def void_supplier(actor, supplier, reason):
    """Void a supplier (it stays in history and traces)."""
    return void_record(actor, supplier, "supplier", reason)


def add_certificate(actor, supplier, values):
    """Record a certificate (type, number, validity, file name) of a supplier."""
    require(values.get("type") in CERTIFICATE_TYPES, "type", f"must be one of {', '.join(CERTIFICATE_TYPES)}")
    require((values.get("number") or "").strip(), "number", "required")
    if values.get("valid_from") and values.get("valid_until"):
        require(values["valid_from"] <= values["valid_until"], "valid_until", "must not be before valid_from")
    return create_record(
        actor, SupplierCertificate, "supplier_certificate", {**values, "supplier_id": supplier.id}, CERTIFICATE_FIELDS
    )


def void_certificate(actor, certificate, reason):
    """Void a certificate recorded in error."""
    return void_record(actor, certificate, "supplier_certificate", reason)


def expiring_certificates(within_days=None):
    """Certificates of active suppliers expiring within the rule's warning period (or already expired)."""
    days = within_days if within_days is not None else rule("REC-SUPPLIER-CERTIFICATE")["warn_days_before_expiry"]
    limit = business_date() + timedelta(days=days)
    return db.session.scalars(
        select(SupplierCertificate)
        .join(Supplier)
        .where(
            SupplierCertificate.voided_at.is_(None),
            Supplier.voided_at.is_(None),
            SupplierCertificate.valid_until.is_not(None),
            SupplierCertificate.valid_until <= limit,
        )
        .order_by(SupplierCertificate.valid_until)
    ).all()


def _customer_values(values):
    values = dict(values)
    if "licensed_scope" in values:
        scope = list(dict.fromkeys(values["licensed_scope"] or []))
        require(
            all(c in DEVICE_CLASSES for c in scope),
            "licensed_scope",
            f"device classes must be among {', '.join(DEVICE_CLASSES)}",
        )
        values["licensed_scope"] = scope
    if values.get("min_remaining_shelf_life_days") is not None:
        days = values["min_remaining_shelf_life_days"]
        require(days >= 0, "min_remaining_shelf_life_days", "must not be negative")
        require(days <= MAX_DAYS, "min_remaining_shelf_life_days", f"must be at most {MAX_DAYS}")
    return values


def create_customer(actor, values):
    """Create a customer with its licence and licensed scope."""
    return create_record(actor, Customer, "customer", _customer_values(values), CUSTOMER_FIELDS)


def update_customer(actor, customer, changes, reason):
    """Change a customer's licence, scope or address with a reason."""
    require("code" not in changes, "code", "the code of a record does not change")
    return update_record(actor, customer, "customer", _customer_values(changes), CUSTOMER_FIELDS, reason)


def void_customer(actor, customer, reason):
    """Void a customer."""
    return void_record(actor, customer, "customer", reason)
