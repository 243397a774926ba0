"""marshmallow schemas of the ERP API's requests and query strings: unknown fields are rejected (400)."""

from marshmallow import RAISE, Schema, fields, validate

from ..bounds import MAX_DAYS, BoundedInteger
from ..models.erp_items import DEVICE_CLASSES, LOCATION_KINDS, LOT_STATUSES, STORAGE, TRACKING
from ..models.erp_ledger import MOVEMENT_TYPES
from ..models.erp_parties import CERTIFICATE_TYPES, SUPPLIER_STATUSES


class Strict(Schema):
    """Base: unknown fields are an error (400 naming the field)."""

    class Meta:
        unknown = RAISE


def _code(**kw):
    return fields.String(validate=validate.Length(1, 40), **kw)


def _reason():
    return fields.String(required=True, validate=validate.Length(1, 500))


# ---- requests ---------------------------------------------------------------------------------


class MaterialIn(Strict):
    code = _code(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    gtin = fields.String(allow_none=True, validate=validate.Length(max=14))
    tracking = fields.String(required=True, validate=validate.OneOf(TRACKING))
    storage = fields.String(load_default="ambient", validate=validate.OneOf(STORAGE))
    unit = fields.String(load_default="EA", validate=validate.Length(1, 10))
    shelf_life_days = BoundedInteger(allow_none=True, minimum=0, maximum=MAX_DAYS)
    device_class = fields.String(allow_none=True, validate=validate.OneOf(DEVICE_CLASSES))
    registration_number = fields.String(allow_none=True, validate=validate.Length(max=80))
    registration_valid_until = fields.Date(allow_none=True)


class SupplierIn(Strict):
    code = _code(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))


class CustomerIn(Strict):
    code = _code(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    license_number = fields.String(allow_none=True, validate=validate.Length(max=80))
    license_valid_until = fields.Date(allow_none=True)
    licensed_scope = fields.List(fields.String(validate=validate.OneOf(DEVICE_CLASSES)), load_default=list)
    address = fields.String(load_default="", validate=validate.Length(max=300))
    min_remaining_shelf_life_days = BoundedInteger(allow_none=True, minimum=0, maximum=MAX_DAYS)


class LocationIn(Strict):
    code = _code(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    kind = fields.String(required=True, validate=validate.OneOf(LOCATION_KINDS))


def patch_schema(base):
    """The PATCH body of a record: any of `base`'s fields but the code, plus a required reason."""
    names = tuple(n for n in base._declared_fields if n != "code")
    schema = type(f"{base.__name__}Patch", (base,), {"reason": _reason(), "Meta": type("Meta", (), {"unknown": RAISE})})
    return schema(partial=names, exclude=("code",))


class ReasonIn(Strict):
    reason = _reason()


class SupplierStatusIn(ReasonIn):
    status = fields.String(required=True, validate=validate.OneOf(SUPPLIER_STATUSES))


class SupplierScopeIn(ReasonIn):
    materials = fields.List(_code(), load_default=list)
    services = fields.List(fields.String(validate=validate.Length(1, 120)), load_default=list)


class CertificateIn(Strict):
    type = fields.String(required=True, validate=validate.OneOf(CERTIFICATE_TYPES))
    number = fields.String(required=True, validate=validate.Length(1, 80))
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    file_name = fields.String(allow_none=True, validate=validate.Length(max=255))


class LotIn(Strict):
    material = _code(required=True)
    lot = fields.String(required=True, validate=validate.Length(1, 40))
    origin = fields.String(load_default="production", validate=validate.OneOf(("production", "subcontract")))
    manufactured_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    origin_reference = fields.String(allow_none=True, validate=validate.Length(max=60))


class LotPatchIn(ReasonIn):
    manufactured_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)


class LotStatusIn(ReasonIn):
    status = fields.String(required=True, validate=validate.OneOf(LOT_STATUSES))


class MovementIn(Strict):
    type = fields.String(
        required=True, validate=validate.OneOf([t for t in MOVEMENT_TYPES if t not in ("receipt", "shipment")])
    )
    material = _code(required=True)
    lot = fields.String(allow_none=True, validate=validate.Length(max=40))
    serial = fields.String(allow_none=True, validate=validate.Length(max=40))
    quantity = BoundedInteger(required=True)
    from_location = _code(allow_none=True)
    to_location = _code(allow_none=True)
    customer = _code(allow_none=True)
    supplier = _code(allow_none=True)
    reference = fields.String(allow_none=True, validate=validate.Length(max=60))
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))
    moved_at = fields.AwareDateTime(allow_none=True)


class TemperatureIn(Strict):
    transport_mode = fields.String(required=True, validate=validate.Length(1, 60))
    min_c = fields.Float(required=True)
    max_c = fields.Float(required=True)
    arrival_c = fields.Float(required=True)
    transit_minutes = BoundedInteger(allow_none=True, minimum=0)


class ReceiptCommon(Strict):
    supplier = _code(required=True)
    to_location = _code(required=True)
    reference = fields.String(allow_none=True, validate=validate.Length(max=60))
    temperature = fields.Nested(TemperatureIn, allow_none=True)
    moved_at = fields.AwareDateTime(allow_none=True)


class ReceiptIn(ReceiptCommon):
    material = _code(required=True)
    lot = fields.String(allow_none=True, validate=validate.Length(max=40))
    quantity = BoundedInteger(required=True)
    manufactured_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    serials = fields.List(fields.String(validate=validate.Length(1, 40)), load_default=list)


class ScanReceiptIn(ReceiptCommon):
    scan = fields.String(required=True, validate=validate.Length(1, 200))
    quantity = BoundedInteger(load_default=1)


class ShipmentLineIn(Strict):
    material = _code(required=True)
    lot = fields.String(allow_none=True, validate=validate.Length(max=40))
    serial = fields.String(allow_none=True, validate=validate.Length(max=40))
    quantity = BoundedInteger(required=True)
    from_location = _code(required=True)


class ShipmentIn(Strict):
    customer = _code(required=True)
    lines = fields.List(fields.Nested(ShipmentLineIn), required=True, validate=validate.Length(min=1))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class ShipIn(Strict):
    shipped_at = fields.AwareDateTime(allow_none=True)


class UdiIn(Strict):
    code = fields.String(required=True, validate=validate.Length(1, 200))


# ---- query strings ----------------------------------------------------------------------------


class PageArgs(Strict):
    page = BoundedInteger(load_default=1)
    per_page = BoundedInteger(load_default=50, maximum=500)
    include_voided = fields.Boolean(load_default=False)


class MaterialArgs(PageArgs):
    q = fields.String()
    tracking = fields.String(validate=validate.OneOf(TRACKING))
    storage = fields.String(validate=validate.OneOf(STORAGE))
    device_class = fields.String(validate=validate.OneOf(DEVICE_CLASSES))
    gtin = fields.String()


class SupplierArgs(PageArgs):
    q = fields.String()
    status = fields.String(validate=validate.OneOf(SUPPLIER_STATUSES))


class CustomerArgs(PageArgs):
    q = fields.String()
    license_valid_before = fields.Date()


class LocationArgs(PageArgs):
    q = fields.String()
    kind = fields.String(validate=validate.OneOf(LOCATION_KINDS))


class LotArgs(PageArgs):
    material = fields.String()
    lot = fields.String()
    status = fields.String(validate=validate.OneOf(LOT_STATUSES))
    supplier = fields.String()
    expires_before = fields.Date()


class SerialArgs(PageArgs):
    material = fields.String()
    lot = fields.String()
    serial = fields.String()


class MovementArgs(PageArgs):
    type = fields.String(validate=validate.OneOf(MOVEMENT_TYPES))
    material = fields.String()
    lot = fields.String()
    lot_id = BoundedInteger()
    location = fields.String()
    reference = fields.String()
    customer = fields.String()
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()


class ShipmentArgs(PageArgs):
    customer = fields.String()
    status = fields.String(validate=validate.OneOf(("draft", "shipped")))


class StockArgs(Strict):
    material = fields.String()
    lot = fields.String()
    location = fields.String()


class FefoArgs(Strict):
    material = _code(required=True)
    quantity = BoundedInteger(required=True)
    customer = _code()


class TraceArgs(Strict):
    material = _code(required=True)
    lot = fields.String(required=True, validate=validate.Length(1, 40))
    direction = fields.String(load_default="forward", validate=validate.OneOf(("forward", "backward")))


__all__ = [
    "CertificateIn",
    "CustomerArgs",
    "CustomerIn",
    "FefoArgs",
    "LocationArgs",
    "LocationIn",
    "LotArgs",
    "LotIn",
    "LotPatchIn",
    "LotStatusIn",
    "MaterialArgs",
    "MaterialIn",
    "MovementArgs",
    "MovementIn",
    "PageArgs",
    "ReasonIn",
    "ReceiptCommon",
    "ReceiptIn",
    "ScanReceiptIn",
    "SerialArgs",
    "ShipIn",
    "ShipmentArgs",
    "ShipmentIn",
    "ShipmentLineIn",
    "StockArgs",
    "Strict",
    "SupplierArgs",
    "SupplierIn",
    "SupplierScopeIn",
    "SupplierStatusIn",
    "TemperatureIn",
    "TraceArgs",
    "UdiIn",
    "patch_schema",
]
