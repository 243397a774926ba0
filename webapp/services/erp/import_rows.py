"""Checking the rows of an import's CSV files (the fixed contract) against each other and the database.

Each `check_*` function takes the parsed rows of one file, reports errors as (file, row, column,
reason) and returns the clean values. Rows count as in a spreadsheet: the header is row 1.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from ...errors import UdiInvalid
from ...models._types import MAX_DAYS, MAX_INT
from ...models.erp_items import DEVICE_CLASSES, LOCATION_KINDS, LOT_STATUSES, STORAGE, TRACKING
from ...models.erp_parties import SUPPLIER_STATUSES
from .ledger import structure_errors
from .udi import normalize_gtin

HEADERS = {
    "materials.csv": ["code", "name", "gtin", "tracking", "storage", "shelf_life_days", "device_class"],
    "suppliers.csv": ["code", "name", "status"],
    "customers.csv": ["code", "name", "license_number", "license_valid_until"],
    "locations.csv": ["code", "name", "kind"],
    "lots.csv": ["material", "lot", "manufactured_on", "expires_on", "status", "supplier"],
    "movements.csv": [
        "moved_at",
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
    ],
}
MAX_ERRORS = 1000


class Report:
    """The rows of an import's error report, capped at MAX_ERRORS."""

    def __init__(self):
        self.rows, self.total = [], 0

    def add(self, file, row, column, reason):
        """Note one error."""
        self.total += 1
        if len(self.rows) < MAX_ERRORS:
            self.rows.append({"file": file, "row": row, "column": column, "reason": reason})


class Cells:
    """One CSV row being checked: typed getters that report errors against its file, row and column."""

    def __init__(self, report, file, number, row):
        self.report, self.file, self.number, self.row, self.ok = report, file, number, row, True

    def error(self, column, reason):
        """Report an error in `column` of this row."""
        self.ok = False
        self.report.add(self.file, self.number, column, reason)

    def text(self, column, required=False, max_length=200):
        """The stripped cell, None when empty."""
        value = (self.row.get(column) or "").strip()
        if required and not value:
            self.error(column, "required")
        elif len(value) > max_length:
            self.error(column, f"at most {max_length} characters")
        return value or None

    def choice(self, column, allowed, required=True):
        """A cell that must be one of `allowed`."""
        value = self.text(column, required)
        if value is not None and value not in allowed:
            self.error(column, f"must be one of {'|'.join(allowed)}")
        return value

    def integer(self, column, minimum=0, required=False, maximum=MAX_INT):
        """A whole number from `minimum` to `maximum`."""
        value = self.text(column, required)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            self.error(column, "must be a whole number")
            return None
        if number < minimum:
            self.error(column, f"must be at least {minimum}")
        elif number > maximum:
            self.error(column, f"must be at most {maximum}")
        return number

    def day(self, column, required=False):
        """An ISO 8601 date (YYYY-MM-DD)."""
        value = self.text(column, required)
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            self.error(column, "must be an ISO 8601 date (YYYY-MM-DD)")
            return None

    def moment(self, column, zone):
        """An ISO 8601 date-time (a date alone means midnight); without an offset, in `zone`."""
        value = self.text(column, True)
        if value is None:
            return None
        try:
            parsed = (
                datetime.fromisoformat(value)
                if "T" in value or " " in value
                else datetime.combine(date.fromisoformat(value), time())
            )
        except ValueError:
            self.error(column, "must be an ISO 8601 date-time")
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(ZoneInfo("UTC"))

    def known(self, column, registry, required=False):
        """A code that must be in `registry` (the file's rows plus the database)."""
        value = self.text(column, required)
        if value is not None and value not in registry:
            self.error(column, f"unknown {column.replace('_', ' ')} {value}")
        return value


def unique(cells, column, key, seen):
    """Report a duplicate of `key` (in this import or the database)."""
    if key in seen:
        cells.error(column, f"{key if isinstance(key, str) else '/'.join(key)} exists")
    seen.add(key)


def check_material(cells, known):
    """A materials.csv row → Material values."""
    values = {
        "code": cells.text("code", True, 40),
        "name": cells.text("name", True),
        "tracking": cells.choice("tracking", TRACKING),
        "storage": cells.choice("storage", STORAGE),
        "shelf_life_days": cells.integer("shelf_life_days", maximum=MAX_DAYS),
        "device_class": cells.choice("device_class", DEVICE_CLASSES, required=False),
        "gtin": None,
    }
    gtin = cells.text("gtin", max_length=14)
    if gtin:
        try:
            values["gtin"] = normalize_gtin(gtin)
            unique(cells, "gtin", values["gtin"], known.gtins)
        except UdiInvalid as exc:
            cells.error("gtin", exc.errors["gtin"])
    if values["code"]:
        unique(cells, "code", values["code"], known.new_codes["material"])
        known.materials[values["code"]] = values["tracking"]
    return values


def check_party(cells, kind, known):
    """A suppliers/customers/locations.csv row → record values."""
    values = {"code": cells.text("code", True, 40), "name": cells.text("name", True)}
    if kind == "supplier":
        values["status"] = cells.choice("status", SUPPLIER_STATUSES)
    elif kind == "customer":
        values.update(
            license_number=cells.text("license_number", max_length=80),
            license_valid_until=cells.day("license_valid_until"),
            licensed_scope=[],
            address="",
        )
    else:
        values["kind"] = cells.choice("kind", LOCATION_KINDS)
    if values["code"]:
        unique(cells, "code", values["code"], known.new_codes[kind])
        getattr(known, kind + "s")[values["code"]] = values.get("kind")
    return values


def check_lot(cells, known):
    """A lots.csv row → Lot values (material and supplier by code)."""
    values = {
        "material": cells.known("material", known.materials, True),
        "lot_number": cells.text("lot", True, 40),
        "manufactured_on": cells.day("manufactured_on"),
        "expires_on": cells.day("expires_on"),
        "status": cells.choice("status", LOT_STATUSES),
        "supplier": cells.known("supplier", known.suppliers),
    }
    if values["material"] and known.materials.get(values["material"]) == "none":
        cells.error("lot", f"{values['material']} is not lot-tracked")
    if values["manufactured_on"] and values["expires_on"] and values["expires_on"] < values["manufactured_on"]:
        cells.error("expires_on", "must not be before manufactured_on")
    if values["material"] and values["lot_number"]:
        unique(cells, "lot", (values["material"], values["lot_number"]), known.lots)
    return values


def check_movement(cells, known, zone):
    """A movements.csv row → movement values (records by code), with the ledger's structural rules."""
    v = {
        "moved_at": cells.moment("moved_at", zone),
        "type": cells.text("type", True),
        "material": cells.known("material", known.materials, True),
        "lot": cells.text("lot", max_length=40),
        "serial": cells.text("serial", max_length=40),
        "quantity": cells.integer("quantity", 1, True),
        "from_location": cells.known("from_location", known.locations),
        "to_location": cells.known("to_location", known.locations),
        "customer": cells.known("customer", known.customers),
        "supplier": cells.known("supplier", known.suppliers),
        "reference": cells.text("reference", max_length=60),
    }
    if v["material"] and v["lot"] and (v["material"], v["lot"]) not in known.lots:
        cells.error("lot", f"unknown lot {v['lot']} of {v['material']}")
    if v["material"] and cells.ok:
        errors = structure_errors(
            v["type"],
            from_kind=known.locations.get(v["from_location"]),
            to_kind=known.locations.get(v["to_location"]),
            customer=v["customer"],
            supplier=v["supplier"],
            reference=v["reference"],
            tracking=known.materials[v["material"]],
            lot=v["lot"],
            serial=v["serial"],
            quantity=v["quantity"],
        )
        for column, reason in errors.items():
            cells.error(column, reason)
    if v["serial"] and v["lot"] and cells.ok:
        bound = known.serials.setdefault((v["material"], v["serial"]), v["lot"])
        if bound != v["lot"]:
            cells.error("serial", f"serial {v['serial']} belongs to lot {bound}")
    return v
