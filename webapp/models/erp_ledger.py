"""The inventory ledger (append-only movements), receipt temperature records and shipments.

Stock is never stored: it is the sum of movements into a location minus movements out of it.
A correction is a new movement that reverses an earlier one (`reverses_id`), with a reason.
The indexes serve the trace: (lot, type, reference) finds the production orders a lot went into
or came out of, (reference, type, lot) the lots on the other side of the same order.
"""

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._records import VoidableRecord
from ._types import UTCDateTime, utcnow
from .erp_items import Location, Lot, Material, Serial
from .erp_parties import Customer, Supplier
from .users import User

MOVEMENT_TYPES = (
    "receipt",
    "consumption",
    "output",
    "transfer",
    "to_subcontractor",
    "from_subcontractor",
    "shipment",
    "return",
    "scrap",
    "adjustment",
)
SHIPMENT_STATUSES = ("draft", "shipped")


class Movement(db.Model):
    """One inventory movement: `quantity` (> 0, in the material's unit) of a lot or serial from a
    location, to a location, or both. Rows are only ever inserted."""

    __tablename__ = "erp_movements"
    __table_args__ = (
        Index("ix_erp_movements_lot_type_ref", "lot_id", "type", "reference"),
        Index("ix_erp_movements_ref_type_lot", "reference", "type", "lot_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    moved_at = mapped_column(UTCDateTime, nullable=False, index=True)
    recorded_at = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(20))
    material_id: Mapped[int] = mapped_column(ForeignKey("erp_materials.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("erp_lots.id"), nullable=True)
    serial_id: Mapped[int | None] = mapped_column(ForeignKey("erp_serials.id"), nullable=True, index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    from_location_id: Mapped[int | None] = mapped_column(ForeignKey("erp_locations.id"), nullable=True)
    to_location_id: Mapped[int | None] = mapped_column(ForeignKey("erp_locations.id"), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("erp_customers.id"), nullable=True, index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("erp_suppliers.id"), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(60), nullable=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("erp_shipments.id"), nullable=True, index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("erp_movements.id"), nullable=True, unique=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    material: Mapped[Material] = relationship(lazy="joined")
    lot: Mapped[Lot | None] = relationship(lazy="joined")
    serial: Mapped[Serial | None] = relationship(lazy="joined")
    from_location: Mapped[Location | None] = relationship(foreign_keys=[from_location_id], lazy="joined")
    to_location: Mapped[Location | None] = relationship(foreign_keys=[to_location_id], lazy="joined")
    customer: Mapped[Customer | None] = relationship()
    supplier: Mapped[Supplier | None] = relationship()
    user: Mapped[User | None] = relationship()


class TemperatureRecord(db.Model):
    """The cold-chain record of a receipt: transport mode, in-transit min/max, arrival temperature."""

    __tablename__ = "erp_temperature_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("erp_movements.id"), unique=True)
    transport_mode: Mapped[str] = mapped_column(String(60))
    min_c: Mapped[float] = mapped_column(Float)
    max_c: Mapped[float] = mapped_column(Float)
    arrival_c: Mapped[float] = mapped_column(Float)
    transit_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    in_range: Mapped[bool] = mapped_column(Boolean)


class Shipment(VoidableRecord, db.Model):
    """A delivery to a customer: drafted with lines (FEFO suggested), then shipped once."""

    __tablename__ = "erp_shipments"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("erp_customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    shipped_at = mapped_column(UTCDateTime, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    shipped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    customer: Mapped[Customer] = relationship(lazy="joined")
    lines: Mapped[list["ShipmentLine"]] = relationship(
        back_populates="shipment", lazy="selectin", order_by="ShipmentLine.id", cascade="all, delete-orphan"
    )


class ShipmentLine(db.Model):
    """One line of a shipment: a quantity of a lot (or one serial) taken from a location."""

    __tablename__ = "erp_shipment_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("erp_shipments.id"), index=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("erp_materials.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("erp_lots.id"), nullable=True)
    serial_id: Mapped[int | None] = mapped_column(ForeignKey("erp_serials.id"), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("erp_locations.id"))
    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    material: Mapped[Material] = relationship(lazy="joined")
    lot: Mapped[Lot | None] = relationship(lazy="joined")
    serial: Mapped[Serial | None] = relationship(lazy="joined")
    from_location: Mapped[Location] = relationship(lazy="joined")
