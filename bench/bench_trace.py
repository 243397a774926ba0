"""ERP import and trace at a realistic volume, on SQLite and PostgreSQL.

Generates the history with tests/erp_generator.py (default 100,000 lots ≈ 1,000 materials, 200
suppliers, 2,000 customers, 200,000 serials, 1,000,000 movements, genealogy four levels deep, one
supplier lot feeding 500 finished lots) and writes the six CSV files. Per backend, on a fresh
database: one process imports them through the import service (the code behind `traceflow import`
and POST /api/v1/imports, every check included); a second, fresh process (as a restarted server
would be) times webapp.services.erp.trace.trace, the function behind GET /api/v1/trace: forward
for the wide and the narrow supplier lot, backward for a finished lot of the random genealogy and
for the end of the narrow chain; then the wide forward trace through the HTTP API, JSON included.

Usage: python bench/bench_trace.py [--lots N] [--backends sqlite,postgresql] [--repeat N]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = "postgresql://postgres@127.0.0.1:5432/test"


def _app(url):
    from webapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})


def phase_import(url, folder):
    """Migrate, import the CSV files of `folder`; print {"seconds"}."""
    from tests.helpers import create_demo_users, user
    from webapp.cli import upgrade_schema
    from webapp.extensions import db
    from webapp.services.erp import imports

    app = _app(url)
    with app.app_context():
        upgrade_schema()
        create_demo_users()
        files = {path.name: path.read_bytes() for path in sorted(Path(folder).glob("*.csv"))}
        started = time.perf_counter()
        imports.import_files(user("admin"), files)
        seconds = time.perf_counter() - started
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
    print(json.dumps({"seconds": seconds}))


def _median_ms(call, repeat):
    call()  # warm-up: statement caches, connection
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def phase_trace(url, cases, repeat):
    """Time the trace for each case; print rows [what, lots, shipments, median ms, max ms]."""
    from tests.helpers import Api
    from webapp.services.erp import trace

    app = _app(url)
    rows = []
    with app.app_context():
        for label, direction, material, lot in cases:
            result = trace.trace(material, lot, direction)
            median, worst = _median_ms(lambda m=material, x=lot, d=direction: trace.trace(m, x, d), repeat)
            rows.append(
                [f"trace {direction} {label} {material}/{lot}", len(result.lots), len(result.shipments), median, worst]
            )
    api = Api(app, "admin")
    _label, _direction, material, lot = cases[0]
    median, worst = _median_ms(
        lambda: api.get(f"/api/v1/trace?material={material}&lot={lot}&direction=forward"), repeat
    )
    rows.append(["GET /api/v1/trace forward wide (HTTP, JSON)", None, None, median, worst])
    print(json.dumps(rows))


def _database(backend, pg_url, folder):
    """(SQLAlchemy URL, cleanup) of a fresh database."""
    if backend == "sqlite":
        return f"sqlite:///{folder}/bench.sqlite", lambda: None
    import psycopg

    name = f"traceflow_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(pg_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return "postgresql+psycopg://" + pg_url.split("://", 1)[1].rsplit("/", 1)[0] + "/" + name, drop


def _run(*args):
    """Run a phase of this script in a fresh Python process; its last stdout line is JSON."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--pg-url", default=PG)
    parser.add_argument("--phase", choices=["import", "trace"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--cases", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "import":
        return phase_import(args.url, args.dir)
    if args.phase == "trace":
        return phase_trace(args.url, json.loads(args.cases), args.repeat)
    from tests.erp_generator import generate

    folder = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    data = generate(lots=args.lots)
    data.write(folder)
    counts = {name: len(rows) for name, rows in data.rows.items()}
    serials = len({(m["material"], m["serial"]) for m in data.rows["movements.csv"] if m["serial"]})
    size = sum(p.stat().st_size for p in folder.glob("*.csv"))
    print(
        f"generated in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n.split('.')[0]} {c:,}" for n, c in counts.items())
        + f", serials {serials:,}; {size / 1e6:.0f} MB of CSV"
    )
    typical = data.finished[len(data.finished) // 2][:2]
    cases = [
        ("wide", "forward", *data.wide),
        ("narrow", "forward", *data.narrow),
        ("typical", "backward", *typical),
        ("narrow", "backward", *data.finished[-1][:2]),
    ]
    del data
    print()
    print(f"{'backend':<11} {'what':<52} {'lots':>6} {'ship.':>7} {'median ms':>10} {'max ms':>8}")
    for backend in args.backends.split(","):
        url, cleanup = _database(backend, args.pg_url, folder)
        try:
            seconds = _run("--phase", "import", "--url", url, "--dir", str(folder))["seconds"]
            print(
                f"{backend:<11} {'import (6 files, every row checked, one transaction)':<52} {'':>6} {'':>7} "
                f"{seconds * 1000:>10,.0f}"
            )
            for what, lots, shipped, median, worst in _run(
                "--phase", "trace", "--url", url, "--cases", json.dumps(cases), "--repeat", str(args.repeat)
            ):
                print(
                    f"{backend:<11} {what:<52} {'' if lots is None else lots:>6} "
                    f"{'' if shipped is None else shipped:>7} {median:>10.1f} {worst:>8.1f}"
                )
            sys.stdout.flush()
        finally:
            cleanup()


if __name__ == "__main__":
    main()
