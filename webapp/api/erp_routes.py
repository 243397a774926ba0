"""API v1 inventory and traceability: lots, serials, the ledger, stock, receipts, shipments, UDI,
trace (a fixed contract) and CSV imports."""

from flask import g, jsonify, request

from ..errors import InvalidInput, NotFound
from ..models import Movement, Shipment
from ..services.erp import imports, ledger, lots, queries, receipts, shipments, trace, udi
from ..services.erp.common import by_code, get_lot
from . import erp_schemas as s
from .blueprint import bp
from .erp_master_routes import page_json, query_args
from .routes import _load

_lot, _movement, _shipment = s.Lot(), s.Movement(), s.Shipment()


def _paged(args_schema, query_function, dump):
    args = query_args(args_schema)
    paging = {"page": args.pop("page"), "per_page": args.pop("per_page")}
    return page_json(query_function(**args), dump, paging)


@bp.get("/lots", endpoint="list_lots")
def list_lots():
    """Lots by material, lot number, status, supplier, expiry."""
    return _paged(s.LotArgs, queries.lots, _lot)


@bp.post("/lots", endpoint="create_lot")
def create_lot():
    """Create a production or subcontract lot (quarantined)."""
    body = _load(s.LotIn())
    lot = lots.create_lot(
        g.user,
        by_code("material", body["material"], "material"),
        body["lot"],
        origin=body["origin"],
        manufactured_on=body.get("manufactured_on"),
        expires_on=body.get("expires_on"),
        origin_reference=body.get("origin_reference"),
    )
    return jsonify(_lot.dump(lot)), 201


@bp.get("/lots/<int:lot_id>", endpoint="get_lot")
def get_lot_(lot_id):
    """One lot."""
    return jsonify(_lot.dump(get_lot(lot_id)))


@bp.patch("/lots/<int:lot_id>", endpoint="update_lot")
def update_lot(lot_id):
    """Correct a lot's dates, with a reason."""
    body = _load(s.LotPatchIn())
    reason = body.pop("reason")
    return jsonify(_lot.dump(lots.update_lot_dates(g.user, get_lot(lot_id), body, reason)))


@bp.post("/lots/<int:lot_id>/release", endpoint="release_lot")
def release_lot(lot_id):
    """Release a lot from quarantine or hold."""
    return jsonify(_lot.dump(lots.release_lot(g.user, get_lot(lot_id), _load(s.ReasonIn())["reason"])))


@bp.post("/lots/<int:lot_id>/status", endpoint="set_lot_status")
def set_lot_status(lot_id):
    """Put a lot on hold, into quarantine, rejected or recalled."""
    body = _load(s.LotStatusIn())
    return jsonify(_lot.dump(lots.change_lot_status(g.user, get_lot(lot_id), body["status"], body["reason"])))


@bp.post("/lots/<int:lot_id>/void", endpoint="void_lot")
def void_lot(lot_id):
    """Void a lot created in error (only without movements)."""
    return jsonify(_lot.dump(lots.void_lot(g.user, get_lot(lot_id), _load(s.ReasonIn())["reason"])))


@bp.get("/serials", endpoint="list_serials")
def list_serials():
    """Serial numbers by material, lot and serial."""
    return _paged(s.SerialArgs, lambda include_voided=False, **args: queries.serials(**args), s.Serial())


@bp.get("/movements", endpoint="list_movements")
def list_movements():
    """The ledger, newest first, filtered."""
    return _paged(s.MovementArgs, lambda include_voided=False, **args: queries.movements(**args), _movement)


@bp.post("/movements", endpoint="create_movement")
def create_movement():
    """Post a movement (not receipts or shipments, which have their own calls)."""
    return jsonify(_movement.dump(ledger.record_movement(g.user, _load(s.MovementIn())))), 201


@bp.get("/movements/<int:movement_id>", endpoint="get_movement")
def get_movement(movement_id):
    """One movement."""
    movement = queries.get(Movement, movement_id)
    if movement is None:
        raise NotFound(f"no movement {movement_id}")
    return jsonify(_movement.dump(movement))


@bp.post("/movements/<int:movement_id>/reverse", endpoint="reverse_movement")
def reverse_movement(movement_id):
    """Correct a movement by a reversing movement, with a reason."""
    reversal = ledger.reverse_movement(g.user, movement_id, _load(s.ReasonIn())["reason"])
    return jsonify(_movement.dump(reversal)), 201


@bp.get("/stock", endpoint="get_stock")
def get_stock():
    """Stock per location, material and lot, derived from the ledger."""
    return jsonify(s.StockRow().dump(queries.stock(**query_args(s.StockArgs)), many=True))


@bp.post("/receipts", endpoint="create_receipt")
def create_receipt():
    """Receive goods from a supplier (guards: supplier approval, certificates, cold chain)."""
    return jsonify(s.Receipt().dump(receipts.receive(g.user, _load(s.ReceiptIn())))), 201


@bp.post("/receipts/scan", endpoint="scan_receipt")
def scan_receipt():
    """Receive goods by UDI scan."""
    body = _load(s.ScanReceiptIn())
    return jsonify(s.Receipt().dump(receipts.receive_scan(g.user, body.pop("scan"), body))), 201


@bp.get("/shipments", endpoint="list_shipments")
def list_shipments():
    """Shipments, newest first."""
    return _paged(s.ShipmentArgs, queries.shipments, _shipment)


@bp.post("/shipments", endpoint="create_shipment")
def create_shipment():
    """Draft a shipment."""
    body = _load(s.ShipmentIn())
    return jsonify(
        _shipment.dump(shipments.create_shipment(g.user, body["customer"], body["lines"], body["note"]))
    ), 201


def _shipment_or_404(shipment_id):
    shipment = queries.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(f"no shipment {shipment_id}")
    return shipment


@bp.get("/shipments/<int:shipment_id>", endpoint="get_shipment")
def get_shipment(shipment_id):
    """One shipment with its lines."""
    return jsonify(_shipment.dump(_shipment_or_404(shipment_id)))


@bp.post("/shipments/<int:shipment_id>/ship", endpoint="ship_shipment")
def ship_shipment(shipment_id):
    """Ship a draft (guards: lot status, expiry, shelf life, customer licence and scope)."""
    body = _load(s.ShipIn())
    return jsonify(_shipment.dump(shipments.ship(g.user, _shipment_or_404(shipment_id), body.get("shipped_at"))))


@bp.post("/shipments/<int:shipment_id>/void", endpoint="void_shipment")
def void_shipment(shipment_id):
    """Cancel a draft shipment."""
    reason = _load(s.ReasonIn())["reason"]
    return jsonify(_shipment.dump(shipments.void_shipment(g.user, _shipment_or_404(shipment_id), reason)))


@bp.get("/fefo", endpoint="fefo")
def fefo():
    """First-expired-first-out picks for a quantity of a material."""
    args = query_args(s.FefoArgs)
    customer = by_code("customer", args["customer"], "customer") if args.get("customer") else None
    picks, shortfall = shipments.fefo(by_code("material", args["material"], "material"), args["quantity"], customer)
    return jsonify(s.Fefo().dump({"picks": picks, "shortfall": shortfall}))


@bp.post("/udi/parse", endpoint="parse_udi")
def parse_udi():
    """Parse a GS1 element string or HRI into GTIN, lot, serial, expiry and production date."""
    parsed = udi.parse_udi(_load(s.UdiIn())["code"])
    found = queries.material_by_gtin(parsed["gtin"])
    return jsonify(s.Udi().dump({**parsed, "material": found.code if found else None}))


@bp.get("/trace", endpoint="trace")
def trace_():
    """Trace a lot forward or backward (fixed contract)."""
    args = query_args(s.TraceArgs)
    return jsonify(trace.trace(args["material"], args["lot"], args["direction"]).as_dict())


@bp.post("/imports", endpoint="create_import")
def create_import():
    """Import CSV files (multipart, any field names; file names as in the contract), all or nothing."""
    files = {
        f.filename.replace("\\", "/").rsplit("/", 1)[-1]: f.read()
        for key in request.files
        for f in request.files.getlist(key)
        if f.filename
    }
    if not files:
        raise InvalidInput("upload one or more CSV files (multipart/form-data)", {"files": "required"})
    return jsonify(s.ImportResult().dump({"imported": imports.import_files(g.user, files)})), 201
