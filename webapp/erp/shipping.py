"""Shipment pages: list, a draft with FEFO-suggested lines, shipping under the guards."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..bounds import int_arg
from ..errors import InvalidInput, NotFound
from ..models import Shipment
from ..services.erp import queries, shipments
from ..services.erp.common import by_code
from .blueprint import attempt, bp, refusal_message

LINE_FIELDS = ("material", "lot", "serial", "quantity", "from_location")


def _shipment(shipment_id):
    shipment = queries.get(Shipment, shipment_id)
    if shipment is None:
        abort(404)
    return shipment


@bp.route("/shipments")
def shipment_list():
    """Shipments, newest first."""
    status = request.args.get("status") or None
    page = queries.paginate(queries.shipments(status=status), int_arg("page", 1), 50)
    return render_template("erp/shipments.html", page=page, status=status)


def _suggested_lines(args):
    """FEFO lines for ?customer=&material=&quantity= (empty when not asked)."""
    material, quantity = args.get("material", "").strip(), int_arg("quantity", source=args)
    if not material or not quantity:
        return [], 0
    customer = by_code("customer", args["customer"], "customer") if args.get("customer") else None
    picks, shortfall = shipments.fefo(by_code("material", material, "material"), quantity, customer)
    lines = []
    for pick in picks:
        serials = pick.get("serials")
        rows = (
            [{"serial": s, "quantity": 1} for s in serials]
            if serials
            else [{"serial": "", "quantity": pick["quantity"]}]
        )
        lines += [
            {
                "material": material,
                "lot": pick["lot"] or "",
                "from_location": pick["from_location"],
                "expires_on": pick["expires_on"],
                **row,
            }
            for row in rows
        ]
    return lines, shortfall


def _posted_lines(form):
    columns = {name: form.getlist(name) for name in LINE_FIELDS}
    lines = []
    for cells in zip(*columns.values()):
        row = {name: (cell or "").strip() or None for name, cell in zip(LINE_FIELDS, cells)}
        if row["material"]:
            try:
                row["quantity"] = int(row["quantity"] or 0)
            except ValueError:
                row["quantity"] = 0
            lines.append(row)
    return lines


@bp.route("/shipments/new", methods=["GET", "POST"])
def shipment_new():
    """Draft a shipment; ?material=&quantity= fills the lines first-expired-first-out."""
    errors, status, shortfall = {}, 200, 0
    if request.method == "POST":
        lines = _posted_lines(request.form)
        try:
            shipment = shipments.create_shipment(
                g.user, request.form.get("customer", ""), lines, request.form.get("note", "")
            )
        except (InvalidInput, NotFound) as exc:
            errors, status = exc.errors, 400
            flash(refusal_message(exc), "error")
        else:
            flash(_("Draft saved; check it and ship."), "success")
            return redirect(url_for("erp.shipment", shipment_id=shipment.id))
    else:
        try:
            lines, shortfall = _suggested_lines(request.args)
        except (InvalidInput, NotFound) as exc:
            lines, errors = [], exc.errors
            flash(refusal_message(exc), "error")
    return render_template(
        "erp/shipment_new.html", lines=lines + [{}] * 3, errors=errors, shortfall=shortfall, values=request.values
    ), status


@bp.route("/shipments/<int:shipment_id>")
def shipment(shipment_id):
    """One shipment with its lines and, for a draft, the ship and cancel actions."""
    return render_template("erp/shipment.html", shipment=_shipment(shipment_id))


@bp.route("/shipments/<int:shipment_id>/ship", methods=["POST"])
def shipment_ship(shipment_id):
    """Ship the draft: the guards decide; a refusal names its rule."""
    item = _shipment(shipment_id)
    return attempt(lambda: shipments.ship(g.user, item), url_for("erp.shipment", shipment_id=shipment_id))


@bp.route("/shipments/<int:shipment_id>/void", methods=["POST"])
def shipment_void(shipment_id):
    """Cancel a draft."""
    item = _shipment(shipment_id)
    return attempt(
        lambda: shipments.void_shipment(g.user, item, request.form.get("reason", "")),
        url_for("erp.shipment", shipment_id=shipment_id),
    )
