"""ERP items: materials (products), locations, lots and serial numbers."""

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._records import VoidableRecord

TRACKING = ("lot", "serial", "none")
STORAGE = ("ambient", "2-8C", "frozen")
DEVICE_CLASSES = ("I", "II", "III")
LOCATION_KINDS = ("warehouse", "quarantine", "subcontractor", "production", "customer")
LOT_STATUSES = ("quarantine", "released", "hold", "rejected", "recalled")
LOT_ORIGINS = ("supplier_receipt", "production", "subcontract")


class Material(VoidableRecord, db.Model):
    """A material or finished device; `gtin` is its UDI-DI (check digit validated by the service)."""

    __tablename__ = "erp_materials"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True, nullable=True)
    tracking: Mapped[str] = mapped_column(String(10), default="lot")
    storage: Mapped[str] = mapped_column(String(10), default="ambient")
    unit: Mapped[str] = mapped_column(String(10), default="EA")
    shelf_life_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    device_class: Mapped[str | None] = mapped_column(String(5), nullable=True)
    registration_number: Mapped[str | None] = mapped_column(String(80), nullable=True)
    registration_valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)


class Location(VoidableRecord, db.Model):
    """A place stock can be: warehouse, quarantine, subcontractor, production or customer."""

    __tablename__ = "erp_locations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))


class Lot(VoidableRecord, db.Model):
    """A lot (batch) of one material; its status decides whether it may be used or shipped."""

    __tablename__ = "erp_lots"
    __table_args__ = (UniqueConstraint("material_id", "lot_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("erp_materials.id"))
    lot_number: Mapped[str] = mapped_column(String(40))
    manufactured_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="quarantine", index=True)
    origin: Mapped[str] = mapped_column(String(20), default="supplier_receipt")
    origin_reference: Mapped[str | None] = mapped_column(String(60), nullable=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("erp_suppliers.id"), nullable=True, index=True)
    material: Mapped[Material] = relationship(lazy="joined")
    supplier = relationship("Supplier")


class Serial(db.Model):
    """A serial number of a serialized device, bound to the lot it was made or received in."""

    __tablename__ = "erp_serials"
    __table_args__ = (UniqueConstraint("material_id", "serial"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("erp_materials.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("erp_lots.id"), index=True)
    serial: Mapped[str] = mapped_column(String(40))
    lot: Mapped[Lot] = relationship()
