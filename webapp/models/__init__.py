"""SQL tables: columns, relationships and small invariants; no Flask, no JSON shaping."""
from .users import Role, User, ApiToken, PasswordHistory, user_roles
from .processes import Deployment, ProcessVersion, ProcessFile, ProcessInstance, HumanTaskRow, BusinessKeyCounter
from .audit import AuditEvent
from .signatures import Signature

__all__ = ["Role", "User", "ApiToken", "user_roles", "ProcessVersion", "ProcessFile", "ProcessInstance",
           "HumanTaskRow", "BusinessKeyCounter", "AuditEvent", "PasswordHistory", "Signature", "Deployment"]
