"""marshmallow schemas of the ERP API's responses (the trace's is the fixed contract)."""

from marshmallow import Schema, fields, validate

from ..models.erp_items import LOT_ORIGINS
from .erp_requests import CertificateIn, CustomerIn, LocationIn, MaterialIn, SupplierIn

# ---- responses --------------------------------------------------------------------------------


def _code_of(attribute):
    """A field dumping the code (or number) of a related record, None when absent."""
    path = attribute.split(".")

    def get(obj):
        for name in path:
            obj = getattr(obj, name, None)
            if obj is None:
                return None
        return obj

    return fields.Function(get, allow_none=True)


class Voidable(Schema):
    voided_at = fields.DateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)


class Material(MaterialIn, Voidable):
    id = fields.Integer()


class Certificate(CertificateIn, Voidable):
    id = fields.Integer()


class Supplier(SupplierIn, Voidable):
    id = fields.Integer()
    status = fields.String()
    scope = fields.Function(
        lambda s: {
            "materials": sorted(e.material.code for e in s.scope if e.material),
            "services": sorted(e.service for e in s.scope if e.service),
        }
    )
    certificates = fields.List(fields.Nested(Certificate))


class Customer(CustomerIn, Voidable):
    id = fields.Integer()


class Location(LocationIn, Voidable):
    id = fields.Integer()


class Lot(Voidable):
    id = fields.Integer()
    material = _code_of("material.code")
    lot = fields.String(attribute="lot_number")
    manufactured_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    status = fields.String()
    origin = fields.String(validate=validate.OneOf(LOT_ORIGINS))
    origin_reference = fields.String(allow_none=True)
    supplier = _code_of("supplier.code")


class Serial(Schema):
    id = fields.Integer()
    material = _code_of("lot.material.code")
    lot = _code_of("lot.lot_number")
    serial = fields.String()


class Movement(Schema):
    id = fields.Integer()
    moved_at = fields.DateTime()
    type = fields.String()
    material = _code_of("material.code")
    lot = _code_of("lot.lot_number")
    serial = _code_of("serial.serial")
    quantity = fields.Integer()
    from_location = _code_of("from_location.code")
    to_location = _code_of("to_location.code")
    customer = _code_of("customer.code")
    supplier = _code_of("supplier.code")
    reference = fields.String(allow_none=True)
    reverses_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    user = _code_of("user.username")


class ShipmentLine(Schema):
    material = _code_of("material.code")
    lot = _code_of("lot.lot_number")
    serial = _code_of("serial.serial")
    quantity = fields.Integer()
    from_location = _code_of("from_location.code")


class Shipment(Voidable):
    id = fields.Integer()
    number = fields.String()
    customer = _code_of("customer.code")
    status = fields.String()
    shipped_at = fields.DateTime(allow_none=True)
    note = fields.String()
    lines = fields.List(fields.Nested(ShipmentLine))


class StockRow(Schema):
    location = fields.String()
    location_kind = fields.String()
    material = fields.String()
    lot = fields.String(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    status = fields.String(allow_none=True)
    quantity = fields.Integer()


class FefoPick(Schema):
    lot = fields.String(allow_none=True)
    from_location = fields.String()
    expires_on = fields.Date(allow_none=True)
    available = fields.Integer()
    quantity = fields.Integer()
    serials = fields.List(fields.String())


class Fefo(Schema):
    picks = fields.List(fields.Nested(FefoPick))
    shortfall = fields.Integer()


class Receipt(Schema):
    lot = fields.Nested(Lot, allow_none=True)
    movements = fields.List(fields.Nested(Movement))
    held = fields.Boolean()


class UdiElement(Schema):
    ai = fields.String()
    title = fields.String()
    value = fields.String()


class Udi(Schema):
    gtin = fields.String()
    lot = fields.String(allow_none=True)
    serial = fields.String(allow_none=True)
    expiry = fields.String(allow_none=True)
    production_date = fields.String(allow_none=True)
    hri = fields.String()
    elements = fields.List(fields.Nested(UdiElement))
    material = fields.String(allow_none=True)


class TraceRoot(Schema):
    material = fields.String(required=True)
    lot = fields.String(required=True)


class TraceLot(TraceRoot):
    depth = fields.Integer(required=True)
    status = fields.String(required=True)


class TraceShipment(Schema):
    shipment = fields.String(required=True)
    customer = fields.String(required=True)
    material = fields.String(required=True)
    lot = fields.String(required=True)
    serial = fields.String(required=True, allow_none=True)
    quantity = fields.Integer(required=True)
    shipped_at = fields.String(required=True)


class TraceCustomer(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    quantity = fields.Integer(required=True)


class TraceStock(Schema):
    location = fields.String(required=True)
    material = fields.String(required=True)
    lot = fields.String(required=True)
    quantity = fields.Integer(required=True)


class TraceSupplier(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    material = fields.String(required=True)
    lot = fields.String(required=True)


class TraceResponse(Schema):
    root = fields.Nested(TraceRoot, required=True)
    lots = fields.List(fields.Nested(TraceLot), required=True)
    shipments = fields.List(fields.Nested(TraceShipment), required=True)
    customers = fields.List(fields.Nested(TraceCustomer), required=True)
    stock = fields.List(fields.Nested(TraceStock), required=True)
    suppliers = fields.List(fields.Nested(TraceSupplier), required=True)


class ImportErrorRow(Schema):
    file = fields.String()
    row = fields.Integer()
    column = fields.String()
    reason = fields.String()


class ImportResult(Schema):
    imported = fields.Dict(keys=fields.String(), values=fields.Integer())


__all__ = [
    "Certificate",
    "Customer",
    "Fefo",
    "FefoPick",
    "ImportErrorRow",
    "ImportResult",
    "Location",
    "Lot",
    "Material",
    "Movement",
    "Receipt",
    "Serial",
    "Shipment",
    "ShipmentLine",
    "StockRow",
    "Supplier",
    "TraceCustomer",
    "TraceLot",
    "TraceResponse",
    "TraceRoot",
    "TraceShipment",
    "TraceStock",
    "TraceSupplier",
    "Udi",
    "UdiElement",
    "Voidable",
]
