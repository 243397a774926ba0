"""Stock, derived from the ledger: movements into a location minus movements out of it."""

from sqlalchemy import and_, case, func, or_, select, union_all
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Location, Lot, Material, Movement, Serial


def quantity_at(location, material, lot=None, serial=None):
    """The quantity of `material` (of `lot`, of `serial`) at `location` now."""
    where = [or_(Movement.to_location_id == location.id, Movement.from_location_id == location.id)]
    if serial is not None:
        where.append(Movement.serial_id == serial.id)
    if lot is not None:
        where.append(Movement.lot_id == lot.id)
    else:
        where += [Movement.material_id == material.id, Movement.lot_id.is_(None)]
    signed = case((Movement.to_location_id == location.id, Movement.quantity), else_=-Movement.quantity)
    return db.session.scalar(select(func.coalesce(func.sum(signed), 0)).where(*where)) or 0


def serial_on_hand(serial):
    """The quantity of `serial` in any location of ours (not at a customer): 0 or 1."""
    rows = stock_rows(lot_ids=[serial.lot_id], serial_id=serial.id)
    return sum(r["quantity"] for r in rows)


def signed_movements(where):
    """Every movement as +quantity at its destination and −quantity at its source (a subquery)."""
    columns = (Movement.material_id, Movement.lot_id, Movement.serial_id)
    into = select(Movement.to_location_id.label("location_id"), *columns, Movement.quantity.label("q")).where(
        Movement.to_location_id.is_not(None), *where
    )
    out = select(Movement.from_location_id.label("location_id"), *columns, (-Movement.quantity).label("q")).where(
        Movement.from_location_id.is_not(None), *where
    )
    return union_all(into, out).subquery()


def stock_rows(material_id=None, lot_ids=None, location_id=None, serial_id=None, include_customer=False):
    """Non-zero stock per (location, material, lot), as dicts sorted by location, material and lot."""
    where = []
    if material_id is not None:
        where.append(Movement.material_id == material_id)
    if lot_ids is not None:
        where.append(Movement.lot_id.in_(lot_ids))
    if serial_id is not None:
        where.append(Movement.serial_id == serial_id)
    moves = signed_movements(where)
    total = func.sum(moves.c.q)
    query = (
        select(
            Location.code,
            Location.name,
            Location.kind,
            Material.code,
            Lot.lot_number,
            Lot.id,
            Lot.expires_on,
            Lot.status,
            total,
        )
        .select_from(moves)
        .join(Location, Location.id == moves.c.location_id)
        .join(Material, Material.id == moves.c.material_id)
        .outerjoin(Lot, Lot.id == moves.c.lot_id)
        .group_by(
            Location.code,
            Location.name,
            Location.kind,
            Material.code,
            Lot.lot_number,
            Lot.id,
            Lot.expires_on,
            Lot.status,
        )
        .having(total != 0)
    )
    if location_id is not None:
        query = query.where(Location.id == location_id)
    if not include_customer:
        query = query.where(Location.kind != "customer")
    rows = [
        {
            "location": r[0],
            "location_name": r[1],
            "location_kind": r[2],
            "material": r[3],
            "lot": r[4],
            "lot_id": r[5],
            "expires_on": r[6],
            "status": r[7],
            "quantity": int(r[8]),
        }
        for r in db.session.execute(query)
    ]
    return sorted(rows, key=lambda r: (r["location"], r["material"], r["lot"] or ""))


def not_reversed(movement):
    """SQL condition: `movement` (an aliased Movement) is no reversal and has not been reversed."""
    other = aliased(Movement)
    reversal = select(other.id).where(other.reverses_id == movement.id).exists()
    # coalesce(…) = 0 rather than IS NULL: SQLite would otherwise walk the unique index of reverses_id
    # (every ordinary movement) instead of the trace's (lot, type, reference) index.
    return and_(func.coalesce(movement.reverses_id, 0) == 0, ~reversal)


def serials_at(location_id, lot_id):
    """Serial numbers of `lot_id` on hand at `location_id`, sorted."""
    signed = case((Movement.to_location_id == location_id, Movement.quantity), else_=-Movement.quantity)
    query = (
        select(Serial.serial)
        .join(Movement, Movement.serial_id == Serial.id)
        .where(
            Movement.lot_id == lot_id,
            or_(Movement.to_location_id == location_id, Movement.from_location_id == location_id),
        )
        .group_by(Serial.serial)
        .having(func.sum(signed) > 0)
    )
    return sorted(db.session.scalars(query))
