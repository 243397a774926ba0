"""The service-task operations BPMN processes may call (`spiffworkflow:serviceTaskOperator`).

Each handler takes the evaluated parameters and acts as the user whose task completion is running
the engine (services.acting), inside that same transaction: if anything fails, the ERP change, the
workflow state and the audit events are all rolled back and the failure becomes an incident.
"""

from .services.acting import operation_actor
from .services.erp import ledger, lots, parties, trace
from .services.erp.common import by_code, lot_by_codes


def hold_lots(params):
    """Put every listed lot that is released or in quarantine on hold, with the reason."""
    held = []
    for item in params["lots"]:
        lot = lot_by_codes(item["material"], item["lot"])
        if lot.status in ("released", "quarantine"):
            lots.set_status(operation_actor(), lot, "hold", params["reason"])
            held.append(f"{item['material']} {item['lot']}")
    return {"held": held, "count": len(held)}


def release_lot(params):
    """Release a lot (the release guards apply)."""
    lot = lots.release_lot(operation_actor(), lot_by_codes(params["material"], params["lot"]), params["reason"])
    return {"material": params["material"], "lot": params["lot"], "status": lot.status}


def trace_forward(params):
    """The forward trace of a lot, in the trace API's shape."""
    return trace.trace(params["material"], params["lot"], "forward").as_dict()


def set_supplier_status(params):
    """QA's qualification decision for a supplier."""
    supplier = by_code("supplier", params["supplier"], "supplier")
    parties.set_supplier_status(operation_actor(), supplier, params["status"], params["reason"])
    return {"supplier": params["supplier"], "status": params["status"]}


def create_movement(params):
    """Book a ledger movement (same fields as POST /api/v1/movements)."""
    movement = ledger.record_movement(operation_actor(), dict(params["movement"]))
    return ledger.movement_view(movement)


def notify(params):
    """Queue a notification to a role's members or to one user (by username)."""
    from sqlalchemy import select

    from .extensions import db
    from .models import User
    from .services import notifications

    if params.get("user"):
        users = db.session.scalars(select(User.id).where(User.username == params["user"])).all()
    else:
        users = notifications.recipients(role=params.get("role"))
    notifications.queue(users, params.get("kind") or "message", params["subject"], params.get("body") or "")
    return {"notified": len(users)}


def register(registry):
    """Add the operations to the app's registry."""
    text = "str"
    registry.register("erp.hold_lots", hold_lots, required={"lots": "list", "reason": text})
    registry.register("erp.release_lot", release_lot, required={"material": text, "lot": text, "reason": text})
    registry.register("erp.trace_forward", trace_forward, required={"material": text, "lot": text})
    registry.register(
        "erp.set_supplier_status", set_supplier_status, required={"supplier": text, "status": text, "reason": text}
    )
    registry.register("erp.create_movement", create_movement, required={"movement": "dict"})
    registry.register(
        "notify.send",
        notify,
        required={"subject": text},
        optional={"role": text, "user": text, "body": text, "kind": text},
    )
    from .processes import packages  # each process package registers its own operations

    for package in packages():
        if package.register_operations is not None:
            package.register_operations(registry)
