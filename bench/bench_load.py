"""Load: 8 concurrent API clients for 30 s against `traceflow serve`, on SQLite and on PostgreSQL.

Each client logs in once and then loops: start a change request, complete its first step
(submit), make a refused attempt (a warehouse user starting CAPA: 403, audited) and read its inbox.
The server is a real `traceflow serve` process (waitress, 8 threads, the scheduler running) on a
fresh database of its own, on 127.0.0.1 only. At the end the script prints per backend: requests,
server errors (5xx, connection failures), unexpected answers, requests per second and the audit
chain as `traceflow audit verify` reports it. Bounded: every loop stops after `--seconds`.

Usage: python bench/bench_load.py [--seconds 30] [--clients 8] [--backends sqlite,postgresql]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRACEFLOW = [str(Path(sys.executable).parent / "traceflow")]
PG_BASE = os.environ.get("TRACEFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
sys.path.insert(0, str(ROOT))

from tests.helpers import CHANGE_REQUEST, PASSWORD, USERS  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (urllib.error.URLError, OSError):
        return 599, None


def _prepare(env):
    """Migrate, deploy and create the bench users (the test users with the test password)."""
    script = (
        "from webapp import create_app\n"
        "from webapp.cli import deploy_paths, upgrade_schema\n"
        "from tests.helpers import create_demo_users\n"
        "app = create_app({'DEPLOYMENT_APPROVAL': False})\n"
        "with app.app_context():\n"
        "    upgrade_schema(); deploy_paths([]); create_demo_users()\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True, capture_output=True)


def _database(backend, tmp):
    if backend == "sqlite":
        return f"sqlite:///{tmp}/load.sqlite", None
    import psycopg

    name = f"traceflow_load_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_BASE, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    return PG_BASE.rsplit("/", 1)[0] + "/" + name, (admin, name)


def run(backend, seconds, clients):
    tmp = tempfile.mkdtemp()
    url, pg = _database(backend, tmp)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TRACEFLOW_SECRET_KEY": "bench",
        "TRACEFLOW_DEPLOYMENT_APPROVAL": "0",
        "TRACEFLOW_SECURE_COOKIES": "0",
        "PYTHONPATH": str(ROOT),
    }
    _prepare(env)
    port = _free_port()
    log = open(Path(tmp) / "serve.log", "wb")  # noqa: SIM115 - the server writes to it until it stops
    server = subprocess.Popen(
        [*TRACEFLOW, "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            if _call(base, "GET", "/api/v1/openapi.json")[0] == 200:
                break
            time.sleep(0.2)
        counts = {"requests": 0, "server_errors": 0, "unexpected": 0}
        failures = []
        lock = threading.Lock()

        def count(status, expected):
            with lock:
                counts["requests"] += 1
                if status >= 500:
                    counts["server_errors"] += 1
                    failures.append(status)
                elif status not in expected:
                    counts["unexpected"] += 1

        def client(index):
            names = [u for u in USERS if "requester" in USERS[u]]
            requester = names[index % len(names)]
            status, body = _call(base, "POST", "/api/v1/auth/token", body={"username": requester, "password": PASSWORD})
            count(status, (200,))
            token = (body or {}).get("token")
            status, body = _call(
                base, "POST", "/api/v1/auth/token", body={"username": "warehouse", "password": PASSWORD}
            )
            count(status, (200,))
            refused_token = (body or {}).get("token")
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                status, instance = _call(
                    base, "POST", "/api/v1/process-instances", token, {"process_key": "change_control"}
                )
                count(status, (201,))
                if status == 201 and instance["ready_tasks"]:
                    task = instance["ready_tasks"][0]
                    status, _ = _call(
                        base, "POST", f"/api/v1/tasks/{task['id']}/complete", token, {"data": CHANGE_REQUEST}
                    )
                    count(status, (200,))
                status, _ = _call(base, "POST", "/api/v1/process-instances", refused_token, {"process_key": "capa"})
                count(status, (403,))
                status, _ = _call(base, "GET", "/api/v1/tasks?mine=true", token)
                count(status, (200,))

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 120)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    if counts["server_errors"]:  # what the server logged about them
        errors = [
            line for line in (Path(tmp) / "serve.log").read_text(errors="replace").splitlines() if "Error" in line
        ]
        print(f"  {backend}: statuses {sorted(set(failures))}; server log: {errors[-5:]}", file=sys.stderr)
    verify = subprocess.run([*TRACEFLOW, "audit", "verify"], env=env, cwd=ROOT, capture_output=True, text=True)
    chain = (verify.stdout.strip() or verify.stderr.strip()).splitlines()[-1:] or ["?"]
    if pg is not None:
        admin, name = pg
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return {**counts, "rps": counts["requests"] / elapsed, "chain": chain[0], "chain_ok": verify.returncode == 0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"{args.clients} clients × {args.seconds:.0f} s against traceflow serve (waitress, 8 threads)\n")
    print(f"{'backend':<12}{'requests':>10}{'5xx':>6}{'unexpected':>12}{'req/s':>8}  audit chain")
    failed = False
    for backend in args.backends.split(","):
        result = run(backend, args.seconds, args.clients)
        failed |= bool(result["server_errors"] or result["unexpected"] or not result["chain_ok"])
        print(
            f"{backend:<12}{result['requests']:>10}{result['server_errors']:>6}{result['unexpected']:>12}"
            f"{result['rps']:>8.1f}  {result['chain']}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
