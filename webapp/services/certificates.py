"""The daily certificate check (GSP): warn purchasing and QA 90, 60 and 30 days before a supplier
certificate expires, and block the supplier once a required certificate has expired.

Blocking also starts the supplier's re-qualification (services/requalification.py) in the same
transaction. Both happen only on the change from approved/conditional to blocked, so running the
check again for the same day (or a later one) neither blocks twice nor starts a second instance."""

from ..models._types import utcnow
from . import notifications
from .acting import SCHEDULER
from .erp.common import business_date
from .erp.parties import expiring_certificates, set_supplier_status
from .erp.rules import rule
from .requalification import start_requalification
from .uow import serialized, transaction

WARN_DAYS = (90, 60, 30)
RECIPIENT_ROLES = ("purchasing", "qa")


def _tell(kind, link, subject, **params):
    """Tell purchasing and QA; `subject` an English msgid with named parameters."""
    users = [user_id for role in RECIPIENT_ROLES for user_id in notifications.recipients(role=role)]
    msg = notifications.message(subject, "", **params)
    notifications.queue(users, kind, *notifications.english(msg), link=link, message=msg)


def _renewed(cert):
    """A later certificate of the same type (a renewal, e.g. from a re-qualification) replaces `cert`."""
    return any(
        other.id != cert.id
        and not other.voided
        and other.type == cert.type
        and (other.valid_until is None or other.valid_until > cert.valid_until)
        for other in cert.supplier.certificates
    )


def _valid_of_type(supplier, cert_type, today):
    """True when the supplier holds a certificate of `cert_type` valid on `today` (as the receipt guard asks)."""
    return any(
        c.type == cert_type
        and not c.voided
        and (c.valid_from is None or c.valid_from <= today)
        and (c.valid_until is None or today <= c.valid_until)
        for c in supplier.certificates
    )


def check_certificates(today=None):
    """Run the check for `today` (default: the business date);
    {'warned': [...], 'blocked': [...], 'requalification': {supplier: [outcome, business key or why]}}."""
    today = today or business_date()
    required = set(rule("REC-SUPPLIER-CERTIFICATE").get("required_certificates", []))
    warned, blocked, requalification = [], [], {}
    with transaction() as session:
        serialized(session, "certificates.check")  # two app processes: the second sees the first's work
        for cert in expiring_certificates(within_days=(today - business_date()).days + max(WARN_DAYS)):
            supplier, left = cert.supplier, (cert.valid_until - today).days
            link = f"/erp/suppliers/{supplier.code}"
            if _renewed(cert):
                continue
            if left < 0:
                if (
                    cert.type in required
                    and supplier.status in ("approved", "conditional")
                    and not _valid_of_type(supplier, cert.type, today)
                ):
                    expired = f"{cert.type} {cert.number} expired on {cert.valid_until:%Y-%m-%d}"
                    set_supplier_status(SCHEDULER, supplier, "blocked", expired)
                    outcome = start_requalification(supplier, f"Re-qualification: certificate {expired}")
                    _tell(
                        "certificate",
                        link,
                        "Supplier %(supplier)s blocked: %(type)s %(number)s expired; "
                        "re-qualification %(outcome)s: %(detail)s",
                        supplier=supplier.code,
                        type=cert.type,
                        number=cert.number,
                        outcome=outcome[0],
                        detail=outcome[1],
                    )
                    blocked.append(supplier.code)
                    requalification[supplier.code] = list(outcome)
                continue
            threshold = min(d for d in WARN_DAYS if left <= d) if left <= max(WARN_DAYS) else None
            if threshold is not None and (cert.warned_days is None or threshold < cert.warned_days):
                cert.warned_days, cert.updated_at = threshold, utcnow()
                _tell(
                    "certificate",
                    link,
                    "%(supplier)s: %(type)s %(number)s expires in %(days)s days (%(until)s)",
                    supplier=supplier.code,
                    type=cert.type,
                    number=cert.number,
                    days=left,
                    until=f"{cert.valid_until:%Y-%m-%d}",
                )
                warned.append(f"{supplier.code}/{cert.type}")
    return {"warned": warned, "blocked": blocked, "requalification": requalification}
