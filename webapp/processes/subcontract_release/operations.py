"""Service-task operations of the subcontract release process (委外加工放行, processes/subcontract_release/subcontract_release.bpmn).

Each runs as the acting user inside the task-completion transaction and goes through the ERP services
(ledger, lots, guards, audit); the ledger reference of every movement is the business key of the
instance being driven (services.acting), so the lot's ledger shows which subcontract order moved it.
"""

from ...errors import InvalidInput
from ...services.acting import acting_business_key, operation_actor
from ...services.erp import ledger, lots
from ...services.erp.common import business_date, by_code, lot_by_codes, refusals_audited
from ...services.erp.guards import check_subcontractor
from ...services.erp.stock import quantity_at

SHIPPABLE_TO_SUBCONTRACTOR = ("quarantine", "hold", "released")


def _reference():
    key = acting_business_key()
    if not key:
        raise InvalidInput("subcontract movements are booked only by a subcontract release instance")
    return key


def issue(params):
    """Issue a lot to an approved subcontractor's location: a `to_subcontractor` movement."""
    actor = operation_actor()
    supplier = by_code("supplier", params["subcontractor"], "subcontractor")
    lot = lot_by_codes(params["material"], params["lot"])
    with refusals_audited(actor, "subcontract.issue", "supplier", supplier.code):
        check_subcontractor(supplier, params["service"], business_date())
    if lot.status not in SHIPPABLE_TO_SUBCONTRACTOR:
        raise InvalidInput(
            f"lot {params['material']}/{params['lot']} is {lot.status}: it is not sent for processing",
            {"lot": lot.status},
        )
    movement = ledger.record_movement(
        actor,
        {
            "type": "to_subcontractor",
            "material": params["material"],
            "lot": params["lot"],
            "quantity": params["quantity"],
            "from_location": params["from_location"],
            "to_location": params["to_location"],
            "supplier": supplier.code,
            "reference": _reference(),
            "reason": params.get("reason") or f"{params['service']} by {supplier.code}",
        },
    )
    return ledger.movement_view(movement)


def receive(params):
    """Receive the processed lot back into a quarantine location (`from_subcontractor`); the lot stays
    (or is put back) in quarantine until the process releases it."""
    actor = operation_actor()
    to_location = by_code("location", params["to_location"], "to_location")
    if to_location.kind != "quarantine":
        raise InvalidInput(
            f"{to_location.code} is a {to_location.kind} location: a subcontracted lot comes back into quarantine",
            {"to_location": "must be a quarantine location"},
        )
    movement = ledger.record_movement(
        actor,
        {
            "type": "from_subcontractor",
            "material": params["material"],
            "lot": params["lot"],
            "quantity": params["quantity"],
            "from_location": params["from_location"],
            "to_location": to_location.code,
            "supplier": params.get("subcontractor"),
            "reference": _reference(),
            "reason": params.get("reason") or "processed lot received back",
        },
    )
    lot = movement.lot
    if lot.status != "quarantine":
        lots.change_lot_status(actor, lot, "quarantine", f"received back from the subcontractor ({_reference()})")
    return {**ledger.movement_view(movement), "lot_status": lot.status}


def scrap(params):
    """MRB scrap: a `scrap` movement of all the lot's stock at the location, and the lot rejected."""
    actor = operation_actor()
    lot = lot_by_codes(params["material"], params["lot"])
    location = by_code("location", params["location"], "location")
    quantity = quantity_at(location, lot.material, lot, None)
    if quantity <= 0:
        raise InvalidInput(f"no stock of {params['material']}/{params['lot']} at {location.code}", {"quantity": "0"})
    movement = ledger.record_movement(
        actor,
        {
            "type": "scrap",
            "material": params["material"],
            "lot": params["lot"],
            "quantity": quantity,
            "from_location": location.code,
            "reference": _reference(),
            "reason": params["reason"],
        },
    )
    lots.change_lot_status(actor, lot, "rejected", params["reason"])
    return {**ledger.movement_view(movement), "lot_status": lot.status}


def register(registry):
    """Add the subcontract operations to the app's registry."""
    text = "str"
    moved = {"material": text, "lot": text, "quantity": "int", "from_location": text, "to_location": text}
    registry.register(
        "subcontract.issue",
        issue,
        required={**moved, "subcontractor": text, "service": text},
        optional={"reason": text},
    )
    registry.register("subcontract.receive", receive, required=moved, optional={"subcontractor": text, "reason": text})
    registry.register(
        "subcontract.scrap", scrap, required={"material": text, "lot": text, "location": text, "reason": text}
    )
