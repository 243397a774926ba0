"""The inbox at scale: 100k open tasks in the `qa` role, 100k in another role and 1M completed ones,
on SQLite and PostgreSQL; the latency of a QA user's inbox (API and HTML) with filters and counts.

Data: one real change-control instance is started through the services; its instance row is copied
(new business keys) to 20,000 instances, and the task rows are bulk-inserted in the format
services/workflow_state.py writes (due_key, process and business key, role, due dates spread over
±30 days). Requests go through the WSGI app in process (bearer token, permission check, query, JSON
or HTML), as the first page, a filtered page, the next page by cursor, `mine=true` and the HTML
page; each is repeated and the table prints p50/p95 in ms and the answer's size.

Usage: python bench/bench_inbox.py [--open 100000] [--completed 1000000] [--repeat 30]
       [--backends sqlite,postgresql]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BASE = os.environ.get("TRACEFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from tests.helpers import PASSWORD, create_demo_users  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.cli import deploy_paths, upgrade_schema  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import NO_DUE_DATE, HumanTaskRow, ProcessInstance, User  # noqa: E402
from webapp.services import instances  # noqa: E402

INSTANCES = 20_000
BATCH = 10_000


def _database(backend, tmp):
    if backend == "sqlite":
        return f"sqlite:///{tmp}/inbox.sqlite", None
    import psycopg

    name = f"traceflow_inbox_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_BASE, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    return PG_BASE.rsplit("/", 1)[0] + "/" + name, (admin, name)


def _fill(open_per_role, completed):
    """Instances and task rows, bulk-inserted; returns the seconds it took."""
    started = time.perf_counter()
    requester = db.session.scalar(select(User).where(User.username == "requester"))
    model = instances.start_instance(requester, "change_control")
    base = {c: getattr(model, c) for c in ("version_id", "status", "initiator_id", "state_json", "data")}
    now = datetime.now(UTC)
    conn = db.session.connection()
    for first in range(0, INSTANCES, BATCH):
        conn.execute(
            insert(ProcessInstance),
            [
                {**base, "business_key": f"CC-2025-{n:06d}", "lock_version": 1, "created_at": now, "updated_at": now}
                for n in range(first, min(first + BATCH, INSTANCES))
            ],
        )
    keys = dict(
        conn.execute(
            select(ProcessInstance.id, ProcessInstance.business_key).where(
                ProcessInstance.business_key.like("CC-2025-%")
            )
        ).all()
    )
    ids = sorted(keys)
    qa2 = db.session.scalar(select(User.id).where(User.username == "qa2"))
    plan = [("qa", open_per_role, False), ("warehouse", open_per_role, False), ("qa", completed, True)]
    n = 0
    for role, count, done in plan:
        for first in range(0, count, BATCH):
            rows = []
            for _ in range(first, min(first + BATCH, count)):
                n += 1
                instance_id = ids[n % len(ids)]
                due = now + timedelta(hours=(n * 7919) % 1440 - 720) if n % 5 else None
                rows.append(
                    {
                        "instance_id": instance_id,
                        "task_id": str(uuid.UUID(int=n)),
                        "bpmn_id": "qa_review",
                        "title": f"QA 审核 {n}",
                        "title_en": f"QA review {n}",
                        "type": "userTask",
                        "lane": "QA",
                        "instructions": "",
                        "candidate_role": role,
                        "assignee_id": qa2 if (done or n % 50 == 0) else None,
                        "due_at": due,
                        "due_key": due or NO_DUE_DATE,
                        "process_key": "change_control",
                        "business_key": keys[instance_id],
                        "created_at": now,
                        "completed_at": now if done else None,
                        "completed_by_id": qa2 if done else None,
                        "state": "completed" if done else "ready",
                    }
                )
            conn.execute(insert(HumanTaskRow), rows)
    db.session.commit()
    return time.perf_counter() - started


def _analyze(backend):
    if backend == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE human_tasks"))
            conn.execute(text("VACUUM ANALYZE process_instances"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def _time(client, url, headers, repeat):
    samples, size, status = [], 0, None
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        size, status = len(response.data), response.status_code
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], size, status


def run(backend, open_per_role, completed, repeat):
    with tempfile.TemporaryDirectory() as tmp:
        url, cleanup = _database(backend, tmp)
        try:
            app = create_app(
                {"SQLALCHEMY_DATABASE_URI": url, "DEPLOYMENT_APPROVAL": False, "PASSWORD_HASH_PROFILE": "test"}
            )
            with app.app_context():
                upgrade_schema()
                deploy_paths([])
                create_demo_users()
                seconds = _fill(open_per_role, completed)
                _analyze(backend)
            client = app.test_client()
            token = client.post("/api/v1/auth/token", json={"username": "qa", "password": PASSWORD}).get_json()
            headers = {"Authorization": f"Bearer {token['token']}"}
            first = client.get("/api/v1/tasks", headers=headers)
            cursor = first.headers.get("X-Next-Cursor", "")
            browser = app.test_client()
            login = browser.get("/login").get_data(as_text=True)
            csrf = login.split('name="csrf_token" value="')[1].split('"')[0]
            browser.post("/login", data={"username": "qa", "password": PASSWORD, "csrf_token": csrf})
            cases = [
                ("API first page (50) + count", "/api/v1/tasks", headers, client),
                ("API next page by cursor", f"/api/v1/tasks?cursor={cursor}", headers, client),
                ("API overdue, one process", "/api/v1/tasks?due=overdue&process=change_control", headers, client),
                ("API search business key", "/api/v1/tasks?q=CC-2025-000042", headers, client),
                ("API mine=true", "/api/v1/tasks?mine=true", headers, client),
                ("HTML inbox page (50)", "/", {}, browser),
            ]
            results = [(name, *_time(c, u, h, repeat)) for name, u, h, c in cases]
            return seconds, int(first.headers["X-Total-Count"]), results
        finally:
            if cleanup:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
                admin, name = cleanup
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000, help="open tasks per role (qa and warehouse)")
    parser.add_argument("--completed", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(
        f"inbox of user qa: {args.open:,} open qa tasks, {args.open:,} open warehouse tasks, {args.completed:,} completed"
    )
    for backend in args.backends.split(","):
        seconds, total, results = run(backend, args.open, args.completed, args.repeat)
        print(f"\n{backend}: data bulk-inserted in {seconds:.0f} s; X-Total-Count for qa = {total:,}")
        print(f"{'request':<32} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>9} status")
        for name, p50, p95, size, status in results:
            print(f"{name:<32} {p50:8.1f} {p95:8.1f} {size:9,d} {status}")


if __name__ == "__main__":
    main()
