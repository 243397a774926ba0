"""API v1 master data: materials, suppliers (status, scope, certificates), customers, locations.

Each record type gets list (paginated, filtered), get, create, update (PATCH with a reason) and
void; nothing is deleted. Views translate HTTP to one service call.
"""

from flask import g, jsonify, request

from ..errors import NotFound
from ..models import SupplierCertificate
from ..services.erp import materials, parties, queries
from ..services.erp.common import by_code
from . import erp_schemas as s
from .blueprint import bp
from .routes import _load

# plural: (kind, request schema, response schema, list query, list args schema, create, update, void)
MASTER = {
    "materials": (
        "material",
        s.MaterialIn,
        s.Material,
        queries.materials,
        s.MaterialArgs,
        materials.create_material,
        materials.update_material,
        materials.void_material,
    ),
    "suppliers": (
        "supplier",
        s.SupplierIn,
        s.Supplier,
        queries.suppliers,
        s.SupplierArgs,
        parties.create_supplier,
        parties.update_supplier,
        parties.void_supplier,
    ),
    "customers": (
        "customer",
        s.CustomerIn,
        s.Customer,
        queries.customers,
        s.CustomerArgs,
        parties.create_customer,
        parties.update_customer,
        parties.void_customer,
    ),
    "locations": (
        "location",
        s.LocationIn,
        s.Location,
        queries.locations,
        s.LocationArgs,
        materials.create_location,
        materials.update_location,
        materials.void_location,
    ),
}


def query_args(schema):
    """The query string validated by `schema` (400 with per-field errors; unknown parameters too)."""
    return _load(schema(), request.args.to_dict())


def page_json(query, dump, args):
    """{"items", "page", "per_page", "total"} for one page of `query`."""
    page = queries.paginate(query, args.pop("page"), args.pop("per_page"))
    return jsonify(
        {"items": dump.dump(page.items, many=True), "page": page.page, "per_page": page.per_page, "total": page.total}
    )


def _register(plural, kind, in_schema, out_schema, list_query, args_schema, create, update, void):
    dump, patch = out_schema(), s.patch_schema(in_schema)

    def list_view():
        args = query_args(args_schema)
        paging = {"page": args.pop("page"), "per_page": args.pop("per_page")}
        return page_json(list_query(**args), dump, paging)

    def create_view():
        return jsonify(dump.dump(create(g.user, _load(in_schema())))), 201

    def get_view(code):
        return jsonify(dump.dump(by_code(kind, code, allow_voided=True)))

    def update_view(code):
        body = _load(patch)
        reason = body.pop("reason")
        return jsonify(dump.dump(update(g.user, by_code(kind, code), body, reason)))

    def void_view(code):
        return jsonify(dump.dump(void(g.user, by_code(kind, code), _load(s.ReasonIn())["reason"])))

    views = [
        ("", "GET", f"list_{plural}", list_view),
        ("", "POST", f"create_{kind}", create_view),
        ("/<code>", "GET", f"get_{kind}", get_view),
        ("/<code>", "PATCH", f"update_{kind}", update_view),
        ("/<code>/void", "POST", f"void_{kind}", void_view),
    ]
    for suffix, method, endpoint, view in views:
        view.__doc__ = f"{endpoint.replace('_', ' ').capitalize()}."
        bp.add_url_rule(f"/{plural}{suffix}", endpoint=endpoint, view_func=view, methods=[method])


for _plural, _spec in MASTER.items():
    _register(_plural, *_spec)


@bp.post("/suppliers/<code>/status", endpoint="set_supplier_status")
def set_supplier_status(code):
    """QA's qualification decision on a supplier."""
    body = _load(s.SupplierStatusIn())
    supplier = parties.set_supplier_status(g.user, by_code("supplier", code), body["status"], body["reason"])
    return jsonify(s.Supplier().dump(supplier))


@bp.put("/suppliers/<code>/scope", endpoint="set_supplier_scope")
def set_supplier_scope(code):
    """Replace a supplier's approved scope (materials and services)."""
    body = _load(s.SupplierScopeIn())
    supplier = parties.set_supplier_scope(
        g.user, by_code("supplier", code), body["materials"], body["services"], body["reason"]
    )
    return jsonify(s.Supplier().dump(supplier))


@bp.post("/suppliers/<code>/certificates", endpoint="add_certificate")
def add_certificate(code):
    """Record a supplier certificate."""
    certificate = parties.add_certificate(g.user, by_code("supplier", code), _load(s.CertificateIn()))
    return jsonify(s.Certificate().dump(certificate)), 201


@bp.post("/suppliers/<code>/certificates/<int:certificate_id>/void", endpoint="void_certificate")
def void_certificate(code, certificate_id):
    """Void a supplier certificate recorded in error."""
    certificate = queries.get(SupplierCertificate, certificate_id)
    if certificate is None or certificate.supplier.code != code:
        raise NotFound(f"no certificate {certificate_id} of supplier {code}")
    return jsonify(s.Certificate().dump(parties.void_certificate(g.user, certificate, _load(s.ReasonIn())["reason"])))
