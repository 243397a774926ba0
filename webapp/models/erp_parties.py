"""ERP parties: suppliers with their qualification, approved scope and certificates; customers."""

from datetime import date

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._records import VoidableRecord
from .erp_items import Material

SUPPLIER_STATUSES = ("pending", "approved", "conditional", "blocked")
CERTIFICATE_TYPES = ("iso13485", "business_licence", "production_licence", "distribution_licence", "other")


class Supplier(VoidableRecord, db.Model):
    """A supplier or subcontractor; only an approved one, for an approved material, may deliver."""

    __tablename__ = "erp_suppliers"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    scope: Mapped[list["SupplierScope"]] = relationship(
        back_populates="supplier", lazy="selectin", cascade="all, delete-orphan"
    )
    certificates: Mapped[list["SupplierCertificate"]] = relationship(
        back_populates="supplier", lazy="selectin", order_by="SupplierCertificate.id"
    )


class SupplierScope(db.Model):
    """One entry of a supplier's approved scope: a material, or a service such as EO sterilization."""

    __tablename__ = "erp_supplier_scope"
    __table_args__ = (UniqueConstraint("supplier_id", "material_id", "service"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("erp_suppliers.id"), index=True)
    material_id: Mapped[int | None] = mapped_column(ForeignKey("erp_materials.id"), nullable=True)
    service: Mapped[str | None] = mapped_column(String(120), nullable=True)
    supplier: Mapped[Supplier] = relationship(back_populates="scope")
    material: Mapped[Material | None] = relationship(lazy="joined")


class SupplierCertificate(VoidableRecord, db.Model):
    """A certificate or licence of a supplier (ISO 13485, 营业执照, 生产/经营许可证 …) with its validity."""

    __tablename__ = "erp_supplier_certificates"
    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("erp_suppliers.id"), index=True)
    type: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(80))
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    file_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    warned_days: Mapped[int | None] = mapped_column(Integer, nullable=True)  # last expiry warning sent (90/60/30)
    supplier: Mapped[Supplier] = relationship(back_populates="certificates")


class Customer(VoidableRecord, db.Model):
    """A customer (hospital, distributor) with its licence, licensed scope (device classes) and address."""

    __tablename__ = "erp_customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    license_number: Mapped[str | None] = mapped_column(String(80), nullable=True)
    license_valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    licensed_scope: Mapped[list] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(String(300), default="")
    min_remaining_shelf_life_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
