"""The trace page (tree and tables, CSV export) and the CSV import page."""

from flask import Response, flash, g, jsonify, render_template, request
from flask_babel import gettext as _

from ..errors import ImportRejected, InvalidInput, NotFound
from ..services import record_choices
from ..services.erp import imports, trace, trace_export
from ..services.erp.common import by_code, find_lot
from ..services.erp.import_rows import HEADERS
from .blueprint import bp


def _trace_args():
    args = {k: request.args.get(k, "").strip() for k in ("material", "lot")}
    args["direction"] = request.args.get("direction", "forward")
    return args


@bp.route("/trace")
def trace_page():
    """Trace a lot forward or backward: the tree of lots, then shipments, customers, stock, suppliers."""
    args, result, root, truncated, status = _trace_args(), None, None, False, 200
    if args["material"] and args["lot"]:
        try:
            result = trace.trace(args["material"], args["lot"], args["direction"])
            lot = find_lot(by_code("material", args["material"]), args["lot"])
            root, truncated = trace.tree(lot.id, trace.lot_depths(lot.id, args["direction"]), args["direction"])
        except (InvalidInput, NotFound) as exc:
            flash(exc.message, "error")
            status = exc.status
    return render_template(
        "erp/trace.html", args=args, result=result and result.as_dict(), root=root, truncated=truncated
    ), status


@bp.route("/pick/<kind>")
def pick(kind):
    """Type-ahead suggestions for a record field: [{"value", "label"}] of the records valid now."""
    found = record_choices.search(kind, request.args.get("q", "")[:100], request.args.get("material") or None)
    return jsonify([{"value": value, "label": label} for value, label in found])


@bp.route("/trace.csv")
def trace_csv():
    """The trace as a CSV file."""
    args = _trace_args()
    result = trace.trace(args["material"], args["lot"], args["direction"])
    name = f"trace-{args['direction']}-{args['material']}-{args['lot']}.csv".replace('"', "")
    return Response(
        trace_export.to_csv(result),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    """Upload the CSV files of a data migration; all or nothing, with the error report."""
    report, counts, status = None, None, 200
    if request.method == "POST":
        files = {
            f.filename.replace("\\", "/").rsplit("/", 1)[-1]: f.read()
            for f in request.files.getlist("files")
            if f.filename
        }
        try:
            if not files:
                raise InvalidInput("choose one or more CSV files", {"files": "required"})
            counts = imports.import_files(g.user, files)
        except ImportRejected as exc:
            report, status = exc.errors, 422
            flash(exc.message, "error")
        except InvalidInput as exc:
            flash(exc.message, "error")
            status = 400
        else:
            flash(_("Imported."), "success")
    return render_template("erp/import.html", report=report, counts=counts, headers=HEADERS), status
