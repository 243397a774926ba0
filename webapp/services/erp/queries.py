"""Read-only ERP queries with filters and pagination, for the API and the pages."""

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from ...extensions import db
from ...models import Customer, Location, Lot, Material, Movement, Serial, Shipment, Supplier
from .common import by_code, find_lot, require
from .stock import stock_rows


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows and the paging facts."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        """How many pages there are (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def paginate(query, page=1, per_page=50):
    """Run `query` for one page and count the whole result."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items, page, per_page, total)


def _search(query, text, *columns):
    if text:
        like = f"%{text}%"
        query = query.where(or_(*(c.ilike(like) for c in columns)))
    return query


def _active(model, query, include_voided):
    return query if include_voided else query.where(model.voided_at.is_(None))


def materials(q=None, include_voided=False, **equal):
    """Materials, filtered by text (code, name, GTIN) and equal fields (tracking, storage, device_class, gtin)."""
    query = _active(Material, select(Material), include_voided)
    query = _search(query, q, Material.code, Material.name, Material.gtin)
    for name, value in equal.items():
        query = query.where(getattr(Material, name) == value)
    return query.order_by(Material.code)


def suppliers(q=None, status=None, include_voided=False):
    """Suppliers by text and qualification status."""
    query = _search(_active(Supplier, select(Supplier), include_voided), q, Supplier.code, Supplier.name)
    if status:
        query = query.where(Supplier.status == status)
    return query.order_by(Supplier.code)


def customers(q=None, license_valid_before=None, include_voided=False):
    """Customers by text, or whose licence ends before a date."""
    query = _search(_active(Customer, select(Customer), include_voided), q, Customer.code, Customer.name)
    if license_valid_before:
        query = query.where(Customer.license_valid_until < license_valid_before)
    return query.order_by(Customer.code)


def locations(q=None, kind=None, include_voided=False):
    """Locations by text and kind."""
    query = _search(_active(Location, select(Location), include_voided), q, Location.code, Location.name)
    if kind:
        query = query.where(Location.kind == kind)
    return query.order_by(Location.code)


def lots(material=None, lot=None, status=None, supplier=None, expires_before=None, include_voided=False):
    """Lots by material code, lot number (prefix), status, supplier code or expiry."""
    query = _active(Lot, select(Lot).join(Material, Material.id == Lot.material_id), include_voided)
    if material:
        query = query.where(Material.code == material)
    if lot:
        query = query.where(Lot.lot_number.like(f"{lot}%"))
    if status:
        query = query.where(Lot.status == status)
    if supplier:
        query = query.join(Supplier, Supplier.id == Lot.supplier_id).where(Supplier.code == supplier)
    if expires_before:
        query = query.where(Lot.expires_on < expires_before)
    return query.order_by(Material.code, Lot.lot_number)


def serials(material=None, lot=None, serial=None):
    """Serial numbers by material code, lot number and serial."""
    query = select(Serial).join(Material, Material.id == Serial.material_id).join(Lot, Lot.id == Serial.lot_id)
    for column, value in ((Material.code, material), (Lot.lot_number, lot), (Serial.serial, serial)):
        if value:
            query = query.where(column == value)
    return query.order_by(Material.code, Serial.serial)


def movements(
    type=None,
    material=None,
    lot=None,
    lot_id=None,
    location=None,
    reference=None,
    customer=None,
    since=None,
    until=None,
):
    """Ledger rows, newest first, by type, material, lot, location (either side), reference, customer, time."""
    query = select(Movement)
    if material or lot:
        query = query.join(Material, Material.id == Movement.material_id)
        query = query.where(Material.code == material) if material else query
    if lot:
        query = query.join(Lot, Lot.id == Movement.lot_id).where(Lot.lot_number == lot)
    if location:
        place = db.session.scalar(select(Location.id).where(Location.code == location))
        query = query.where(or_(Movement.from_location_id == place, Movement.to_location_id == place))
    if customer:
        query = query.join(Customer, Customer.id == Movement.customer_id).where(Customer.code == customer)
    for column, value in ((Movement.type, type), (Movement.lot_id, lot_id), (Movement.reference, reference)):
        if value is not None:
            query = query.where(column == value)
    if since:
        query = query.where(Movement.moved_at >= since)
    if until:
        query = query.where(Movement.moved_at < until)
    return query.order_by(Movement.moved_at.desc(), Movement.id.desc())


def shipments(customer=None, status=None, include_voided=False):
    """Shipments, newest first, by customer code and status."""
    query = _active(Shipment, select(Shipment), include_voided)
    if customer:
        query = query.join(Customer, Customer.id == Shipment.customer_id).where(Customer.code == customer)
    if status:
        query = query.where(Shipment.status == status)
    return query.order_by(Shipment.id.desc())


def get(model, record_id):
    """The row of `model` with primary key `record_id`, or None."""
    return db.session.get(model, record_id)


def material_by_gtin(gtin):
    """The active material whose UDI-DI is `gtin`, or None."""
    return db.session.scalar(select(Material).where(Material.gtin == gtin, Material.voided_at.is_(None)))


def stock(material=None, lot=None, location=None):
    """Stock rows (see stock.stock_rows) for a material code, lot number and location code."""
    material_row = by_code("material", material, "material") if material else None
    require(not lot or material_row is not None, "material", "required with lot")
    lot_ids = None
    if lot:
        found = find_lot(material_row, lot)
        lot_ids = [found.id] if found else []
    place = by_code("location", location, "location") if location else None
    return stock_rows(
        material_id=getattr(material_row, "id", None), lot_ids=lot_ids, location_id=getattr(place, "id", None)
    )
