"""Form fields that point at ERP records: the choices are the records valid now, never free text.

A JSON-Schema property marked `"x-record": "lot" | "supplier" | "customer" | "material" | "shipment" |
"location" | "user"` gets an `enum` of the currently valid records (with `x-enum-titles` for the
labels) when the task is served, and the same filled schema validates the submission, so a stale or
typed value fails. Locations may be narrowed by `"x-location-kind"` (one kind or a list, e.g.
"subcontractor"). Suppliers are those approved or conditional; `"x-record-status": "any"` offers
every supplier that is not voided, whatever its qualification status (the qualification process
itself needs the pending and blocked ones).
"""

import copy

from sqlalchemy import or_, select

from ..errors import InvalidInput
from ..extensions import db
from ..models import Customer, Location, Lot, Material, Shipment, Supplier, User
from .erp.common import business_date

MAX_CHOICES = 1000
LOT_STATES = ("quarantine", "released", "hold")


def _materials():
    rows = db.session.scalars(select(Material).where(Material.voided_at.is_(None)).order_by(Material.code))
    return [(m.code, f"{m.code} {m.name}") for m in rows]


def _suppliers(any_status=False):
    query = select(Supplier).where(Supplier.voided_at.is_(None))
    if not any_status:
        query = query.where(Supplier.status.in_(("approved", "conditional")))
    rows = db.session.scalars(query.order_by(Supplier.code))
    return [(s.code, f"{s.code} {s.name}") for s in rows]


def _customers():
    today = business_date()
    rows = db.session.scalars(
        select(Customer)
        .where(
            Customer.voided_at.is_(None),
            or_(Customer.license_valid_until.is_(None), Customer.license_valid_until >= today),
        )
        .order_by(Customer.code)
    )
    return [(c.code, f"{c.code} {c.name}") for c in rows]


def _lots():
    rows = db.session.execute(
        select(Material.code, Lot.lot_number, Lot.status)
        .join(Material, Lot.material_id == Material.id)
        .where(Lot.voided_at.is_(None), Lot.status.in_(LOT_STATES))
        .order_by(Material.code, Lot.lot_number)
        .limit(MAX_CHOICES)
    )
    return [(f"{code}/{lot}", f"{code} {lot} ({status})") for code, lot, status in rows]


def _users():
    rows = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username).limit(MAX_CHOICES))
    return [(u.username, f"{u.username} {u.full_name}".strip()) for u in rows]


def _shipments():
    rows = db.session.scalars(
        select(Shipment).where(Shipment.voided_at.is_(None)).order_by(Shipment.number.desc()).limit(MAX_CHOICES)
    )
    return [(s.number, s.number) for s in rows]


def _locations(kinds=None):
    query = select(Location).where(Location.voided_at.is_(None)).order_by(Location.code)
    if kinds:
        query = query.where(Location.kind.in_(kinds))
    return [(loc.code, f"{loc.code} {loc.name} ({loc.kind})") for loc in db.session.scalars(query)]


SOURCES = {
    "material": _materials,
    "supplier": _suppliers,
    "customer": _customers,
    "lot": _lots,
    "shipment": _shipments,
    "location": _locations,
    "user": _users,
}


def _fill_node(node, cache):
    kind = node.get("x-record")
    if kind in SOURCES:
        kinds = node.get("x-location-kind") if kind == "location" else None
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds or ())
        key = (kind, kinds, node.get("x-record-status"))
        if key not in cache:
            if kind == "supplier" and node.get("x-record-status") == "any":
                choices = _suppliers(any_status=True)
            else:
                choices = SOURCES[kind](kinds) if kinds else SOURCES[kind]()
            cache[key] = choices[:MAX_CHOICES]
        node["enum"] = [value for value, _ in cache[key]]
        node["x-enum-titles"] = node["x-enum-titles-en"] = [title for _, title in cache[key]]
    for child in (node.get("properties") or {}).values():
        _fill_node(child, cache)
    if isinstance(node.get("items"), dict):
        _fill_node(node["items"], cache)


def _has_records(node):
    if not isinstance(node, dict):
        return False
    return (
        "x-record" in node
        or any(_has_records(child) for child in (node.get("properties") or {}).values())
        or _has_records(node.get("items"))
    )


def fill(schema):
    """A copy of `schema` whose record fields list the records valid now (the schema itself when it
    has no record fields)."""
    if not schema or not _has_records(schema):
        return schema
    filled = copy.deepcopy(schema)
    _fill_node(filled, {})
    return filled


PICK_LIMIT = 20
PICKABLE = ("material", "supplier", "customer", "lot", "location")


def search(kind, text, material=None, limit=PICK_LIMIT):
    """Records of `kind` whose code or name contains `text` (any case), valid now, for a type-ahead
    picker: [(value, label)], at most `limit`. Lots may be narrowed to one material's code."""
    if kind not in PICKABLE:
        raise InvalidInput(f"no picker for {kind}", {"kind": f"one of {', '.join(PICKABLE)}"})
    pattern = "%" + (text or "").strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if kind == "lot":
        query = (
            select(Material.code, Lot.lot_number, Lot.status)
            .join(Material, Lot.material_id == Material.id)
            .where(Lot.voided_at.is_(None), Lot.status.in_(LOT_STATES), Lot.lot_number.ilike(pattern, escape="\\"))
            .order_by(Material.code, Lot.lot_number)
            .limit(limit)
        )
        if material:
            query = query.where(Material.code == material)
        return [(lot, f"{code} {lot} ({status})") for code, lot, status in db.session.execute(query)]
    model = {"material": Material, "supplier": Supplier, "customer": Customer, "location": Location}[kind]
    query = (
        select(model)
        .where(
            model.voided_at.is_(None),
            or_(model.code.ilike(pattern, escape="\\"), model.name.ilike(pattern, escape="\\")),
        )
        .order_by(model.code)
        .limit(limit)
    )
    if kind == "supplier":
        query = query.where(Supplier.status.in_(("approved", "conditional")))
    return [(r.code, f"{r.code} {r.name}") for r in db.session.scalars(query)]
