"""SQL tables: columns, relationships and small invariants; no Flask, no JSON shaping."""
from .users import Role, User, ApiToken, PasswordHistory, user_roles
from .processes import Deployment, ProcessVersion, ProcessFile, ProcessInstance, HumanTaskRow, BusinessKeyCounter
from .audit import AuditEvent
from .signatures import Signature
from .incidents import Incident
from .messages import MessageSubscription, OutboxMessage
from .notifications import Notification
from .erp_items import Material, Location, Lot, Serial
from .erp_parties import Supplier, SupplierScope, SupplierCertificate, Customer
from .erp_ledger import Movement, TemperatureRecord, Shipment, ShipmentLine
from .recalls import Recall, RecallNotice

__all__ = ["Role", "User", "ApiToken", "user_roles", "ProcessVersion", "ProcessFile", "ProcessInstance",
           "HumanTaskRow", "BusinessKeyCounter", "AuditEvent", "PasswordHistory", "Signature", "Deployment", "Incident", "MessageSubscription", "OutboxMessage", "Notification",
           "Material", "Location", "Lot", "Serial", "Supplier", "SupplierScope", "SupplierCertificate", "Customer",
           "Movement", "TemperatureRecord", "Shipment", "ShipmentLine", "Recall", "RecallNotice"]
