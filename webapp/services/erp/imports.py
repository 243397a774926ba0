"""Data migration from CSV files (the fixed contract in import_rows.HEADERS), all or nothing.

Every row of every file is checked first (types, references, the ledger's structural rules, and a
replay of the movements in time order so stock never goes negative); one error rejects the whole
import with a report of file, row, column and reason. Then everything is inserted in one
transaction with one audit event naming each file's row count and SHA-256. Imported history is
not re-checked against guards about the present (an expired licence), only against structure.
"""

import csv
import hashlib
import io
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, insert, select

from ...errors import ImportRejected
from ...extensions import db
from ...models import Customer, Location, Lot, Material, Movement, Serial, Supplier
from ...models._types import utcnow
from .. import audit
from ..refusals import audit_refusal
from ..uow import transaction
from .import_rows import HEADERS, Cells, Report, check_lot, check_material, check_movement, check_party
from .stock import signed_movements

BATCH = 20_000
COPIED = (Lot, Serial, Movement)  # no JSON columns: plain COPY rows
PARTY_FILES = {
    "suppliers.csv": ("supplier", Supplier),
    "customers.csv": ("customer", Customer),
    "locations.csv": ("location", Location),
}


@dataclass
class Known:
    """Codes known from the database and the files checked so far."""

    materials: dict = field(default_factory=dict)
    suppliers: dict = field(default_factory=dict)
    customers: dict = field(default_factory=dict)
    locations: dict = field(default_factory=dict)
    lots: set = field(default_factory=set)
    serials: dict = field(default_factory=dict)
    gtins: set = field(default_factory=set)
    new_codes: dict = field(
        default_factory=lambda: {k: set() for k in ("material", "supplier", "customer", "location")}
    )


def import_files(actor, files):
    """Import {file name: bytes or text}; returns {file name: rows imported}; ImportRejected on any error."""
    report, known = Report(), _known_from_database()
    tables = _read(files, report)
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    checked = {name: [] for name in HEADERS}
    for name in HEADERS:
        for number, row in tables.get(name, []):
            cells = Cells(report, name, number, row)
            checked[name].append(_check(name, cells, known, zone))
            if not cells.ok and name == "movements.csv":
                checked[name][-1]["moved_at"] = None  # not replayed: its errors are reported already
    _replay(checked["movements.csv"], tables.get("movements.csv", []), report)
    digests = {name: hashlib.sha256(_bytes(files[name])).hexdigest() for name in files}
    if report.total:
        audit_refusal(
            actor, "import.refused", "import", _import_id(digests), f"{report.total} error(s); first: {report.rows[0]}"
        )
        rows = sorted(report.rows, key=_report_order)
        raise ImportRejected(
            f"the import has {report.total} error(s); nothing was imported", {"rows": rows, "total": report.total}
        )
    with transaction() as session:
        _insert(session, actor, checked)
        counts = {name: len(checked[name]) for name in HEADERS if name in files}
        audit.record(
            actor,
            "import.run",
            "import",
            _import_id(digests),
            after={"files": {n: {"rows": counts[n], "sha256": digests[n]} for n in counts}},
        )
    return counts


def _report_order(row):
    """File in contract order, then row, then column in header order."""
    files = list(HEADERS)
    header = HEADERS.get(row["file"], [])
    return (
        files.index(row["file"]) if row["file"] in files else -1,
        row["row"],
        header.index(row["column"]) if row["column"] in header else -1,
    )


def _bytes(content):
    return content.encode("utf-8") if isinstance(content, str) else content


def _import_id(digests):
    return hashlib.sha256("".join(sorted(digests.values())).encode()).hexdigest()[:16]


def _read(files, report):
    """{file name: [(row number, {column: cell})]} for files with the exact contract header."""
    tables = {}
    for name, content in files.items():
        if name not in HEADERS:
            report.add(name, 0, "", f"unknown file; expected {', '.join(HEADERS)}")
            continue
        try:
            text = _bytes(content).decode("utf-8-sig")
        except UnicodeDecodeError:
            report.add(name, 0, "", "not UTF-8 text")
            continue
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, [])
        if [h.strip() for h in header] != HEADERS[name]:
            report.add(name, 1, "", f"the header must be {','.join(HEADERS[name])}")
            continue
        tables[name] = [
            (i, dict(zip(HEADERS[name], cells)))
            for i, cells in enumerate(reader, start=2)
            if any(c.strip() for c in cells)
        ]
    return tables


def _check(name, cells, known, zone):
    if name == "materials.csv":
        return check_material(cells, known)
    if name in PARTY_FILES:
        return check_party(cells, PARTY_FILES[name][0], known)
    if name == "lots.csv":
        return check_lot(cells, known)
    return check_movement(cells, known, zone)


def _known_from_database():
    known = Known()
    session = db.session
    for code, tracking, gtin in session.execute(select(Material.code, Material.tracking, Material.gtin)):
        known.materials[code] = tracking
        if gtin:
            known.gtins.add(gtin)
    for kind, model in (("supplier", Supplier), ("customer", Customer)):
        codes = session.scalars(select(model.code)).all()
        getattr(known, kind + "s").update(dict.fromkeys(codes))
        known.new_codes[kind].update(codes)
    for code, kind in session.execute(select(Location.code, Location.kind)):
        known.locations[code] = kind
    known.new_codes["material"].update(known.materials)
    known.new_codes["location"].update(known.locations)
    known.lots.update(tuple(r) for r in session.execute(select(Material.code, Lot.lot_number).join(Material)))
    known.serials.update(
        {
            (m, s): lot
            for m, s, lot in session.execute(
                select(Material.code, Serial.serial, Lot.lot_number)
                .join(Material, Material.id == Serial.material_id)
                .join(Lot, Lot.id == Serial.lot_id)
            )
        }
    )
    return known


def _replay(movements, rows, report):
    """Apply the movements in time order; report any that takes more than is there (negative stock)."""
    balance = _balances_from_database()
    order = sorted((v["moved_at"], i) for i, v in enumerate(movements) if v["moved_at"] is not None)
    for _, i in order:
        v = movements[i]
        key = (v["material"], v["lot"], v["serial"])
        if v["from_location"]:
            have = balance.get((v["from_location"],) + key, 0)
            if have < (v["quantity"] or 0):
                report.add(
                    "movements.csv",
                    rows[i][0],
                    "quantity",
                    f"negative stock: {have} of {v['material']} {v['lot'] or ''} at {v['from_location']} "
                    f"on {v['moved_at'].isoformat()}",
                )
                continue
            balance[(v["from_location"],) + key] = have - v["quantity"]
        if v["to_location"]:
            balance[(v["to_location"],) + key] = balance.get((v["to_location"],) + key, 0) + v["quantity"]


def _balances_from_database():
    """{(location, material, lot, serial): quantity} of existing stock (empty for a fresh database)."""
    if db.session.scalar(select(Movement.id).limit(1)) is None:
        return {}
    moves = signed_movements([])
    query = (
        select(Location.code, Material.code, Lot.lot_number, Serial.serial, func.sum(moves.c.q))
        .select_from(moves)
        .join(Location, Location.id == moves.c.location_id)
        .join(Material, Material.id == moves.c.material_id)
        .outerjoin(Lot, Lot.id == moves.c.lot_id)
        .outerjoin(Serial, Serial.id == moves.c.serial_id)
        .group_by(Location.code, Material.code, Lot.lot_number, Serial.serial)
    )
    return {tuple(r[:4]): int(r[4]) for r in db.session.execute(query)}


def _insert(session, actor, checked):
    """Insert the checked rows, file by file, resolving codes to the ids just created."""
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now}
    _bulk(session, Material, [{**v, **stamps} for v in checked["materials.csv"]])
    for name, (_kind, model) in PARTY_FILES.items():
        _bulk(session, model, [{**v, **stamps} for v in checked[name]])
    ids = _ids(session)
    _bulk(
        session,
        Lot,
        [
            {
                "material_id": ids["material"][v["material"]],
                "lot_number": v["lot_number"],
                "manufactured_on": v["manufactured_on"],
                "expires_on": v["expires_on"],
                "status": v["status"],
                "origin": "supplier_receipt" if v["supplier"] else "production",
                "supplier_id": ids["supplier"].get(v["supplier"]),
                **stamps,
            }
            for v in checked["lots.csv"]
        ],
    )
    lot_ids = {
        (m, lot): i
        for i, m, lot in session.execute(
            select(Lot.id, Material.code, Lot.lot_number).join(Material, Material.id == Lot.material_id)
        )
    }
    movements = checked["movements.csv"]
    new_serials = {(v["material"], v["serial"]): v["lot"] for v in movements if v["serial"]}
    existing = {tuple(r) for r in session.execute(select(Material.code, Serial.serial).join(Material))}
    _bulk(
        session,
        Serial,
        [
            {"material_id": ids["material"][m], "lot_id": lot_ids[(m, lot)], "serial": s}
            for (m, s), lot in new_serials.items()
            if (m, s) not in existing
        ],
    )
    serial_ids = (
        {(m, s): i for i, m, s in session.execute(select(Serial.id, Material.code, Serial.serial).join(Material))}
        if new_serials
        else {}
    )
    user_id = getattr(actor, "id", None)

    def row(v):
        return {
            "moved_at": v["moved_at"],
            "recorded_at": now,
            "type": v["type"],
            "material_id": ids["material"][v["material"]],
            "lot_id": lot_ids.get((v["material"], v["lot"])),
            "serial_id": serial_ids.get((v["material"], v["serial"])),
            "quantity": v["quantity"],
            "from_location_id": ids["location"].get(v["from_location"]),
            "to_location_id": ids["location"].get(v["to_location"]),
            "customer_id": ids["customer"].get(v["customer"]),
            "supplier_id": ids["supplier"].get(v["supplier"]),
            "reference": v["reference"],
            "user_id": user_id,
            "reason": "imported" if v["type"] == "adjustment" else None,
            "shipment_id": None,
            "reverses_id": None,
        }

    for start in range(0, len(movements), BATCH):
        _bulk(session, Movement, [row(v) for v in movements[start : start + BATCH]])


def _bulk(session, model, rows):
    """INSERT `rows` (dicts of column values) in batches; on PostgreSQL the big tables go through
    COPY on the session's own connection (same transaction), several times faster for a million rows."""
    if not rows:
        return
    if model in COPIED and session.get_bind().dialect.name == "postgresql":
        columns = list(rows[0])
        raw = session.connection().connection.dbapi_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model.__table__), rows[start : start + BATCH])


def _ids(session):
    """{kind: {code: id}} for materials, suppliers, customers and locations."""
    return {
        kind: dict(session.execute(select(model.code, model.id)).all())
        for kind, model in (
            ("material", Material),
            ("supplier", Supplier),
            ("customer", Customer),
            ("location", Location),
        )
    }
