"""SQL tables: columns, relationships and small invariants; no Flask, no JSON shaping."""

from .attachments import Attachment
from .audit import AuditCheckpoint, AuditEvent
from .erp_items import Location, Lot, Material, Serial
from .erp_ledger import Movement, Shipment, ShipmentLine, TemperatureRecord
from .erp_parties import Customer, Supplier, SupplierCertificate, SupplierScope
from .incidents import Incident
from .messages import MessageSubscription, OutboxMessage
from .notifications import Notification
from .processes import (
    NO_DUE_DATE,
    BusinessKeyCounter,
    Deployment,
    HumanTaskRow,
    ProcessFile,
    ProcessInstance,
    ProcessVersion,
)
from .signatures import Signature
from .users import ApiToken, PasswordHistory, Role, User, UserSession, user_roles

__all__ = [
    "NO_DUE_DATE",
    "ApiToken",
    "Attachment",
    "AuditCheckpoint",
    "AuditEvent",
    "BusinessKeyCounter",
    "Customer",
    "Deployment",
    "HumanTaskRow",
    "Incident",
    "Location",
    "Lot",
    "Material",
    "MessageSubscription",
    "Movement",
    "Notification",
    "OutboxMessage",
    "PasswordHistory",
    "ProcessFile",
    "ProcessInstance",
    "ProcessVersion",
    "Role",
    "Serial",
    "Shipment",
    "ShipmentLine",
    "Signature",
    "Supplier",
    "SupplierCertificate",
    "SupplierScope",
    "TemperatureRecord",
    "User",
    "UserSession",
    "user_roles",
]
