"""Lot pages (ledger, stock per location, genealogy, release) and the receiving and movement forms."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..api import erp_schemas as schemas
from ..bounds import int_arg
from ..errors import GuardRefused, InvalidInput, NotFound, UdiInvalid
from ..models import Lot
from ..security import safe_next
from ..services.erp import ledger, lots, queries, receipts, stock, trace
from ..services.erp.receipts import material_for_gtin
from ..services.erp.udi import parse_udi
from .blueprint import attempt, bp, refusal_message
from .forms import LOT_STATUS_OPTIONS, MOVEMENT_TYPE_OPTIONS, parse


def _lot(lot_id):
    lot = queries.get(Lot, lot_id)
    if lot is None:
        abort(404)
    return lot


@bp.route("/lots")
def lot_list():
    """Lots, filtered by material, lot number and status."""
    filters = {k: request.args.get(k, "").strip() or None for k in ("material", "lot", "status")}
    page = queries.paginate(queries.lots(**filters), int_arg("page", 1), 50)
    return render_template("erp/lots.html", page=page, filters=filters)


@bp.route("/lots/<int:lot_id>")
def lot(lot_id):
    """A lot: its facts, stock per location, ledger, direct genealogy and QA actions."""
    item = _lot(lot_id)
    parents = trace.neighbours(item.id, "backward")
    children = trace.neighbours(item.id, "forward")
    return render_template(
        "erp/lot.html",
        lot=item,
        stock=stock.stock_rows(lot_ids=[item.id], include_customer=True),
        movements=lots.lot_movements(item),
        temperatures=lots.temperature_records(item),
        parents=parents,
        children=children,
        status_options=LOT_STATUS_OPTIONS,
    )


@bp.route("/lots/<int:lot_id>/release", methods=["POST"])
def lot_release(lot_id):
    """QA releases the lot."""
    item = _lot(lot_id)
    return attempt(
        lambda: lots.release_lot(g.user, item, request.form.get("reason", "")), url_for("erp.lot", lot_id=lot_id)
    )


@bp.route("/lots/<int:lot_id>/status", methods=["POST"])
def lot_status(lot_id):
    """QA puts the lot on hold, back into quarantine, rejects or recalls it."""
    item = _lot(lot_id)
    return attempt(
        lambda: lots.change_lot_status(g.user, item, request.form.get("status", ""), request.form.get("reason", "")),
        url_for("erp.lot", lot_id=lot_id),
    )


@bp.route("/movements/<int:movement_id>/reverse", methods=["POST"])
def movement_reverse(movement_id):
    """Reverse a ledger entry, with a reason."""
    back = safe_next(request.form.get("next"), url_for("erp.lot_list"))
    return attempt(lambda: ledger.reverse_movement(g.user, movement_id, request.form.get("reason", "")), back)


RECEIPT_FIELDS = [
    (n, None, w, None)
    for n, w in (
        ("supplier", "text"),
        ("material", "text"),
        ("lot", "text"),
        ("quantity", "int"),
        ("to_location", "text"),
        ("reference", "text"),
        ("manufactured_on", "date"),
        ("expires_on", "date"),
    )
]
TEMPERATURE_FIELDS = [
    (n, None, "text", None) for n in ("transport_mode", "min_c", "max_c", "arrival_c", "transit_minutes")
]


def _receipt_values(form):
    """Receipt values from the form: fields, serials (one per line) and the temperature record if typed."""
    values = parse(schemas.ReceiptIn(partial=("material", "quantity")), form, RECEIPT_FIELDS)
    values["serials"] = [s.strip() for s in form.get("serials", "").splitlines() if s.strip()]
    if any((form.get(spec[0]) or "").strip() for spec in TEMPERATURE_FIELDS):
        values["temperature"] = parse(
            schemas.TemperatureIn(partial=("transport_mode", "min_c", "max_c", "arrival_c")), form, TEMPERATURE_FIELDS
        )
    return values


@bp.route("/receive", methods=["GET", "POST"])
def receive():
    """Receive goods: typed, or scanned (a UDI fills material, lot, serial and dates)."""
    errors, values, status = {}, request.form.to_dict(), 200
    if request.method == "POST":
        try:
            result = _receive(request.form)
        except (InvalidInput, GuardRefused, UdiInvalid) as exc:
            errors, status = exc.errors, 422 if isinstance(exc, GuardRefused) else 400
            flash(refusal_message(exc), "error")
        else:
            if result.held:
                flash(_("Temperature excursion: the lot is on hold."), "error")
            flash(_("Received."), "success")
            return redirect(url_for("erp.lot", lot_id=result.lot.id) if result.lot else url_for("erp.receive"))
    return render_template("erp/receive.html", values=values, errors=errors), status


def _receive(form):
    scan = (form.get("scan") or "").strip()
    if scan:
        values = _receipt_values(form)
        values.pop("serials", None)
        return receipts.receive_scan(g.user, scan, {**values, "quantity": values.get("quantity") or 1})
    return receipts.receive(g.user, _receipt_values(form))


@bp.route("/udi")
def udi():
    """Read a UDI (scan or HRI) and show its fields and the matching material."""
    code, parsed, error, material = request.args.get("code", ""), None, None, None
    if code:
        try:
            parsed = parse_udi(code)
            material = material_for_gtin(parsed["gtin"])
        except UdiInvalid as exc:
            error = exc.message
    return render_template("erp/udi.html", code=code, parsed=parsed, material=material, error=error)


MOVEMENT_FIELDS = [
    (n, None, "text", None)
    for n in (
        "type",
        "material",
        "lot",
        "serial",
        "quantity",
        "from_location",
        "to_location",
        "customer",
        "supplier",
        "reference",
        "reason",
    )
]


@bp.route("/movements/new", methods=["GET", "POST"])
def movement_new():
    """Post a consumption, output, transfer, subcontract, return, scrap or adjustment."""
    errors, values, status = {}, request.form.to_dict() or request.args.to_dict(), 200
    if request.method == "POST":
        try:
            movement = ledger.record_movement(g.user, parse(schemas.MovementIn(), request.form, MOVEMENT_FIELDS))
        except (InvalidInput, GuardRefused, NotFound) as exc:
            errors, status = exc.errors, exc.status
            flash(refusal_message(exc), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(
                url_for("erp.lot", lot_id=movement.lot_id) if movement.lot_id else url_for("erp.movement_new")
            )
    return render_template(
        "erp/movement.html", values=values, errors=errors, type_options=MOVEMENT_TYPE_OPTIONS
    ), status
