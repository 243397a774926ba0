"""A generated ERP history in the CSV import contract: four levels of lots (supplier lots →
components → subassemblies → finished kits and serialized devices), production orders linking
them, shipments, returns, subcontract round trips. Deterministic for a seed.

Scale: `lots` sets everything else (100,000 lots ≈ 1,000 materials, 200 suppliers, 2,000
customers, 200,000 serials, 1,000,000 movements). One supplier lot (`wide`) feeds ~500 finished
lots at full scale; another (`narrow`) feeds a single chain. Used by the trace tests (small) and
bench/bench_trace.py (full).
"""

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from webapp.services.erp.import_rows import HEADERS

START = datetime(2024, 1, 1, tzinfo=UTC)
LEVEL_PREFIX = ("RM", "CA", "SA", "FG")


@dataclass
class Dataset:
    """Rows per contract file, plus the lots the benchmark and tests single out."""

    rows: dict = field(default_factory=lambda: {name: [] for name in HEADERS})
    wide: tuple = None
    narrow: tuple = None
    finished: list = field(default_factory=list)

    def csv_text(self, name):
        """One file as CSV text with the contract header."""
        out = io.StringIO()
        writer = csv.DictWriter(out, HEADERS[name], lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows[name])
        return out.getvalue()

    def files(self):
        """{file name: CSV text} for imports.import_files."""
        return {name: self.csv_text(name) for name in HEADERS}

    def write(self, folder):
        """Write the six CSV files into `folder`."""
        for name in HEADERS:
            (folder / name).write_text(self.csv_text(name), encoding="utf-8")


def generate(lots=1000, seed=7, wide_fanout=(20, 5, 5), serials_per_lot=20, shipments_per_lot=40):
    """Generate a history with about `lots` lots (see the module docstring for the proportions)."""
    rng, data = random.Random(seed), Dataset()
    gen = _Generator(rng, data, lots, serials_per_lot, shipments_per_lot)
    gen.master_data()
    gen.levels(wide_fanout)
    return data


class _Generator:
    def __init__(self, rng, data, lots, serials_per_lot, shipments_per_lot):
        self.rng, self.data, self.total = rng, data, lots
        self.serials_per_lot, self.shipments_per_lot = serials_per_lot, shipments_per_lot
        self.orders = 0

    def master_data(self):
        n_mat = max(8, self.total // 100)
        self.materials = {level: [] for level in range(4)}
        for i in range(n_mat):
            level = min(3, i * 4 // n_mat)
            tracking = "serial" if level == 3 and i % 2 else "lot"
            code = f"{LEVEL_PREFIX[level]}-{i:05d}"
            self.materials[level].append((code, tracking))
            gtin = _gtin(i) if level == 3 else ""
            self.data.rows["materials.csv"].append(
                {
                    "code": code,
                    "name": f"{LEVEL_PREFIX[level]} material {i}",
                    "gtin": gtin,
                    "tracking": tracking,
                    "storage": "ambient",
                    "shelf_life_days": 1095,
                    "device_class": "II" if level == 3 else "",
                }
            )
        self.suppliers = [f"SUP-{i:04d}" for i in range(max(3, self.total // 500))]
        self.data.rows["suppliers.csv"] += [
            {"code": c, "name": f"Supplier {c}", "status": "approved"} for c in self.suppliers
        ]
        self.customers = [f"CUS-{i:05d}" for i in range(max(5, self.total // 50))]
        self.data.rows["customers.csv"] += [
            {"code": c, "name": f"Hospital {c}", "license_number": f"L-{c}", "license_valid_until": "2030-12-31"}
            for c in self.customers
        ]
        for code, kind in (
            ("QUA", "quarantine"),
            ("WH", "warehouse"),
            ("FG", "warehouse"),
            ("PROD", "production"),
            ("EO", "subcontractor"),
        ):
            self.data.rows["locations.csv"].append({"code": code, "name": code, "kind": kind})

    def levels(self, wide_fanout):
        shares = (0.4, 0.2, 0.2, 0.2)
        counts = [max(3, int(self.total * s)) for s in shares]
        raw = [self._raw_lot(i) for i in range(counts[0])]
        self.data.wide, self.data.narrow = raw[0], raw[1]
        self.reserved = {raw[0], raw[1]}
        lots_by_level = [raw]
        for level in (1, 2, 3):
            made = [self._new_lot(level, i) for i in range(counts[level])]
            self._wire(level, lots_by_level, made, wide_fanout)
            lots_by_level.append(made)
        self.data.finished = lots_by_level[3]

    def _raw_lot(self, i):
        material = self.rng.choice(self.materials[0])[0]
        lot = f"R{i:07d}"
        supplier = self.rng.choice(self.suppliers)
        self._lot_row(material, lot, supplier, 0)
        at = START + timedelta(minutes=i)
        self._move(at, "receipt", material, lot, None, 100_000, "", "QUA", supplier=supplier, reference=f"PO-{i}")
        self._move(at + timedelta(hours=1), "transfer", material, lot, None, 100_000, "QUA", "WH")
        return (material, lot)

    def _new_lot(self, level, i):
        material, tracking = self.rng.choice(self.materials[level])
        lot = f"{LEVEL_PREFIX[level][0]}{level}{i:07d}"
        self._lot_row(material, lot, "", level)
        return (material, lot, tracking)

    def _lot_row(self, material, lot, supplier, level):
        made = (START + timedelta(days=60 * level)).date()
        self.data.rows["lots.csv"].append(
            {
                "material": material,
                "lot": lot,
                "manufactured_on": made.isoformat(),
                "expires_on": (made + timedelta(days=1095)).isoformat(),
                "status": "released",
                "supplier": supplier,
            }
        )

    def _wire(self, level, lots_by_level, made, wide_fanout):
        """One production order per new lot consuming 2–4 lots of the level below (sometimes two below)."""
        below = lots_by_level[level - 1]
        forced = self._forced_inputs(level, lots_by_level, made, wide_fanout)
        for i, (material, lot, tracking) in enumerate(made):
            self.orders += 1
            order = f"MO-{level}-{self.orders}"
            at = START + timedelta(days=60 * level, minutes=i)
            inputs = {tuple(x[:2]) for x in forced.get(i, ())}
            if not forced.get(i):
                pool = lots_by_level[level - 2] if level >= 2 and self.rng.random() < 0.05 else below
                picks = self.rng.sample(pool, min(len(pool), self.rng.randint(2, 4)))
                # the wide tree and the narrow chain get only their forced links, so their size is known
                inputs.update(x[:2] for x in picks if x[:2] not in self.reserved)
            for in_material, in_lot in sorted(inputs):
                self._move(
                    at, "consumption", in_material, in_lot, None, self.rng.randint(1, 3), "WH", "", reference=order
                )
            self._output(level, material, lot, tracking, at + timedelta(minutes=30), order)

    def _forced_inputs(self, level, lots_by_level, made, wide_fanout):
        """The wide lot's tree (fan-out per level) and the narrow lot's single chain."""
        forced = {}
        fan = wide_fanout[level - 1]
        start = 0
        parents = [self.data.wide] if level == 1 else getattr(self, "_wide_children", [])
        children = []
        for parent in parents:
            for j in range(fan):
                if start + j < len(made) - 1:
                    forced.setdefault(start + j, []).append(parent[:2])
                    children.append(made[start + j])
            start += fan
        self._wide_children = children
        narrow_parent = self.data.narrow if level == 1 else self._narrow_child
        self._narrow_child = made[-1]
        self.reserved.update(child[:2] for child in children + [made[-1]])
        forced[len(made) - 1] = [narrow_parent[:2]]
        return forced

    def _output(self, level, material, lot, tracking, at, order):
        location = "FG" if level == 3 else "WH"
        if tracking == "serial":
            serials = [f"{lot}-{k:03d}" for k in range(self.serials_per_lot)]
            for serial in serials:
                self._move(at, "output", material, lot, serial, 1, "", location, reference=order)
            for k, serial in enumerate(serials[: int(len(serials) * 0.7)]):
                self._ship(at + timedelta(days=5 + k), material, lot, serial, 1)
            return
        self._move(at, "output", material, lot, None, 1000, "", location, reference=order)
        if level < 3:
            return
        if self.rng.random() < 0.1:
            sub = f"SC-{order}"
            self._move(
                at + timedelta(hours=2),
                "to_subcontractor",
                material,
                lot,
                None,
                1000,
                "FG",
                "EO",
                supplier=self.suppliers[0],
                reference=sub,
            )
            self._move(
                at + timedelta(days=2),
                "from_subcontractor",
                material,
                lot,
                None,
                1000,
                "EO",
                "FG",
                supplier=self.suppliers[0],
                reference=sub,
            )
        for k in range(self.shipments_per_lot):
            self._ship(at + timedelta(days=5 + k), material, lot, None, self.rng.randint(1, 20))

    def _ship(self, at, material, lot, serial, quantity):
        customer = self.rng.choice(self.customers)
        self._move(
            at,
            "shipment",
            material,
            lot,
            serial,
            quantity,
            "FG",
            "",
            customer=customer,
            reference=f"SO-{len(self.data.rows['movements.csv'])}",
        )
        if self.rng.random() < 0.02:
            self._move(
                at + timedelta(days=3),
                "return",
                material,
                lot,
                serial,
                quantity,
                "",
                "QUA",
                customer=customer,
                reference=f"RMA-{len(self.data.rows['movements.csv'])}",
            )

    def _move(
        self,
        at,
        type_,
        material,
        lot,
        serial,
        quantity,
        from_location,
        to_location,
        customer="",
        supplier="",
        reference="",
    ):
        self.data.rows["movements.csv"].append(
            {
                "moved_at": at.isoformat(),
                "type": type_,
                "material": material,
                "lot": lot,
                "serial": serial or "",
                "quantity": quantity,
                "from_location": from_location,
                "to_location": to_location,
                "customer": customer,
                "supplier": supplier,
                "reference": reference,
            }
        )


def _gtin(item):
    body = f"00614141{item:05d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)
