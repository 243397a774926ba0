"""Materials (products, with GTIN = UDI-DI) and locations: create, update, void."""

from sqlalchemy import select

from ...errors import InvalidInput, UdiInvalid
from ...extensions import db
from ...models import Location, Material, Movement
from ...models._types import MAX_DAYS
from ...models.erp_items import DEVICE_CLASSES, LOCATION_KINDS, STORAGE, TRACKING
from .common import require
from .records import create_record, update_record, void_record
from .udi import normalize_gtin

MATERIAL_FIELDS = (
    "code",
    "name",
    "gtin",
    "tracking",
    "storage",
    "unit",
    "shelf_life_days",
    "device_class",
    "registration_number",
    "registration_valid_until",
)
LOCATION_FIELDS = ("code", "name", "kind")


def _material_values(values):
    """Checked and normalized material values (GTIN-14 with a valid check digit, known enums)."""
    values = dict(values)
    if values.get("gtin"):
        try:
            values["gtin"] = normalize_gtin(values["gtin"])
        except UdiInvalid as exc:
            raise InvalidInput(exc.message, {"gtin": exc.message}) from None
    elif "gtin" in values:
        values["gtin"] = None
    for field, allowed in (("tracking", TRACKING), ("storage", STORAGE)):
        if field in values:
            require(values[field] in allowed, field, f"must be one of {', '.join(allowed)}")
    if values.get("device_class") is not None:
        require(values["device_class"] in DEVICE_CLASSES, "device_class", f"must be one of {', '.join(DEVICE_CLASSES)}")
    if values.get("shelf_life_days") is not None:
        require(values["shelf_life_days"] >= 0, "shelf_life_days", "must not be negative")
        require(values["shelf_life_days"] <= MAX_DAYS, "shelf_life_days", f"must be at most {MAX_DAYS}")
    return values


def _gtin_unique(gtin, material_id=None):
    if gtin:
        other = db.session.scalar(select(Material.id).where(Material.gtin == gtin))
        require(other in (None, material_id), "gtin", f"GTIN {gtin} belongs to another material")


def create_material(actor, values):
    """Create a material from checked values."""
    values = _material_values(values)
    _gtin_unique(values.get("gtin"))
    return create_record(actor, Material, "material", values, MATERIAL_FIELDS)


def update_material(actor, material, changes, reason):
    """Change a material's fields (not its code) with a reason."""
    require("code" not in changes, "code", "the code of a record does not change")
    if "tracking" in changes and changes["tracking"] != material.tracking:
        used = db.session.scalar(select(Movement.id).where(Movement.material_id == material.id).limit(1))
        require(used is None, "tracking", "tracking cannot change once the material has movements")
    changes = _material_values(changes)
    _gtin_unique(changes.get("gtin"), material.id)
    return update_record(actor, material, "material", changes, MATERIAL_FIELDS, reason)


def void_material(actor, material, reason):
    """Void a material (it stays in history and traces)."""
    return void_record(actor, material, "material", reason)


def _location_values(values):
    if "kind" in values:
        require(values["kind"] in LOCATION_KINDS, "kind", f"must be one of {', '.join(LOCATION_KINDS)}")
    return values


def create_location(actor, values):
    """Create a location."""
    return create_record(actor, Location, "location", _location_values(dict(values)), LOCATION_FIELDS)


def update_location(actor, location, changes, reason):
    """Rename or re-kind a location with a reason."""
    require("code" not in changes, "code", "the code of a record does not change")
    return update_record(actor, location, "location", _location_values(dict(changes)), LOCATION_FIELDS, reason)


def void_location(actor, location, reason):
    """Void a location."""
    return void_record(actor, location, "location", reason)
