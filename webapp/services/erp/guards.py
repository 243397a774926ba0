"""The compliance guards: each check raises GuardRefused naming its rule in rules/erp_guards.json.

Checks only read; the calling service runs them inside its transaction, so a refusal rolls the
whole operation back, and audits the refusal afterwards (common.refusals_audited).
"""

from ...errors import GuardRefused
from .rules import rule

TEMPERATURE_FIELDS = ("transport_mode", "min_c", "max_c", "arrival_c")


def check_supplier_for_receipt(supplier, material, on_date):
    """REC-SUPPLIER-APPROVED and REC-SUPPLIER-CERTIFICATE for a receipt of `material` from `supplier`."""
    approved = rule("REC-SUPPLIER-APPROVED")["approved_statuses"]
    if supplier.status not in approved:
        raise GuardRefused("REC-SUPPLIER-APPROVED", f"supplier {supplier.code} is {supplier.status}, not approved")
    if material.id not in {s.material_id for s in supplier.scope}:
        raise GuardRefused(
            "REC-SUPPLIER-APPROVED", f"{material.code} is not in the approved scope of supplier {supplier.code}"
        )
    _check_certificates(supplier, on_date, "supplier")


def check_subcontractor(supplier, service, on_date):
    """REC-SUPPLIER-APPROVED / REC-SUPPLIER-CERTIFICATE applied to a subcontractor: approved, with the
    service in its approved scope, and holding every required certificate valid on `on_date`."""
    if supplier.status not in rule("REC-SUPPLIER-APPROVED")["approved_statuses"]:
        raise GuardRefused("REC-SUPPLIER-APPROVED", f"subcontractor {supplier.code} is {supplier.status}, not approved")
    services = {(s.service or "").strip().lower() for s in supplier.scope if s.service}
    if (service or "").strip().lower() not in services:
        raise GuardRefused(
            "REC-SUPPLIER-APPROVED", f"{service} is not in the approved scope of subcontractor {supplier.code}"
        )
    _check_certificates(supplier, on_date, "subcontractor")


def _check_certificates(supplier, on_date, noun):
    for cert_type in rule("REC-SUPPLIER-CERTIFICATE")["required_certificates"]:
        if not any(_valid_on(c, on_date) for c in supplier.certificates if c.type == cert_type and not c.voided):
            raise GuardRefused(
                "REC-SUPPLIER-CERTIFICATE", f"{noun} {supplier.code} has no valid {cert_type} certificate on {on_date}"
            )


def _valid_on(certificate, on_date):
    return (certificate.valid_from is None or certificate.valid_from <= on_date) and (
        certificate.valid_until is None or on_date <= certificate.valid_until
    )


def needs_temperature_record(material):
    """True when receipts of `material` need a cold-chain record (REC-COLD-CHAIN-RECORD)."""
    return material.storage in rule("REC-COLD-CHAIN-RECORD")["storage_classes"]


def check_temperature_record(material, record):
    """REC-COLD-CHAIN-RECORD: a complete temperature record for a 2–8 °C or frozen receipt."""
    if not needs_temperature_record(material):
        return
    missing = [f for f in TEMPERATURE_FIELDS if (record or {}).get(f) in (None, "")]
    if missing:
        raise GuardRefused(
            "REC-COLD-CHAIN-RECORD",
            f"{material.code} is stored {material.storage}: the receipt needs a temperature record "
            f"(missing {', '.join(missing)})",
            {"temperature": dict.fromkeys(missing, "required")},
        )


def temperature_in_range(material, record):
    """REC-COLD-CHAIN-RANGE: True when min, max and arrival temperatures lie in the storage range."""
    limits = rule("REC-COLD-CHAIN-RANGE")["ranges_celsius"].get(material.storage)
    if not limits or not record:
        return True
    low, high = limits.get("min"), limits.get("max")
    values = [float(record[f]) for f in ("min_c", "max_c", "arrival_c")]
    return all((low is None or v >= low) and (high is None or v <= high) for v in values)


def check_lot_shippable(lot, customer, on_date):
    """SHP-LOT-RELEASED, SHP-LOT-EXPIRED and SHP-SHELF-LIFE for shipping `lot` to `customer`."""
    label = f"{lot.material.code}/{lot.lot_number}"
    if lot.status not in rule("SHP-LOT-RELEASED")["shippable_statuses"]:
        raise GuardRefused("SHP-LOT-RELEASED", f"lot {label} is {lot.status}, not released")
    if lot.expires_on is None:
        return
    if lot.expires_on < on_date:
        raise GuardRefused("SHP-LOT-EXPIRED", f"lot {label} expired on {lot.expires_on}")
    minimum = customer.min_remaining_shelf_life_days
    if minimum is None:
        minimum = rule("SHP-SHELF-LIFE")["default_min_remaining_days"]
    remaining = (lot.expires_on - on_date).days
    if remaining < minimum:
        raise GuardRefused(
            "SHP-SHELF-LIFE",
            f"lot {label} has {remaining} days of shelf life left; "
            f"customer {customer.code} requires at least {minimum}",
        )


def check_customer(customer, material, on_date):
    """SHP-CUSTOMER-LICENCE and SHP-CUSTOMER-SCOPE for shipping `material` to `customer`."""
    if customer.license_valid_until is None or customer.license_valid_until < on_date:
        state = f"expired on {customer.license_valid_until}" if customer.license_valid_until else "is not recorded"
        raise GuardRefused("SHP-CUSTOMER-LICENCE", f"the licence of customer {customer.code} {state}")
    device_class = material.device_class
    if (
        device_class
        and device_class not in rule("SHP-CUSTOMER-SCOPE")["exempt_device_classes"]
        and device_class not in (customer.licensed_scope or [])
    ):
        raise GuardRefused(
            "SHP-CUSTOMER-SCOPE",
            f"class {device_class} devices ({material.code}) are outside "
            f"the licensed scope of customer {customer.code}",
        )


def check_release(lot):
    """LOT-RELEASE-ONLY: a release starts from one of the statuses the rule lists;
    LOT-SUBCONTRACT-RELEASE: a lot back from a subcontractor is released only by its release process."""
    if lot.status not in rule("LOT-RELEASE-ONLY")["release_from"]:
        raise GuardRefused(
            "LOT-RELEASE-ONLY",
            f"lot {lot.material.code}/{lot.lot_number} is {lot.status}; it cannot be released from this status",
        )
    check_subcontract_release(lot)


def back_from_subcontractor(lot):
    """True when the lot has a from_subcontractor movement booked after its last release (or never released)."""
    from sqlalchemy import func, select

    from ...extensions import db
    from ...models import AuditEvent, Movement

    received = db.session.scalar(
        select(func.max(Movement.recorded_at)).where(Movement.lot_id == lot.id, Movement.type == "from_subcontractor")
    )
    if received is None:
        return False
    released = db.session.scalar(
        select(func.max(AuditEvent.at)).where(
            AuditEvent.entity_type == "lot", AuditEvent.entity_id == str(lot.id), AuditEvent.action == "lot.release"
        )
    )
    return released is None or received >= released


def check_subcontract_release(lot):
    """LOT-SUBCONTRACT-RELEASE: only the process the rule names releases a lot back from a subcontractor."""
    from ..acting import acting_process

    process = rule("LOT-SUBCONTRACT-RELEASE")["release_process"]
    if acting_process() != process and back_from_subcontractor(lot):
        raise GuardRefused(
            "LOT-SUBCONTRACT-RELEASE",
            f"lot {lot.material.code}/{lot.lot_number} came back from a subcontractor: "
            f"only the {process} process releases it",
        )


def check_status_change(lot, status):
    """LOT-RELEASE-ONLY: no status change other than a release makes a lot released."""
    if status == "released":
        raise GuardRefused("LOT-RELEASE-ONLY", "a lot becomes released only by a release (release_lot)")


def check_quarantine_exit(lot, from_location, to_location):
    """LOT-QUARANTINE-AREA: unreleased stock stays out of warehouse locations."""
    if lot is None or from_location is None or to_location is None or lot.status == "released":
        return
    if (
        from_location.kind == "quarantine"
        and to_location.kind in rule("LOT-QUARANTINE-AREA")["guarded_destination_kinds"]
    ):
        raise GuardRefused(
            "LOT-QUARANTINE-AREA",
            f"lot {lot.material.code}/{lot.lot_number} is {lot.status}: "
            f"it cannot move from {from_location.code} to {to_location.code}",
        )
