"""Recalls: the record of one recall process instance and its notices, kept by the recall's service
tasks (operations.py beside it) inside the task-completion transaction, each change audited.

- scope: the union of the forward traces of every affected lot (services/erp/trace.py): lots with
  their depth and status, serials, shipments, customers with the quantities shipped, stock per
  location still on hand; time-to-scope = scoped_at − started_at (the instance's start).
- hold: every affected lot still in stock goes on hold (never in a drill).
- notices: one per customer of the scope, with the lines it received and their UDIs (GS1 HRI from
  the material's GTIN, the lot's expiry, the lot and the serial), its deadline and acknowledgement.
- returns: ERP `return` movements through the ledger with reference = the recall's business key;
  a returned lot stays on hold (never in a drill).
- reconciliation: from the ledger (shipments of the affected lots per customer, returns referencing
  the recall, scrap referencing the recall) and the customers' reported use and destruction.
"""

from datetime import timedelta

from sqlalchemy import select

from ...errors import Conflict, InvalidInput, NotFound
from ...extensions import db
from ...models import Customer, Location, Lot, Material, Movement, Serial
from ...models._types import utcnow
from ...services import audit
from ...services.erp import ledger, trace
from ...services.erp import lots as lot_service
from ...services.erp.common import by_code, find_lot
from ...services.erp.stock import not_reversed
from ...services.erp.udi import compose_hri
from ...services.uow import transaction
from .models import Recall, RecallNotice

HOLDABLE = ("released", "quarantine")


# ---------------------------------------------------------------- lookups and views


def get_recall(business_key):
    """The recall of the instance with `business_key`; NotFound otherwise."""
    recall = db.session.scalar(select(Recall).where(Recall.business_key == business_key))
    if recall is None:
        raise NotFound(f"no recall {business_key}")
    return recall


def get_notice(business_key, customer_code):
    """The notice of recall `business_key` to customer `customer_code`; NotFound otherwise."""
    recall = get_recall(business_key)
    for notice in recall.notices:
        if notice.customer.code == customer_code:
            return notice
    raise NotFound(f"no notice of {business_key} to {customer_code}")


def recall_of(instance):
    """The recall row of a process instance, or None."""
    return db.session.scalar(select(Recall).where(Recall.instance_id == instance.id))


def _iso(value):
    return value.isoformat() if value is not None else None


def notice_view(notice):
    """A notice as plain data (API, page, audit)."""
    return {
        "customer": notice.customer.code,
        "customer_name": notice.customer.name,
        "address": notice.customer.address,
        "lines": notice.lines,
        "quantity": notice.quantity,
        "action": notice.action,
        "generated_at": _iso(notice.generated_at),
        "deadline": _iso(notice.deadline),
        "escalated_at": _iso(notice.escalated_at),
        "acknowledged_at": _iso(notice.acknowledged_at),
        "response": notice.response or {},
        "state": "acknowledged" if notice.acknowledged_at else ("escalated" if notice.escalated_at else "sent"),
    }


def recall_view(recall):
    """The recall as plain data: what GET /api/v1/recalls/<business_key> returns."""
    return {
        "business_key": recall.business_key,
        "instance_id": recall.instance_id,
        "drill": recall.drill,
        "title": recall.title,
        "source": recall.source,
        "source_ref": recall.source_ref,
        "level": recall.level,
        "classification": recall.classification or {},
        "started_at": _iso(recall.started_at),
        "scoped_at": _iso(recall.scoped_at),
        "time_to_scope_seconds": recall.time_to_scope_seconds,
        "scope": recall.scope or {},
        "held": recall.held or [],
        "held_at": _iso(recall.held_at),
        "notices": [notice_view(n) for n in recall.notices],
        "reconciliation": recall.reconciliation or {},
        "reconciled_at": _iso(recall.reconciled_at),
        "closed_at": _iso(recall.closed_at),
        "status": recall.instance.status if recall.instance else None,
    }


# ---------------------------------------------------------------- scope


def parse_lots(items):
    """[(material code, lot number)] from "MAT/LOT" strings, {"lot": "MAT/LOT"} or {"material", "lot"}."""
    pairs = []
    for item in items or []:
        if isinstance(item, dict) and item.get("material"):
            pair = (str(item["material"]), str(item.get("lot") or ""))
        else:
            text = item.get("lot") if isinstance(item, dict) else item
            material, _, lot = str(text or "").partition("/")
            pair = (material, lot)
        if not pair[0] or not pair[1]:
            raise InvalidInput(f"not a lot: {item!r}", {"lots": "each lot names a material and a lot number"})
        if pair not in pairs:
            pairs.append(pair)
    if not pairs:
        raise InvalidInput("a recall names at least one affected lot", {"lots": "required"})
    return pairs


def compute_scope(roots):
    """The union of the forward traces of `roots` [(material, lot)]: a dict stored on the recall."""
    lots, shipments, stock = {}, {}, {}
    for material, lot in roots:
        found = trace.trace(material, lot, "forward").as_dict()
        root_lot = find_lot(by_code("material", material), lot)
        lots[(material, lot)] = {"material": material, "lot": lot, "depth": 0, "status": root_lot.status}
        for row in found["lots"]:
            key = (row["material"], row["lot"])
            if key not in lots or lots[key]["depth"] > row["depth"]:
                lots[key] = dict(row)
        for row in found["shipments"]:
            shipments[
                (
                    row["shipment"],
                    row["customer"],
                    row["material"],
                    row["lot"],
                    row["serial"] or "",
                    row["shipped_at"],
                    row["quantity"],
                )
            ] = row
        for row in found["stock"]:
            stock[(row["location"], row["material"], row["lot"])] = row
    customers = {}
    for row in shipments.values():
        entry = customers.setdefault(row["customer"], {"code": row["customer"], "quantity_shipped": 0, "lots": set()})
        entry["quantity_shipped"] += row["quantity"]
        entry["lots"].add(f"{row['material']}/{row['lot']}")
    names = dict(
        db.session.execute(
            select(Customer.code, Customer.name).where(Customer.code.in_(sorted(customers) or [""]))
        ).all()
    )
    on_hand = {}
    for row in stock.values():
        on_hand[(row["material"], row["lot"])] = on_hand.get((row["material"], row["lot"]), 0) + row["quantity"]
    lot_rows = sorted(
        ({**row, "on_hand": on_hand.get(key, 0)} for key, row in lots.items()),
        key=lambda r: (r["depth"], r["material"], r["lot"]),
    )
    return {
        "roots": [{"material": m, "lot": n} for m, n in roots],
        "lots": lot_rows,
        "serials": _serials(list(lots)),
        "shipments": sorted(
            shipments.values(),
            key=lambda r: (r["shipped_at"], r["shipment"], r["material"], r["lot"], r["serial"] or ""),
        ),
        "customers": [
            {
                "code": c["code"],
                "name": names.get(c["code"], ""),
                "quantity_shipped": c["quantity_shipped"],
                "lots": sorted(c["lots"]),
            }
            for c in sorted(customers.values(), key=lambda c: c["code"])
        ],
        "stock": sorted(stock.values(), key=lambda r: (r["location"], r["material"], r["lot"])),
    }


def _serials(keys):
    """Serial numbers of the affected lots: [{material, lot, serial}] sorted."""
    if not keys:
        return []
    rows = db.session.execute(
        select(Material.code, Lot.lot_number, Serial.serial)
        .join(Lot, Lot.id == Serial.lot_id)
        .join(Material, Material.id == Serial.material_id)
        .where(Lot.id.in_(_lot_ids(keys)))
    ).all()
    return [{"material": m, "lot": lot, "serial": s} for m, lot, s in sorted(rows)]


def _lot_ids(keys):
    wanted = set(keys)
    rows = db.session.execute(
        select(Lot.id, Material.code, Lot.lot_number)
        .join(Material, Material.id == Lot.material_id)
        .where(Lot.lot_number.in_(sorted({k[1] for k in wanted})))
    ).all()
    return [lot_id for lot_id, code, number in rows if (code, number) in wanted]


def scope(actor, instance, values):
    """Create (or re-take) the recall of `instance` with the scope of its affected lots; the summary
    the process continues with (customer codes for the notices, lots in stock, time-to-scope)."""
    roots = parse_lots(values.get("lots"))
    with transaction() as session:
        recall = recall_of(instance)
        before = None
        if recall is None:
            recall = Recall(
                instance_id=instance.id, business_key=instance.business_key, started_at=instance.created_at or utcnow()
            )
            session.add(recall)
        else:
            if recall.held or recall.closed_at:
                raise Conflict(f"recall {recall.business_key} is already acted on; its scope is kept")
            before = {"scoped_at": _iso(recall.scoped_at), "lots": len((recall.scope or {}).get("lots", []))}
        classification = dict(values.get("classification") or {})
        recall.drill = bool(values.get("drill"))
        recall.title = str(values.get("title") or "")[:255]
        recall.source = str(values.get("source") or "")[:40]
        recall.source_ref = str(values.get("source_ref") or "")[:120]
        recall.classification = classification
        recall.level = int(classification["level"]) if classification.get("level") is not None else None
        recall.scope = compute_scope(roots)
        recall.scoped_at = utcnow()
        session.flush()
        audit.record(
            actor,
            "recall.scope",
            "recall",
            recall.business_key,
            before=before,
            after={
                "drill": recall.drill,
                "level": recall.level,
                "roots": recall.scope["roots"],
                "lots": len(recall.scope["lots"]),
                "customers": len(recall.scope["customers"]),
                "stock_rows": len(recall.scope["stock"]),
                "time_to_scope_seconds": recall.time_to_scope_seconds,
            },
        )
    return scope_summary(recall)


def scope_summary(recall):
    """What the process keeps of the scope (small: the full scope lives on the recall record)."""
    data = recall.scope or {}
    in_stock = sorted({(r["material"], r["lot"]) for r in data.get("stock", [])})
    return {
        "business_key": recall.business_key,
        "drill": recall.drill,
        "customers": [c["code"] for c in data.get("customers", [])],
        "lot_count": len(data.get("lots", [])),
        "lots_in_stock": [f"{m}/{n}" for m, n in in_stock],
        "quantity_shipped": sum(c["quantity_shipped"] for c in data.get("customers", [])),
        "quantity_on_hand": sum(r["quantity"] for r in data.get("stock", [])),
        "time_to_scope_seconds": recall.time_to_scope_seconds,
    }


def _require(instance, *, stock_change=False):
    recall = recall_of(instance)
    if recall is None:
        raise Conflict(f"{instance.business_key} has no recall scope yet")
    if stock_change and recall.drill:
        raise Conflict(f"{recall.business_key} is a recall drill: it changes no stock and no lot status")
    if recall.closed_at is not None:
        raise Conflict(f"recall {recall.business_key} is closed")
    return recall


# ---------------------------------------------------------------- hold


def hold(actor, instance, reason):
    """Put every affected lot still in stock (released or quarantined) on hold; never in a drill."""
    recall = _require(instance, stock_change=True)
    reason = f"{recall.business_key}: {reason}" if reason else recall.business_key
    held = []
    with transaction():
        for key in sorted({(r["material"], r["lot"]) for r in recall.scope.get("stock", [])}):
            lot = find_lot(by_code("material", key[0]), key[1])
            if lot is not None and lot.status in HOLDABLE:
                lot_service.set_status(actor, lot, "hold", reason)
                held.append(f"{key[0]}/{key[1]}")
        recall.held = sorted(set(recall.held or []) | set(held))
        recall.held_at = utcnow()
        audit.record(actor, "recall.hold", "recall", recall.business_key, after={"held": held}, reason=reason)
    return {"held": held, "count": len(held)}


# ---------------------------------------------------------------- notices


def udi_hri(material, lot, serial=None):
    """The UDI of a unit as printed on the notice; None when the material has no GTIN."""
    if not material.gtin:
        return None
    return compose_hri(material.gtin, lot.expires_on if lot else None, lot.lot_number if lot else None, serial)


def notice_lines(recall, customer_code):
    """What the customer received of the affected lots: per material, lot and serial, with UDIs."""
    grouped = {}
    for row in (recall.scope or {}).get("shipments", []):
        if row["customer"] != customer_code:
            continue
        key = (row["material"], row["lot"], row["serial"] or "")
        entry = grouped.setdefault(key, {"quantity": 0, "shipments": set()})
        entry["quantity"] += row["quantity"]
        entry["shipments"].add(row["shipment"])
    lines = []
    for (material_code, lot_number, serial), entry in sorted(grouped.items()):
        material = by_code("material", material_code, allow_voided=True)
        lot = find_lot(material, lot_number)
        lines.append(
            {
                "material": material_code,
                "material_name": material.name,
                "lot": lot_number,
                "serial": serial or None,
                "quantity": entry["quantity"],
                "unit": material.unit,
                "expires_on": _iso(lot.expires_on) if lot else None,
                "gtin": material.gtin,
                "udi": udi_hri(material, lot, serial or None),
                "shipments": sorted(entry["shipments"]),
            }
        )
    return lines


def issue_notice(actor, instance, customer_code, notify_days, action=""):
    """Generate the notice to one customer of the scope (once: a retry returns the same notice)."""
    recall = _require(instance)
    customer = by_code("customer", customer_code, "customer", allow_voided=True)
    if customer_code not in {c["code"] for c in recall.scope.get("customers", [])}:
        raise InvalidInput(f"{customer_code} received none of the affected lots", {"customer": "not in the scope"})
    notice = next((n for n in recall.notices if n.customer_id == customer.id), None)
    if notice is None:
        with transaction() as session:
            now = utcnow()
            lines = notice_lines(recall, customer_code)
            notice = RecallNotice(
                recall_id=recall.id,
                customer_id=customer.id,
                lines=lines,
                quantity=sum(line["quantity"] for line in lines),
                action=str(action or ""),
                generated_at=now,
                deadline=now + timedelta(days=int(notify_days)),
                response={},
            )
            session.add(notice)
            session.flush()
            recall.notices.append(notice)
            audit.record(
                actor,
                "recall.notice",
                "recall_notice",
                notice.id,
                after={
                    "recall": recall.business_key,
                    "customer": customer_code,
                    "quantity": notice.quantity,
                    "deadline": _iso(notice.deadline),
                    "udis": [line["udi"] for line in lines],
                },
            )
    return {
        "customer": customer_code,
        "notice": notice.id,
        "quantity": notice.quantity,
        "deadline": _iso(notice.deadline),
    }


def _notice(recall, customer_code):
    for notice in recall.notices:
        if notice.customer.code == customer_code:
            return notice
    raise InvalidInput(f"no notice to {customer_code} in {recall.business_key}", {"customer": "no notice"})


def escalate(actor, instance, customer_code):
    """Mark the notice overdue and escalated (the deadline passed without an acknowledgement)."""
    recall = _require(instance)
    notice = _notice(recall, customer_code)
    with transaction():
        notice.escalated_at = utcnow()
        audit.record(
            actor,
            "recall.notice_escalated",
            "recall_notice",
            notice.id,
            after={"recall": recall.business_key, "customer": customer_code, "deadline": _iso(notice.deadline)},
        )
    return {"customer": customer_code, "escalated": True}


RESPONSE_FIELDS = ("acknowledged_on", "on_hand", "used", "destroyed", "to_return", "comments")


def record_acknowledgement(actor, instance, customer_code, response):
    """Record the customer's acknowledgement: date, quantity on hand, used, destroyed, to return."""
    recall = _require(instance)
    notice = _notice(recall, customer_code)
    values = {key: (response or {}).get(key) for key in RESPONSE_FIELDS}
    for key in ("on_hand", "used", "destroyed", "to_return"):
        number = values[key] or 0
        if not isinstance(number, int) or number < 0:
            raise InvalidInput(f"{key} must be a whole number ≥ 0", {key: "must be a whole number ≥ 0"})
        values[key] = number
    with transaction():
        before = dict(notice.response or {})
        notice.response, notice.acknowledged_at = values, utcnow()
        audit.record(
            actor,
            "recall.acknowledged",
            "recall_notice",
            notice.id,
            before=before or None,
            after={"recall": recall.business_key, "customer": customer_code, **values},
        )
    return {"customer": customer_code, **values}


# ---------------------------------------------------------------- returns


def _return_location(code=None):
    if code:
        return by_code("location", code, "to_location")
    location = db.session.scalar(
        select(Location)
        .where(Location.kind == "quarantine", Location.voided_at.is_(None))
        .order_by(Location.code)
        .limit(1)
    )
    if location is None:
        raise InvalidInput("no quarantine location to receive returns", {"to_location": "required"})
    return location


def book_returns(actor, instance, returns):
    """Book customer returns against the recall (ledger `return` movements, reference = business key,
    into quarantine, by default the first quarantine location); a returned lot stays on hold; never
    in a drill."""
    recall = _require(instance, stock_change=True)
    affected = {(r["material"], r["lot"]) for r in recall.scope.get("lots", [])}
    customers = {c["code"] for c in recall.scope.get("customers", [])}
    booked = []
    with transaction():
        for index, item in enumerate(returns or []):
            ((material, lot_number),) = parse_lots([item.get("lot")])
            if (material, lot_number) not in affected:
                raise InvalidInput(
                    f"{material}/{lot_number} is not in the recall's scope", {f"returns.{index}.lot": "not affected"}
                )
            if item.get("customer") not in customers:
                raise InvalidInput(
                    f"{item.get('customer')} received none of the affected lots",
                    {f"returns.{index}.customer": "not in the scope"},
                )
            location = _return_location(item.get("to_location"))
            movement = ledger.record_movement(
                actor,
                {
                    "type": "return",
                    "material": material,
                    "lot": lot_number,
                    "serial": item.get("serial") or None,
                    "quantity": item.get("quantity"),
                    "to_location": location.code,
                    "customer": item["customer"],
                    "reference": recall.business_key,
                    "reason": f"recall {recall.business_key}",
                },
            )
            lot = movement.lot
            if lot.status in HOLDABLE:  # a returned lot stays (or goes) on hold until QA disposes of it
                lot_service.set_status(actor, lot, "hold", f"returned under recall {recall.business_key}")
            booked.append(
                {
                    "customer": item["customer"],
                    "lot": f"{material}/{lot_number}",
                    "serial": item.get("serial") or None,
                    "quantity": movement.quantity,
                    "movement": movement.id,
                }
            )
        audit.record(actor, "recall.returns", "recall", recall.business_key, after={"returns": booked})
    return {"booked": booked, "count": len(booked), "quantity": sum(b["quantity"] for b in booked)}


# ---------------------------------------------------------------- reconciliation


def _movements(types, lot_ids, reference=None):
    query = select(Movement.type, Movement.customer_id, Movement.quantity).where(
        Movement.type.in_(types), Movement.lot_id.in_(lot_ids or [0]), not_reversed(Movement)
    )
    if reference is not None:
        query = query.where(Movement.reference == reference)
    return db.session.execute(query).all()


def compute_reconciliation(recall):
    """Shipped / returned / used / destroyed / unaccounted per customer and in total, the
    effectiveness % and the consignees' response rate against the level's required %."""
    lot_ids = _lot_ids([(r["material"], r["lot"]) for r in (recall.scope or {}).get("lots", [])])
    codes = dict(db.session.execute(select(Customer.id, Customer.code)).all())
    per = {}

    def row(code):
        return per.setdefault(
            code, {"customer": code, "shipped": 0, "returned": 0, "used": 0, "destroyed": 0, "responded": False}
        )

    for _type, customer_id, quantity in _movements(("shipment",), lot_ids):
        row(codes[customer_id])["shipped"] += quantity
    for _type, customer_id, quantity in _movements(("return",), lot_ids, recall.business_key):
        row(codes[customer_id])["returned"] += quantity
    scrapped = sum(q for _t, _c, q in _movements(("scrap",), lot_ids, recall.business_key))
    for notice in recall.notices:
        entry = row(notice.customer.code)
        if notice.acknowledged_at is not None:
            entry["responded"] = True
            entry["used"] += int((notice.response or {}).get("used") or 0)
            entry["destroyed"] += int((notice.response or {}).get("destroyed") or 0)
    rows = []
    for code in sorted(per):
        entry = per[code]
        entry["unaccounted"] = entry["shipped"] - entry["returned"] - entry["used"] - entry["destroyed"]
        rows.append(entry)
    totals = {key: sum(r[key] for r in rows) for key in ("shipped", "returned", "used", "destroyed", "unaccounted")}
    accounted = totals["returned"] + totals["used"] + totals["destroyed"]
    consignees = len(recall.notices)
    responded = sum(1 for n in recall.notices if n.acknowledged_at is not None)
    required = (recall.classification or {}).get("effectiveness_required_pct")
    responded_pct = round(100.0 * responded / consignees, 1) if consignees else 100.0
    return {
        "customers": rows,
        **totals,
        "scrapped": scrapped,
        "effectiveness_pct": round(100.0 * accounted / totals["shipped"], 1) if totals["shipped"] else 100.0,
        "consignees": consignees,
        "responded": responded,
        "responded_pct": responded_pct,
        "effectiveness_level": (recall.classification or {}).get("effectiveness_level"),
        "required_pct": required,
        "level_met": required is None or responded_pct >= float(required),
    }


def reconcile(actor, instance):
    """Compute the reconciliation now and store it on the recall."""
    recall = _require(instance)
    with transaction():
        result = compute_reconciliation(recall)
        before = recall.reconciliation or None
        recall.reconciliation, recall.reconciled_at = result, utcnow()
        audit.record(
            actor,
            "recall.reconcile",
            "recall",
            recall.business_key,
            before={k: before[k] for k in ("shipped", "returned", "unaccounted")} if before else None,
            after={k: v for k, v in result.items() if k != "customers"},
        )
    return {k: v for k, v in result.items() if k != "customers"}


def close(actor, instance):
    """Close the recall (after the QA and regulatory closure signatures) with a final reconciliation
    (returns booked after the last one count)."""
    recall = _require(instance)
    with transaction():
        result = compute_reconciliation(recall)
        recall.reconciliation, recall.reconciled_at = result, utcnow()
        recall.closed_at = recall.reconciled_at
        summary = {k: v for k, v in result.items() if k != "customers"}
        audit.record(
            actor,
            "recall.close",
            "recall",
            recall.business_key,
            after={"closed_at": _iso(recall.closed_at), "reconciliation": summary},
        )
    return {
        "closed_at": _iso(recall.closed_at),
        "unaccounted": result["unaccounted"],
        "effectiveness_pct": result["effectiveness_pct"],
    }


def list_recalls(limit=200):
    """Recalls, newest first."""
    return db.session.scalars(select(Recall).order_by(Recall.id.desc()).limit(limit)).all()
