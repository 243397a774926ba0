"""Throughput: concurrent API clients starting change requests and completing their unsigned steps,
against `traceflow serve` with 1 process (waitress, the baseline) and N gunicorn workers, on SQLite
and PostgreSQL.

Each client logs in as a requester and a QA user, then loops for `--seconds`: start a change
request, complete submit_request (requester), impact_assessment (QA, minor) and qa_review (QA) —
three unsigned completions per instance, each the next task the previous answer named. The server is
a real `traceflow serve` on a fresh database (127.0.0.1, scheduler on). Printed per configuration:
completions per second, p50/p95/p99 latency of a completion, starts, errors (5xx, connection
failures, unexpected statuses), and the audit chain checked by `traceflow audit verify` afterwards.
The ratio column is completions/s against the 1-process baseline of the same backend and clients.

Usage: python bench/bench_throughput.py [--seconds 20] [--clients 8,32] [--workers 2,4]
       [--backends sqlite,postgresql]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_load import TRACEFLOW, _call, _database, _free_port, _prepare  # noqa: E402

from tests.helpers import CHANGE_REQUEST, MINOR_IMPACT, PASSWORD  # noqa: E402

STEPS = {
    "submit_request": ("requester", CHANGE_REQUEST),
    "impact_assessment": ("qa", MINOR_IMPACT),
    "qa_review": ("qa", {"qa_review_decision": "approve", "qa_review_comments": "ok"}),
}
REQUESTERS = ["requester", "requester2"]
QA = ["qa", "qa2"]


def _serve(env, tmp, workers):
    port = _free_port()
    command = [*TRACEFLOW, "serve", "--port", str(port)]
    command += ["--server", "waitress"] if workers == 1 else ["--workers", str(workers), "--threads", "8"]
    log = open(Path(tmp) / f"serve-{port}.log", "wb")  # noqa: SIM115 - open while the server runs
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        if _call(base, "GET", "/healthz")[0] == 200:
            break
        time.sleep(0.2)
    return server, log, base


def _load(base, seconds, clients):
    latencies, starts, errors = [], [0], []
    lock = threading.Lock()

    def client(index):
        tokens = {}
        for role, names in (("requester", REQUESTERS), ("qa", QA)):
            status, body = _call(
                base, "POST", "/api/v1/auth/token", body={"username": names[index % 2], "password": PASSWORD}
            )
            tokens[role] = (body or {}).get("token")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status, answer = _call(
                base, "POST", "/api/v1/process-instances", tokens["requester"], {"process_key": "change_control"}
            )
            if status != 201:
                with lock:
                    errors.append(status)
                continue
            with lock:
                starts[0] += 1
            ready = answer["ready_tasks"]
            while ready and ready[0]["bpmn_id"] in STEPS and time.monotonic() < deadline:
                role, data = STEPS[ready[0]["bpmn_id"]]
                began = time.perf_counter()
                status, answer = _call(
                    base, "POST", f"/api/v1/tasks/{ready[0]['id']}/complete", tokens[role], {"data": data}
                )
                took = (time.perf_counter() - began) * 1000
                with lock:
                    if status == 200:
                        latencies.append(took)
                    else:
                        errors.append(status)
                if status != 200:
                    break
                ready = answer["process_instance"]["ready_tasks"]

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return latencies, starts[0], errors, time.monotonic() - started


def run(backend, seconds, clients, workers):
    tmp = tempfile.mkdtemp()
    url, pg = _database(backend, tmp)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TRACEFLOW_SECRET_KEY": "bench",
        "TRACEFLOW_DEPLOYMENT_APPROVAL": "0",
        "TRACEFLOW_SECURE_COOKIES": "0",
        "TRACEFLOW_LOG_FORMAT": "text",
        "TRACEFLOW_DB_POOL_SIZE": "10",
        "PYTHONPATH": str(ROOT),
    }
    _prepare(env)
    server, log, base = _serve(env, tmp, workers)
    try:
        latencies, starts, errors, elapsed = _load(base, seconds, clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    verify = subprocess.run([*TRACEFLOW, "audit", "verify"], env=env, cwd=ROOT, capture_output=True, text=True)
    if pg is not None:
        admin, name = pg
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else float("nan")

    return {
        "completions": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "starts": starts,
        "errors": len(errors),
        "statuses": sorted(set(errors)),
        "chain_ok": verify.returncode == 0,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", default="8,32")
    parser.add_argument("--workers", default="2,4", help="gunicorn worker counts besides the 1-process baseline")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(
        f"unsigned task completions, {args.seconds:.0f} s per row, {os.cpu_count()} CPUs (server, database and clients)\n"
    )
    print(
        f"{'backend':<11}{'clients':>8} {'server':<18}{'compl.':>7}{'compl/s':>9}{'ratio':>7}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'starts':>7}{'errors':>7}  chain"
    )
    failed = False
    for backend in args.backends.split(","):
        for clients in map(int, args.clients.split(",")):
            baseline = None
            for workers in [1, *map(int, args.workers.split(","))]:
                r = run(backend, args.seconds, clients, workers)
                baseline = baseline or r["per_second"]
                failed |= bool(r["errors"] or not r["chain_ok"])
                server = "waitress, 1 proc" if workers == 1 else f"gunicorn, {workers} proc"
                print(
                    f"{backend:<11}{clients:>8} {server:<18}{r['completions']:>7}{r['per_second']:>9.1f}"
                    f"{r['per_second'] / baseline:>6.2f}x{r['p50']:>8.1f}{r['p95']:>8.1f}{r['p99']:>8.1f}"
                    f"{r['starts']:>7}{r['errors']:>7}  {'intact' if r['chain_ok'] else 'BROKEN'}"
                    + (f" statuses {r['statuses']}" if r["statuses"] else ""),
                    flush=True,
                )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
