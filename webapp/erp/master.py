"""Master-data pages: materials, suppliers (qualification, scope, certificates), customers, locations."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..api import erp_schemas as schemas
from ..bounds import int_arg
from ..errors import InvalidInput, NotFound
from ..models import SupplierCertificate
from ..services.erp import materials, parties, queries, scorecard
from ..services.erp.common import business_date, by_code
from ..services.erp.rules import rule
from .blueprint import attempt, bp
from .forms import (
    CERTIFICATE_FIELDS,
    CUSTOMER_FIELDS,
    LOCATION_FIELDS,
    MATERIAL_FIELDS,
    N_,
    SUPPLIER_FIELDS,
    SUPPLIER_STATUS_OPTIONS,
    field_rows,
    parse,
    value_of,
)

KINDS = {  # plural: (kind, title, field specs, request schema, list query, create, update, void)
    "materials": (
        "material",
        N_("Materials"),
        MATERIAL_FIELDS,
        schemas.MaterialIn,
        queries.materials,
        materials.create_material,
        materials.update_material,
        materials.void_material,
    ),
    "suppliers": (
        "supplier",
        N_("Suppliers"),
        SUPPLIER_FIELDS,
        schemas.SupplierIn,
        queries.suppliers,
        parties.create_supplier,
        parties.update_supplier,
        parties.void_supplier,
    ),
    "customers": (
        "customer",
        N_("Customers"),
        CUSTOMER_FIELDS,
        schemas.CustomerIn,
        queries.customers,
        parties.create_customer,
        parties.update_customer,
        parties.void_customer,
    ),
    "locations": (
        "location",
        N_("Locations"),
        LOCATION_FIELDS,
        schemas.LocationIn,
        queries.locations,
        materials.create_location,
        materials.update_location,
        materials.void_location,
    ),
}
PLURAL = "<any(materials, suppliers, customers, locations):plural>"


@bp.route("/")
def index():
    """The ERP overview: certificates about to expire, lots waiting for QA, licences expired."""
    return render_template(
        "erp/index.html",
        certificates=parties.expiring_certificates(),
        waiting=queries.paginate(queries.lots(status="quarantine"), 1, 20),
        held=queries.paginate(queries.lots(status="hold"), 1, 20),
        lapsed=queries.paginate(queries.customers(license_valid_before=business_date()), 1, 20),
    )


@bp.route(f"/{PLURAL}")
def record_list(plural):
    """A list of one kind of master record, searchable, paginated."""
    kind, title, specs, *_rest = KINDS[plural]
    q = request.args.get("q", "").strip()
    page = queries.paginate(
        KINDS[plural][4](q=q or None, include_voided=bool(request.args.get("voided"))),
        int_arg("page", 1),
        50,
    )
    return render_template(
        "erp/records.html",
        plural=plural,
        kind=kind,
        title=title,
        page=page,
        q=q,
        columns=[s for s in specs if s[2] != "checks"][:6],
    )


@bp.route(f"/{PLURAL}/new", methods=["GET", "POST"])
def record_new(plural):
    """Create a master record."""
    _kind, title, specs, schema, _query, create, *_rest = KINDS[plural]
    values, errors = {}, {}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            record = create(g.user, parse(schema(), request.form, specs))
        except InvalidInput as exc:
            errors = exc.errors
            flash(_("Please correct the marked fields."), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("erp.record", plural=plural, code=record.code))
    return render_template(
        "erp/record_new.html", plural=plural, title=title, fields=field_rows(specs, values, errors)
    ), 400 if errors else 200


def _record(plural, code):
    try:
        return by_code(KINDS[plural][0], code, allow_voided=True)
    except (NotFound, InvalidInput):
        abort(404)


@bp.route(f"/{PLURAL}/<code>")
def record(plural, code, errors=None, values=None):
    """One master record with its edit form (and, for suppliers, scope and certificates)."""
    kind, title, specs, *_rest = KINDS[plural]
    item = _record(plural, code)
    shown = values or {spec[0]: value_of(item, spec[0]) for spec in specs}
    extra = {}
    if kind == "supplier":
        extra = {
            "status_options": SUPPLIER_STATUS_OPTIONS,
            "all_materials": queries.paginate(queries.materials(), 1, 500).items,
            "scope_codes": {s.material.code for s in item.scope if s.material},
            "services": ", ".join(s.service for s in item.scope if s.service),
            "certificate_fields": field_rows(CERTIFICATE_FIELDS, {}, {}),
            "warn_days": rule("REC-SUPPLIER-CERTIFICATE")["warn_days_before_expiry"],
            "scorecard": scorecard.supplier_scorecard(item, 365),
        }
    return render_template(
        "erp/record.html",
        plural=plural,
        kind=kind,
        title=title,
        item=item,
        fields=field_rows([s for s in specs if s[0] != "code"], shown, errors or {}),
        **extra,
    ), 400 if errors else 200


@bp.route(f"/{PLURAL}/<code>/edit", methods=["POST"])
def record_edit(plural, code):
    """Save changes to a master record, with a reason."""
    _kind, _title, specs, schema, _query, _create, update, _void = KINDS[plural]
    item = _record(plural, code)
    editable = [s for s in specs if s[0] != "code"]
    try:
        body = parse(schemas.patch_schema(schema), request.form, editable, partial=True)
        reason = body.pop("reason")
        update(g.user, item, body, reason)
    except InvalidInput as exc:
        flash(_("Please correct the marked fields."), "error")
        return record(plural, code, exc.errors, request.form.to_dict())
    flash(_("Saved."), "success")
    return redirect(url_for("erp.record", plural=plural, code=code))


@bp.route(f"/{PLURAL}/<code>/void", methods=["POST"])
def record_void(plural, code):
    """Void a master record (it is kept, marked void, with the reason)."""
    item = _record(plural, code)
    return attempt(
        lambda: KINDS[plural][7](g.user, item, request.form.get("reason", "")),
        url_for("erp.record", plural=plural, code=code),
    )


@bp.route("/suppliers/<code>/status", methods=["POST"])
def supplier_status(code):
    """QA's qualification decision."""
    item = _record("suppliers", code)
    return attempt(
        lambda: parties.set_supplier_status(
            g.user, item, request.form.get("status", ""), request.form.get("reason", "")
        ),
        url_for("erp.record", plural="suppliers", code=code),
    )


@bp.route("/suppliers/<code>/scope", methods=["POST"])
def supplier_scope(code):
    """Replace the approved scope: materials ticked, services listed (comma separated)."""
    item = _record("suppliers", code)
    services = [s.strip() for s in request.form.get("services", "").split(",") if s.strip()]
    return attempt(
        lambda: parties.set_supplier_scope(
            g.user, item, request.form.getlist("materials"), services, request.form.get("reason", "")
        ),
        url_for("erp.record", plural="suppliers", code=code),
    )


@bp.route("/suppliers/<code>/certificates", methods=["POST"])
def certificate_add(code):
    """Record a certificate of a supplier."""
    item = _record("suppliers", code)
    return attempt(
        lambda: parties.add_certificate(g.user, item, parse(schemas.CertificateIn(), request.form, CERTIFICATE_FIELDS)),
        url_for("erp.record", plural="suppliers", code=code),
    )


@bp.route("/suppliers/<code>/certificates/<int:certificate_id>/void", methods=["POST"])
def certificate_void(code, certificate_id):
    """Void a certificate recorded in error."""
    certificate = queries.get(SupplierCertificate, certificate_id)
    if certificate is None or certificate.supplier.code != code:
        abort(404)
    return attempt(
        lambda: parties.void_certificate(g.user, certificate, request.form.get("reason", "")),
        url_for("erp.record", plural="suppliers", code=code),
    )
