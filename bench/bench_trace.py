"""ERP import and trace at a realistic volume, on SQLite and PostgreSQL.

Generates the history with tests/erp_generator.py (default 100,000 lots ≈ 1,000 materials, 200
suppliers, 2,000 customers, 200,000 serials, 1,000,000 movements, genealogy four levels deep, one
supplier lot feeding ~500 finished lots), imports it through the import service (the code behind
`traceflow import` and POST /api/v1/imports, all checks included) into a fresh database, then times
webapp.services.erp.trace.trace — the function behind GET /api/v1/trace — forward for the wide and
the narrow supplier lot, backward for a finished lot of the random genealogy and for the end of the
narrow chain, and the wide forward trace once more through the HTTP API (JSON included).

Usage: python bench/bench_trace.py [--lots N] [--backends sqlite,postgresql] [--repeat N]
"""
from pathlib import Path
import argparse
import statistics
import sys
import tempfile
import time
import uuid

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.erp_generator import generate  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/test"


def _database(backend, pg_url):
    """(SQLAlchemy URL, cleanup) of a fresh database."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp()
        return f"sqlite:///{folder}/bench.sqlite", lambda: None
    import psycopg
    name = f"traceflow_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(pg_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return "postgresql+psycopg://" + pg_url.split("://", 1)[1].rsplit("/", 1)[0] + "/" + name, drop


def _median_ms(call, repeat):
    call()  # warm-up: plan caches, connection
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def bench_backend(backend, data, files, repeat, pg_url):
    """Import time and trace timings on one backend."""
    from webapp import create_app
    from webapp.cli import upgrade_schema
    from webapp.extensions import db
    from webapp.services.erp import imports, trace
    from tests.helpers import Api, create_demo_users, user
    url, cleanup = _database(backend, pg_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    rows = []
    try:
        with app.app_context():
            upgrade_schema()
            create_demo_users()
            started = time.perf_counter()
            imports.import_files(user("admin"), files)
            import_s = time.perf_counter() - started
            if backend == "postgresql":
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
            narrow_leaf = trace.trace(*data.narrow, "forward").lots[-1]
            typical = data.finished[len(data.finished) // 2][:2]  # random genealogy: 2–4 inputs per order
            cases = [("wide", "forward", data.wide), ("narrow", "forward", data.narrow),
                     ("typical", "backward", typical),
                     ("narrow", "backward", (narrow_leaf["material"], narrow_leaf["lot"]))]
            for label, direction, (material, lot) in cases:
                result = trace.trace(material, lot, direction)
                median, worst = _median_ms(lambda: trace.trace(material, lot, direction), repeat)
                rows.append((backend, f"trace {direction} {label} {material}/{lot}", len(result.lots),
                             len(result.shipments), median, worst))
            db.session.remove()
        api = Api(app, "admin")
        material, lot = data.wide
        median, worst = _median_ms(lambda: api.get(f"/api/v1/trace?material={material}&lot={lot}&direction=forward"),
                                   repeat)
        rows.append((backend, "GET /api/v1/trace forward wide (HTTP, JSON)", None, None, median, worst))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        cleanup()
    return import_s, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--pg-url", default=PG)
    args = parser.parse_args()
    started = time.perf_counter()
    data = generate(lots=args.lots)
    files = {name: text.encode("utf-8") for name, text in data.files().items()}
    counts = {name: len(rows) for name, rows in data.rows.items()}
    serials = len({(m["material"], m["serial"]) for m in data.rows["movements.csv"] if m["serial"]})
    print(f"generated in {time.perf_counter() - started:.1f} s: " + ", ".join(
        f"{n.split('.')[0]} {c:,}" for n, c in counts.items()) + f", serials {serials:,}; "
        f"{sum(len(v) for v in files.values()) / 1e6:.0f} MB of CSV")
    data.rows = None  # a server does not hold the generator's million dicts (they would slow every GC pass)
    print()
    print(f"{'backend':<11} {'what':<52} {'lots':>6} {'ship.':>7} {'median ms':>10} {'max ms':>8}")
    for backend in args.backends.split(","):
        import_s, rows = bench_backend(backend, data, files, args.repeat, args.pg_url)
        print(f"{backend:<11} {'import (all files, checked, one transaction)':<52} {'':>6} {'':>7} "
              f"{import_s * 1000:>10,.0f}")
        for backend_, what, lots, shipped, median, worst in rows:
            print(f"{backend_:<11} {what:<52} {lots if lots is not None else '':>6} "
                  f"{shipped if shipped is not None else '':>7} {median:>10.1f} {worst:>8.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
