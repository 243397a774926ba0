"""The ERP part of the OpenAPI document: components from erp_schemas and every ERP path."""

from apispec.ext.marshmallow import MarshmallowPlugin

from . import erp_schemas as s

COMPONENTS = (
    "MaterialIn",
    "SupplierIn",
    "CustomerIn",
    "LocationIn",
    "Material",
    "Supplier",
    "Customer",
    "Location",
    "Certificate",
    "CertificateIn",
    "ReasonIn",
    "SupplierStatusIn",
    "SupplierScopeIn",
    "Lot",
    "LotIn",
    "LotPatchIn",
    "LotStatusIn",
    "Serial",
    "Movement",
    "MovementIn",
    "ReceiptIn",
    "ScanReceiptIn",
    "Receipt",
    "Shipment",
    "ShipmentIn",
    "ShipIn",
    "StockRow",
    "Fefo",
    "UdiIn",
    "Udi",
    "TraceResponse",
    "ImportResult",
)
MASTER = {
    "materials": ("Material", s.MaterialArgs),
    "suppliers": ("Supplier", s.SupplierArgs),
    "customers": ("Customer", s.CustomerArgs),
    "locations": ("Location", s.LocationArgs),
}


def _query_params(spec, schema):
    """OpenAPI query parameters from an args schema, with its validators' bounds, enums and lengths."""
    converter = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin)).converter
    return converter.schema2parameters(schema(), location="query")


def _page(item):
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


def add_erp(spec, op, path_param):
    """Register ERP components and paths on `spec` using openapi.py's operation helper `op`."""
    for name in COMPONENTS:
        if name not in spec.components.schemas:  # nested schemas register themselves under their name
            spec.components.schema(name, schema=getattr(s, name))
    for plural, (name, args) in MASTER.items():
        kind = name.lower()
        spec.components.schema(f"{name}Patch", schema=s.patch_schema(getattr(s, f"{name}In")))
        code = [path_param("code")]
        spec.path(
            f"/api/v1/{plural}",
            operations={
                "get": op(f"List {plural}", response=_page(name), params=_query_params(spec, args)),
                "post": op(f"Create a {kind}", f"{name}In", name, status="201"),
            },
        )
        spec.path(
            f"/api/v1/{plural}/{{code}}",
            operations={
                "get": op(f"Get a {kind}", response=name, params=code),
                "patch": op(f"Change a {kind} (with a reason)", f"{name}Patch", name, params=code),
            },
        )
        spec.path(
            f"/api/v1/{plural}/{{code}}/void",
            operations={"post": op(f"Void a {kind}", "ReasonIn", name, params=code, errors=(400, 401, 403, 404, 409))},
        )
    code = [path_param("code")]
    spec.path(
        "/api/v1/suppliers/{code}/status",
        operations={"post": op("Qualification decision (QA)", "SupplierStatusIn", "Supplier", params=code)},
    )
    spec.path(
        "/api/v1/suppliers/{code}/scope",
        operations={"put": op("Replace the approved scope", "SupplierScopeIn", "Supplier", params=code)},
    )
    spec.path(
        "/api/v1/suppliers/{code}/certificates",
        operations={"post": op("Add a certificate", "CertificateIn", "Certificate", status="201", params=code)},
    )
    spec.path(
        "/api/v1/suppliers/{code}/certificates/{certificate_id}/void",
        operations={
            "post": op(
                "Void a certificate",
                "ReasonIn",
                "Certificate",
                params=code + [path_param("certificate_id", "integer")],
                errors=(400, 401, 403, 404, 409),
            )
        },
    )
    _inventory_paths(spec, op, path_param)


def _inventory_paths(spec, op, path_param):
    lot_id, guard_errors = [path_param("lot_id", "integer")], (400, 401, 403, 404, 409, 422)
    spec.path(
        "/api/v1/lots",
        operations={
            "get": op("List lots", response=_page("Lot"), params=_query_params(spec, s.LotArgs)),
            "post": op("Create a production or subcontract lot", "LotIn", "Lot", status="201"),
        },
    )
    spec.path(
        "/api/v1/lots/{lot_id}",
        operations={
            "get": op("Get a lot", response="Lot", params=lot_id),
            "patch": op("Correct a lot's dates", "LotPatchIn", "Lot", params=lot_id, errors=(400, 401, 403, 404, 409)),
        },
    )
    spec.path(
        "/api/v1/lots/{lot_id}/release",
        operations={"post": op("Release a lot", "ReasonIn", "Lot", params=lot_id, errors=guard_errors)},
    )
    spec.path(
        "/api/v1/lots/{lot_id}/status",
        operations={
            "post": op(
                "Hold, quarantine, reject or recall a lot", "LotStatusIn", "Lot", params=lot_id, errors=guard_errors
            )
        },
    )
    spec.path(
        "/api/v1/lots/{lot_id}/void",
        operations={"post": op("Void a lot without movements", "ReasonIn", "Lot", params=lot_id, errors=guard_errors)},
    )
    spec.path(
        "/api/v1/serials",
        operations={
            "get": op("List serial numbers", response=_page("Serial"), params=_query_params(spec, s.SerialArgs))
        },
    )
    spec.path(
        "/api/v1/movements",
        operations={
            "get": op("The ledger", response=_page("Movement"), params=_query_params(spec, s.MovementArgs)),
            "post": op("Post a movement", "MovementIn", "Movement", status="201", errors=guard_errors),
        },
    )
    movement_id = [path_param("movement_id", "integer")]
    spec.path(
        "/api/v1/movements/{movement_id}",
        operations={"get": op("Get a movement", response="Movement", params=movement_id)},
    )
    spec.path(
        "/api/v1/movements/{movement_id}/reverse",
        operations={
            "post": op(
                "Reverse a movement", "ReasonIn", "Movement", status="201", params=movement_id, errors=guard_errors
            )
        },
    )
    spec.path(
        "/api/v1/stock",
        operations={
            "get": op(
                "Stock from the ledger",
                response={"type": "array", "items": {"$ref": "#/components/schemas/StockRow"}},
                params=_query_params(spec, s.StockArgs),
            )
        },
    )
    spec.path(
        "/api/v1/receipts",
        operations={"post": op("Receive goods", "ReceiptIn", "Receipt", status="201", errors=guard_errors)},
    )
    spec.path(
        "/api/v1/receipts/scan",
        operations={
            "post": op("Receive goods by UDI scan", "ScanReceiptIn", "Receipt", status="201", errors=guard_errors)
        },
    )
    shipment_id = [path_param("shipment_id", "integer")]
    spec.path(
        "/api/v1/shipments",
        operations={
            "get": op("List shipments", response=_page("Shipment"), params=_query_params(spec, s.ShipmentArgs)),
            "post": op("Draft a shipment", "ShipmentIn", "Shipment", status="201"),
        },
    )
    spec.path(
        "/api/v1/shipments/{shipment_id}",
        operations={"get": op("Get a shipment", response="Shipment", params=shipment_id)},
    )
    spec.path(
        "/api/v1/shipments/{shipment_id}/ship",
        operations={"post": op("Ship a draft", "ShipIn", "Shipment", params=shipment_id, errors=guard_errors)},
    )
    spec.path(
        "/api/v1/shipments/{shipment_id}/void",
        operations={"post": op("Cancel a draft", "ReasonIn", "Shipment", params=shipment_id, errors=guard_errors)},
    )
    spec.path(
        "/api/v1/fefo",
        operations={"get": op("FEFO picking suggestion", response="Fefo", params=_query_params(spec, s.FefoArgs))},
    )
    spec.path("/api/v1/udi/parse", operations={"post": op("Parse a UDI (GS1)", "UdiIn", "Udi")})
    spec.path(
        "/api/v1/trace",
        operations={
            "get": op(
                "Trace a lot forward or backward", response="TraceResponse", params=_query_params(spec, s.TraceArgs)
            )
        },
    )
    upload = {
        "summary": "Import CSV files, all or nothing",
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "files": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"}}
                        },
                        "required": ["files"],
                    }
                }
            },
        },
    }
    import_op = op(
        "Import CSV files, all or nothing", response="ImportResult", status="201", errors=(400, 401, 403, 422)
    )
    spec.path("/api/v1/imports", operations={"post": {**import_op, **upload}})
