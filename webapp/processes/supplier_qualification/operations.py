"""Service-task operations of the supplier qualification process: certificates and approved scope.

Like every operation (webapp/operations.py) they act as the user whose task completion runs the
engine, inside that transaction, through the parties service (which audits each change). They are
guarded: the acting user must hold the permission the ERP pages ask for the same change, so a lane
drawn for the wrong role cannot edit suppliers; an already expired certificate is refused. Either
refusal rolls the completion back and leaves an incident naming the reason.
"""

from datetime import date

from ...errors import InvalidInput, PermissionDenied
from ...permissions import has_permission
from ...services.acting import operation_actor
from ...services.erp import parties, scorecard
from ...services.erp.common import business_date, by_code


def _actor(permission):
    actor = operation_actor()
    if not has_permission(actor, permission):
        raise PermissionDenied(f"{actor.username} may not change supplier records ({permission})")
    return actor


def _date(value, field):
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{field} {value!r} is not a date (YYYY-MM-DD)", {field: "not a date"}) from None


def add_certificates(params):
    """Record the listed certificates ({type, number, valid_from, valid_until[, file_name]}) on the supplier;
    refuses the whole list when one of them has already expired."""
    actor = _actor("erp.master_data.edit")
    supplier = by_code("supplier", params["supplier"], "supplier")
    today, stored = business_date(), []
    for item in params["certificates"]:
        values = {
            "type": item.get("type"),
            "number": (item.get("number") or "").strip(),
            "valid_from": _date(item.get("valid_from"), "valid_from"),
            "valid_until": _date(item.get("valid_until"), "valid_until"),
            "file_name": item.get("file_name") or None,
        }
        if values["valid_until"] is not None and values["valid_until"] < today:
            raise InvalidInput(
                f"certificate {values['type']} {values['number']} expired on {values['valid_until']:%Y-%m-%d}",
                {"valid_until": "expired"},
            )
        certificate = parties.add_certificate(actor, supplier, values)
        stored.append(
            {
                "id": certificate.id,
                "type": certificate.type,
                "number": certificate.number,
                "valid_until": values["valid_until"].isoformat() if values["valid_until"] else None,
            }
        )
    return {"supplier": supplier.code, "certificates": stored}


def set_supplier_scope(params):
    """Replace the supplier's approved scope with the listed materials (codes) and services."""
    actor = _actor("erp.supplier.approve")
    supplier = by_code("supplier", params["supplier"], "supplier")
    parties.set_supplier_scope(
        actor, supplier, list(params.get("materials") or []), list(params.get("services") or []), params["reason"]
    )
    return {
        "supplier": supplier.code,
        "materials": [s.material.code for s in supplier.scope if s.material],
        "services": [s.service for s in supplier.scope if s.service],
    }


def supplier_scorecard(params):
    """The supplier's deliveries over the last `days` and what became of them (read-only: it runs
    after the re-evaluation timer, as the scheduler's account, and changes nothing)."""
    supplier = by_code("supplier", params["supplier"], "supplier")
    if params["days"] <= 0:
        raise InvalidInput(f"days must be positive, not {params['days']}", {"days": "positive"})
    return scorecard.supplier_scorecard(supplier, params["days"])


def register(registry):
    """Add the supplier qualification operations to the app's registry."""
    registry.register("erp.add_certificates", add_certificates, required={"supplier": "str", "certificates": "list"})
    registry.register(
        "erp.set_supplier_scope",
        set_supplier_scope,
        required={"supplier": "str", "reason": "str"},
        optional={"materials": "list", "services": "list"},
    )
    registry.register("erp.supplier_scorecard", supplier_scorecard, required={"supplier": "str", "days": "int"})
