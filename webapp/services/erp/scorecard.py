"""A supplier's performance over a period, read from the ledger: the lots it delivered (receipts)
or processed (lots back from it as a subcontractor) and what became of them. This is the evidence
for re-evaluation (ISO 13485 7.4.1: monitoring and re-evaluation of suppliers)."""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Lot, Movement
from ...models._types import utcnow
from ...models.erp_items import LOT_STATUSES
from .stock import not_reversed

DELIVERY_TYPES = ("receipt", "from_subcontractor")


def supplier_scorecard(supplier, days, until=None):
    """{period, deliveries, quantity, lots, status counts, acceptance_rate_pct} of `supplier` over the
    `days` before `until` (default now). The status counts are the lots' current statuses, so a lot
    released and later recalled counts as recalled; the acceptance rate is released lots over lots
    decided (released or rejected), None when nothing was decided."""
    until = until or utcnow()
    since = until - timedelta(days=days)
    movement = aliased(Movement)
    rows = db.session.execute(
        select(movement.lot_id, Lot.status, func.count(movement.id), func.sum(movement.quantity))
        .join(Lot, Lot.id == movement.lot_id)
        .where(
            movement.supplier_id == supplier.id,
            movement.type.in_(DELIVERY_TYPES),
            movement.moved_at > since,
            movement.moved_at <= until,
            not_reversed(movement),
        )
        .group_by(movement.lot_id, Lot.status)
    ).all()
    statuses = dict.fromkeys(LOT_STATUSES, 0)
    for _lot, status, _count, _quantity in rows:
        statuses[status] += 1
    decided = statuses["released"] + statuses["rejected"]
    return {
        "supplier": supplier.code,
        "from": since.date().isoformat(),
        "to": until.date().isoformat(),
        "days": days,
        "deliveries": sum(r[2] for r in rows),
        "quantity": int(sum(r[3] or 0 for r in rows)),
        "lots": len(rows),
        **statuses,
        "acceptance_rate_pct": round(100 * statuses["released"] / decided, 1) if decided else None,
    }
