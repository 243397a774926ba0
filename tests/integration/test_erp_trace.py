"""Trace correctness: the SQL trace against an answer computed here, in plain Python, from the
generated history (breadth-first search over production orders), on SQLite and PostgreSQL."""

from collections import defaultdict, deque
from datetime import UTC, datetime

import pytest

from tests.erp_generator import generate
from tests.erp_world import build_world, released_stock
from tests.helpers import user
from webapp.errors import InvalidInput, NotFound
from webapp.services.erp import imports, ledger, lots, trace
from webapp.services.erp.common import by_code

DATA = generate(lots=400, seed=11, wide_fanout=(4, 3, 3), serials_per_lot=5, shipments_per_lot=6)


def expected_trace(data, material, lot, direction):
    """The trace of (material, lot) computed from the generated rows without SQL."""
    consumed, produced = defaultdict(set), defaultdict(set)
    for m in data.rows["movements.csv"]:
        if m["type"] == "consumption":
            consumed[m["reference"]].add((m["material"], m["lot"]))
        elif m["type"] == "output":
            produced[m["reference"]].add((m["material"], m["lot"]))
    step = defaultdict(set)
    for order in set(consumed) | set(produced):
        for a in consumed[order]:
            for b in produced[order]:
                if a != b:
                    step[a if direction == "forward" else b].add(b if direction == "forward" else a)
    root, depth, queue = (material, lot), {(material, lot): 0}, deque([(material, lot)])
    while queue:
        node = queue.popleft()
        for nxt in step[node]:
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    lot_rows = {(r["material"], r["lot"]): r for r in data.rows["lots.csv"]}
    members = set(depth)
    kinds = {r["code"]: r["kind"] for r in data.rows["locations.csv"]}
    names = {r["code"]: r["name"] for r in data.rows["customers.csv"]}
    supplier_names = {r["code"]: r["name"] for r in data.rows["suppliers.csv"]}
    shipments, customers, stock, suppliers = [], defaultdict(int), defaultdict(int), set()
    for m in data.rows["movements.csv"]:
        key = (m["material"], m["lot"])
        if key not in members:
            continue
        quantity = int(m["quantity"])
        if m["type"] == "shipment":
            shipments.append(
                {
                    "shipment": m["reference"],
                    "customer": m["customer"],
                    "material": key[0],
                    "lot": key[1],
                    "serial": m["serial"] or None,
                    "quantity": quantity,
                    "shipped_at": _utc(m["moved_at"]),
                }
            )
            customers[m["customer"]] += quantity
        if m["type"] == "return":
            customers[m["customer"]] -= quantity
        if m["from_location"] and kinds[m["from_location"]] != "customer":
            stock[(m["from_location"], key)] -= quantity
        if m["to_location"] and kinds[m["to_location"]] != "customer":
            stock[(m["to_location"], key)] += quantity
        if m["type"] in ("receipt", "from_subcontractor") and m["supplier"]:
            suppliers.add((m["supplier"], key))
    for key in members:
        if lot_rows[key]["supplier"]:
            suppliers.add((lot_rows[key]["supplier"], key))
    return {
        "root": {"material": material, "lot": lot},
        "lots": sorted(
            (
                {"material": k[0], "lot": k[1], "depth": d, "status": lot_rows[k]["status"]}
                for k, d in depth.items()
                if k != root
            ),
            key=lambda r: (r["depth"], r["material"], r["lot"]),
        ),
        "shipments": sorted(
            shipments, key=lambda r: (r["shipped_at"], r["shipment"], r["material"], r["lot"], r["serial"] or "")
        ),
        "customers": [{"code": c, "name": names[c], "quantity": q} for c, q in sorted(customers.items())],
        "stock": [
            {"location": loc, "material": k[0], "lot": k[1], "quantity": q}
            for (loc, k), q in sorted(stock.items())
            if q
        ],
        "suppliers": [
            {"code": c, "name": supplier_names[c], "material": k[0], "lot": k[1]} for c, k in sorted(suppliers)
        ],
    }


def _utc(text):
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


@pytest.fixture
def history(app):
    with app.app_context():
        imports.import_files(user("admin"), DATA.files())
        yield DATA


def _samples(data):
    raw = [(r["material"], r["lot"]) for r in data.rows["lots.csv"] if r["supplier"]]
    finished = [lot[:2] for lot in data.finished]
    middle = [(r["material"], r["lot"]) for r in data.rows["lots.csv"] if r["lot"][1] in "12"]
    return (
        [("forward", *data.wide), ("forward", *data.narrow), ("backward", *finished[-1])]
        + [("forward", *k) for k in raw[2::37]]
        + [("backward", *k) for k in finished[::23]]
        + [(d, *k) for k in middle[::41] for d in ("forward", "backward")]
    )


def test_trace_matches_an_independent_computation(history):
    samples = _samples(history)
    assert len(samples) >= 20
    for direction, material, lot in samples:
        assert trace.trace(material, lot, direction).as_dict() == expected_trace(history, material, lot, direction), (
            direction,
            material,
            lot,
        )


def test_the_wide_lot_reaches_many_finished_lots_and_the_narrow_one_a_single_chain(history):
    wide = trace.trace(*history.wide, "forward").as_dict()
    assert len([r for r in wide["lots"] if r["depth"] == 3]) >= 36 and len(wide["customers"]) >= 5
    narrow = trace.trace(*history.narrow, "forward").as_dict()
    assert [r["depth"] for r in narrow["lots"]] == [1, 2, 3]
    backward = trace.trace(narrow["lots"][-1]["material"], narrow["lots"][-1]["lot"], "backward").as_dict()
    assert {(r["material"], r["lot"]) for r in backward["lots"]} == {
        (r["material"], r["lot"]) for r in narrow["lots"][:-1]
    } | {history.narrow}
    assert backward["suppliers"] and all(
        s["lot"] in {r["lot"] for r in backward["lots"]} | {narrow["lots"][-1]["lot"]} for s in backward["suppliers"]
    )


def test_a_reversed_consumption_is_no_longer_a_link(app):
    with app.app_context():
        qa = build_world()
        released_stock(qa)
        kit = lots.create_lot(qa, by_code("material", "KIT"), "K1")
        consumed = ledger.record_movement(
            qa,
            {
                "type": "consumption",
                "material": "TUBE",
                "lot": "T1",
                "quantity": 10,
                "from_location": "WH",
                "reference": "MO-1",
            },
        )
        ledger.record_movement(
            qa,
            {
                "type": "output",
                "material": "KIT",
                "lot": "K1",
                "quantity": 5,
                "to_location": "QUA",
                "reference": "MO-1",
            },
        )
        assert [r["lot"] for r in trace.trace("TUBE", "T1").lots] == ["K1"]
        ledger.reverse_movement(qa, consumed.id, "booked against the wrong order")
        assert trace.trace("TUBE", "T1").lots == [] and trace.trace("KIT", "K1", "backward").lots == []
        assert trace.trace("TUBE", "T1").stock == [{"location": "WH", "material": "TUBE", "lot": "T1", "quantity": 100}]
        assert kit.lot_number == "K1"


def test_unknown_lot_and_bad_direction(history):
    with pytest.raises(NotFound):
        trace.trace(history.wide[0], "NOPE")
    with pytest.raises(InvalidInput):
        trace.trace(*history.wide, "sideways")
