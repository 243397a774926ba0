"""Recall-grade trace of a lot, computed in SQL with a recursive CTE over the ledger.

Genealogy: a consumption and an output with the same reference (production or subcontract order)
link the consumed lot to the produced lot. Forward walks consumption → output (where did this lot
go), backward walks output → consumption (what went into it). Reversed movements and reversals are
not links. The lot set is then used to collect shipments, customers, stock and suppliers. Rows are
sorted in Python so SQLite and PostgreSQL (whose collations differ) give identical answers.
"""

import gc
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import ARRAY, Integer, String, and_, any_, bindparam, cast, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from ...errors import InvalidInput, NotFound
from ...extensions import db
from ...models import Customer, Location, Lot, Material, Movement, Serial, Shipment, Supplier
from .common import by_code, find_lot
from .stock import not_reversed

DIRECTIONS = {"forward": ("consumption", "output"), "backward": ("output", "consumption")}
MAX_DEPTH = 50  # a guard against cycles in bad data; real genealogies are a few levels deep
CHUNK = 900  # lot ids per IN (…) list on SQLite


@dataclass(frozen=True)
class Trace:
    """The answer in the API's fixed shape (lists of plain dicts)."""

    root: dict
    lots: list
    shipments: list
    customers: list
    stock: list
    suppliers: list

    def as_dict(self):
        """{"root", "lots", "shipments", "customers", "stock", "suppliers"}."""
        return {
            "root": self.root,
            "lots": self.lots,
            "shipments": self.shipments,
            "customers": self.customers,
            "stock": self.stock,
            "suppliers": self.suppliers,
        }


def trace(material_code, lot_number, direction="forward"):
    """Trace lot `lot_number` of material `material_code` forward or backward."""
    if direction not in DIRECTIONS:
        raise InvalidInput("direction must be forward or backward", {"direction": "forward or backward"})
    material = by_code("material", material_code)
    root = find_lot(material, lot_number)
    if root is None:
        raise NotFound(f"no lot {lot_number} of {material_code}")
    with _collector_paused():
        depths = lot_depths(root.id, direction)
        ids = [root.id] + sorted(depths)
        labels = _labels(ids)
        shipped = _shipment_rows(ids)
        return Trace(
            root={"material": material.code, "lot": root.lot_number},
            lots=_lots(depths, labels),
            shipments=_shipments(shipped, labels),
            customers=_customers(shipped),
            stock=_stock(ids, labels),
            suppliers=_suppliers(ids),
        )


@contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector while a trace reads tens of thousands of rows: they
    form no cycles, and a full collection triggered by their allocation cost more than the SQL
    (measured: every other wide trace took 2–3× longer). It runs again right after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def genealogy_query(root_id, direction):
    """SELECT lot_id, depth: every lot reachable from `root_id` with its smallest depth (root at 0)."""
    source_type, target_type = DIRECTIONS[direction]
    source, target = aliased(Movement), aliased(Movement)
    tree = select(cast(literal(root_id), Integer).label("lot_id"), cast(literal(0), Integer).label("depth")).cte(
        "lot_tree", recursive=True
    )
    step = (
        select(target.lot_id, tree.c.depth + 1)
        .select_from(tree)
        .join(source, and_(source.lot_id == tree.c.lot_id, source.type == source_type))
        .join(target, and_(target.reference == source.reference, target.type == target_type))
        .where(
            source.reference.is_not(None),
            target.lot_id.is_not(None),
            target.lot_id != tree.c.lot_id,
            tree.c.depth < MAX_DEPTH,
            not_reversed(source),
            not_reversed(target),
        )
    )
    tree = tree.union(step)
    return select(tree.c.lot_id, func.min(tree.c.depth).label("depth")).group_by(tree.c.lot_id)


def lot_depths(root_id, direction):
    """{lot_id: depth} of the lots reached from the root, the root excluded."""
    return {
        lot_id: depth for lot_id, depth in db.session.execute(genealogy_query(root_id, direction)) if lot_id != root_id
    }


def _chunked(ids, fetch):
    """fetch(part) for parts of `ids` small enough for an IN list (one part on PostgreSQL), rows joined."""
    size = (len(ids) or 1) if _postgresql() else CHUNK
    rows = []
    for start in range(0, len(ids), size):
        rows.extend(fetch(ids[start : start + size]))
    return rows


def _postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def _among(column, ids):
    """`column` is one of `ids`: one array parameter on PostgreSQL (= ANY), an IN list elsewhere. A
    wide trace passes hundreds of ids; rendered and parsed one by one they cost more than the query."""
    if _postgresql():
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def _labels(ids):
    """{lot id: (material code, lot number, status)}."""
    return {
        lot_id: (code, number, status)
        for lot_id, code, number, status in _chunked(
            ids,
            lambda part: db.session.execute(
                select(Lot.id, Material.code, Lot.lot_number, Lot.status)
                .join(Material, Material.id == Lot.material_id)
                .where(_among(Lot.id, part))
            ).all(),
        )
    }


def _lots(depths, labels):
    rows = [
        {"material": labels[i][0], "lot": labels[i][1], "depth": depth, "status": labels[i][2]}
        for i, depth in depths.items()
    ]
    return sorted(rows, key=lambda r: (r["depth"], r["material"], r["lot"]))


class utc_text(FunctionElement):
    """A timestamp column as UTC text "YYYY-MM-DD HH:MM:SS.ffffff": SQLite stores it so; PostgreSQL
    formats it. A wide trace reads tens of thousands; building datetimes for them costs more than SQL."""

    type = String()
    name = "utc_text"
    inherit_cache = True


@compiles(utc_text)
def _utc_text(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(utc_text, "postgresql")
def _utc_text_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"


def _utc_iso(text):
    """utc_text as datetime.isoformat() writes an aware UTC time (no fraction when it is zero)."""
    text = text[:-7] if text.endswith(".000000") else text
    return f"{text[:10]}T{text[11:]}+00:00"


@dataclass(frozen=True)
class _Shipped:
    """Shipment and return movements of the traced lots, with customers and numbers resolved."""

    rows: list
    customers: dict


def _shipment_rows(ids):
    """Shipment and customer-return movements of the lots (not reversed), in one pass."""
    moved = aliased(Movement)

    def fetch(part):
        return (
            db.session.connection()
            .execute(
                select(
                    moved.type,
                    moved.shipment_id,
                    moved.reference,
                    moved.customer_id,
                    moved.lot_id,
                    Serial.serial,
                    moved.quantity,
                    utc_text(moved.moved_at),
                )
                .outerjoin(Serial, Serial.id == moved.serial_id)
                .where(_among(moved.lot_id, part), moved.type.in_(("shipment", "return")), not_reversed(moved))
            )
            .all()
        )

    rows = _chunked(ids, fetch)
    customers = _lookup(Customer, {r[3] for r in rows}, Customer.code, Customer.name)
    numbers = {i: n for i, (n,) in _lookup(Shipment, {r[1] for r in rows if r[1]}, Shipment.number).items()}
    return _Shipped([(r[0], numbers.get(r[1]) or r[2] or "", *r[3:]) for r in rows], customers)


def _lookup(model, ids, *columns):
    """{id: (columns…)} for the rows of `model` with `ids`."""
    return {
        row[0]: tuple(row[1:])
        for row in _chunked(
            sorted(ids), lambda part: db.session.execute(select(model.id, *columns).where(_among(model.id, part))).all()
        )
    }


def _shipments(shipped, labels):
    rows = [
        {
            "shipment": number,
            "customer": shipped.customers[customer_id][0],
            "material": labels[lot_id][0],
            "lot": labels[lot_id][1],
            "serial": serial,
            "quantity": quantity,
            "shipped_at": _utc_iso(moved_at),
        }
        for type_, number, customer_id, lot_id, serial, quantity, moved_at in shipped.rows
        if type_ == "shipment"
    ]
    return sorted(rows, key=lambda r: (r["shipped_at"], r["shipment"], r["material"], r["lot"], r["serial"] or ""))


def _customers(shipped):
    """Per customer: quantity shipped minus quantity returned (what is still out there)."""
    totals = {}
    for type_, _number, customer_id, _lot, _serial, quantity, _at in shipped.rows:
        totals[customer_id] = totals.get(customer_id, 0) + (quantity if type_ == "shipment" else -quantity)
    rows = [
        {"code": shipped.customers[i][0], "name": shipped.customers[i][1], "quantity": q} for i, q in totals.items()
    ]
    return sorted(rows, key=lambda r: r["code"])


def _stock(ids, labels):
    """Non-zero stock of the lots per location (not at customers): one grouped pass over their movements."""

    def fetch(part):
        return db.session.execute(
            select(Movement.lot_id, Movement.from_location_id, Movement.to_location_id, func.sum(Movement.quantity))
            .where(_among(Movement.lot_id, part))
            .group_by(Movement.lot_id, Movement.from_location_id, Movement.to_location_id)
        ).all()

    balance = {}
    for lot_id, source, destination, quantity in _chunked(ids, fetch):
        for place, sign in ((source, -1), (destination, 1)):
            if place is not None:
                balance[(place, lot_id)] = balance.get((place, lot_id), 0) + sign * int(quantity)
    places = _lookup(Location, {place for place, _ in balance}, Location.code, Location.kind)
    rows = [
        {"location": places[place][0], "material": labels[lot_id][0], "lot": labels[lot_id][1], "quantity": q}
        for (place, lot_id), q in balance.items()
        if q and places[place][1] != "customer"
    ]
    return sorted(rows, key=lambda r: (r["location"], r["material"], r["lot"]))


def _suppliers(ids):
    """Suppliers of the lots: the lot's supplier, and receipts or subcontract returns from a supplier."""
    moved = aliased(Movement)

    def fetch(part):
        from_lots = (
            select(Supplier.code, Supplier.name, Material.code, Lot.lot_number)
            .join(Lot, Lot.supplier_id == Supplier.id)
            .join(Material, Material.id == Lot.material_id)
            .where(_among(Lot.id, part))
        )
        from_moves = (
            select(Supplier.code, Supplier.name, Material.code, Lot.lot_number)
            .join(moved, moved.supplier_id == Supplier.id)
            .join(Lot, Lot.id == moved.lot_id)
            .join(Material, Material.id == Lot.material_id)
            .where(_among(moved.lot_id, part), moved.type.in_(("receipt", "from_subcontractor")))
        )
        return db.session.execute(from_lots.union(from_moves)).all()

    rows = {(code, name, material, lot) for code, name, material, lot in _chunked(ids, fetch)}
    return [{"code": c, "name": n, "material": m, "lot": lot} for c, n, m, lot in sorted(rows)]


def links(ids, direction="forward"):
    """Direct genealogy links among or from `ids`: {(from lot id, to lot id)} in `direction`."""
    source_type, target_type = DIRECTIONS[direction]
    source, target = aliased(Movement), aliased(Movement)

    def fetch(part):
        return db.session.execute(
            select(source.lot_id, target.lot_id)
            .distinct()
            .join(target, and_(target.reference == source.reference, target.type == target_type))
            .where(
                _among(source.lot_id, part),
                source.type == source_type,
                source.reference.is_not(None),
                target.lot_id.is_not(None),
                target.lot_id != source.lot_id,
                not_reversed(source),
                not_reversed(target),
            )
        ).all()

    return {tuple(r) for r in _chunked(sorted(ids), fetch)}


def neighbours(lot_id, direction):
    """The lots one production step away: (Lot, order reference) pairs, sorted by material and lot."""
    source_type, target_type = DIRECTIONS[direction]
    source, target = aliased(Movement), aliased(Movement)
    rows = db.session.execute(
        select(Lot, source.reference)
        .distinct()
        .join(target, target.lot_id == Lot.id)
        .join(source, and_(source.reference == target.reference, source.type == source_type))
        .where(
            source.lot_id == lot_id,
            target.type == target_type,
            Lot.id != lot_id,
            not_reversed(source),
            not_reversed(target),
        )
    ).all()
    return sorted(
        ((lot, reference) for lot, reference in rows), key=lambda r: (r[0].material.code, r[0].lot_number, r[1])
    )


def tree(result_root_id, depths, direction, limit=500):
    """The trace as a tree for display: nested {"lot_id", "depth", "children"} following direct links
    from each level to the next (a lot used in two places appears under both), at most `limit` nodes."""
    edges = links([result_root_id] + sorted(depths), direction)
    depth = {result_root_id: 0, **depths}
    children = {}
    for a, b in sorted(edges):
        if b in depth and depth.get(b) == depth.get(a, -2) + 1:
            children.setdefault(a, []).append(b)
    labels = {
        lot_id: (code, number, status)
        for lot_id, code, number, status in _chunked(
            sorted(depth),
            lambda part: db.session.execute(
                select(Lot.id, Material.code, Lot.lot_number, Lot.status)
                .join(Material, Material.id == Lot.material_id)
                .where(_among(Lot.id, part))
            ).all(),
        )
    }
    budget = [limit]

    def node(lot_id):
        budget[0] -= 1
        kids = [node(c) for c in children.get(lot_id, []) if budget[0] > 0]
        material, lot, status = labels[lot_id]
        return {
            "lot_id": lot_id,
            "material": material,
            "lot": lot,
            "status": status,
            "depth": depth[lot_id],
            "children": kids,
        }

    return node(result_root_id), budget[0] <= 0
