"""HTML form ↔ service values for the ERP pages: field specs, parsing through the API's
marshmallow schemas (one set of validation rules), and labels for enumerations."""

from marshmallow import ValidationError

from ..errors import InvalidInput
from ..models.erp_items import DEVICE_CLASSES, LOCATION_KINDS, LOT_STATUSES, STORAGE, TRACKING
from ..models.erp_ledger import MOVEMENT_TYPES
from ..models.erp_parties import CERTIFICATE_TYPES, SUPPLIER_STATUSES


def N_(text):
    """Mark `text` for translation; templates translate it when they show it."""
    return text


LABELS = {
    "lot": N_("lot-tracked"),
    "serial": N_("serialized"),
    "none": N_("not tracked"),
    "ambient": N_("ambient"),
    "2-8C": N_("2–8 °C"),
    "frozen": N_("≤ −20 °C"),
    "warehouse": N_("warehouse"),
    "quarantine": N_("quarantine"),
    "subcontractor": N_("subcontractor"),
    "production": N_("production"),
    "customer": N_("customer"),
    "released": N_("released"),
    "hold": N_("on hold"),
    "rejected": N_("rejected"),
    "recalled": N_("recalled"),
    "pending": N_("pending"),
    "approved": N_("approved"),
    "conditional": N_("conditional"),
    "blocked": N_("blocked"),
    "receipt": N_("receipt"),
    "consumption": N_("consumption"),
    "output": N_("output"),
    "transfer": N_("transfer"),
    "to_subcontractor": N_("to subcontractor"),
    "from_subcontractor": N_("from subcontractor"),
    "shipment": N_("shipment"),
    "return": N_("customer return"),
    "scrap": N_("scrap"),
    "adjustment": N_("adjustment"),
    "draft": N_("draft"),
    "shipped": N_("shipped"),
    "iso13485": N_("ISO 13485"),
    "business_licence": N_("business licence"),
    "production_licence": N_("production licence"),
    "distribution_licence": N_("distribution licence"),
    "other": N_("other"),
    "supplier_receipt": N_("supplier receipt"),
    "subcontract": N_("subcontract"),
    "forward": N_("forward"),
    "backward": N_("backward"),
}


def options(values):
    """(value, label) pairs for a select."""
    return [(v, LABELS.get(v, v)) for v in values]


# (name, label, widget, options)
MATERIAL_FIELDS = [
    ("code", N_("Code"), "text", None),
    ("name", N_("Name"), "text", None),
    ("gtin", N_("GTIN (UDI-DI)"), "text", None),
    ("tracking", N_("Tracking"), "select", options(TRACKING)),
    ("storage", N_("Storage"), "select", options(STORAGE)),
    ("unit", N_("Unit"), "text", None),
    ("shelf_life_days", N_("Shelf life (days)"), "int", None),
    ("device_class", N_("Device class"), "select", options(DEVICE_CLASSES)),
    ("registration_number", N_("Registration number"), "text", None),
    ("registration_valid_until", N_("Registration valid until"), "date", None),
]
SUPPLIER_FIELDS = [("code", N_("Code"), "text", None), ("name", N_("Name"), "text", None)]
CUSTOMER_FIELDS = [
    ("code", N_("Code"), "text", None),
    ("name", N_("Name"), "text", None),
    ("license_number", N_("Licence number"), "text", None),
    ("license_valid_until", N_("Licence valid until"), "date", None),
    ("licensed_scope", N_("Licensed scope (device classes)"), "checks", options(DEVICE_CLASSES)),
    ("address", N_("Address"), "text", None),
    ("min_remaining_shelf_life_days", N_("Minimum remaining shelf life (days)"), "int", None),
]
LOCATION_FIELDS = [
    ("code", N_("Code"), "text", None),
    ("name", N_("Name"), "text", None),
    ("kind", N_("Kind"), "select", options(LOCATION_KINDS)),
]
CERTIFICATE_FIELDS = [
    ("type", N_("Type"), "select", options(CERTIFICATE_TYPES)),
    ("number", N_("Number"), "text", None),
    ("valid_from", N_("Valid from"), "date", None),
    ("valid_until", N_("Valid until"), "date", None),
    ("file_name", N_("File"), "text", None),
]
SUPPLIER_STATUS_OPTIONS = options(SUPPLIER_STATUSES)
LOT_STATUS_OPTIONS = options([s for s in LOT_STATUSES if s != "released"])
MOVEMENT_TYPE_OPTIONS = options([t for t in MOVEMENT_TYPES if t not in ("receipt", "shipment")])


def parse(schema, form, specs, partial=False):
    """Load form fields named in `specs` through a marshmallow schema; InvalidInput with field errors.

    Empty inputs are left out (create) or sent as None (update, `partial`); `checks` widgets give lists."""
    data = {}
    for name, _label, widget, _opts in specs:
        if name not in schema.fields or schema.fields[name].dump_only:
            continue
        if widget == "checks":
            data[name] = form.getlist(name)
            continue
        value = (form.get(name) or "").strip()
        if value:
            data[name] = value
        elif partial and name in form:
            data[name] = None
    if "reason" in schema.fields:
        data["reason"] = (form.get("reason") or "").strip()
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput("please correct the marked fields", _flat(exc.messages)) from None


def _flat(messages, prefix=""):
    flat = {}
    for key, value in messages.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value[0] if isinstance(value, list) else value
    return flat


def field_rows(specs, values, errors):
    """What the form macro renders: one dict per field with its value and error."""
    return [
        {"name": n, "label": label, "widget": w, "options": opts, "value": values.get(n), "error": errors.get(n)}
        for n, label, w, opts in specs
    ]


def value_of(record, name):
    """A record's attribute as a form shows it (dates as ISO strings)."""
    value = getattr(record, name, None)
    return value.isoformat() if hasattr(value, "isoformat") else value
