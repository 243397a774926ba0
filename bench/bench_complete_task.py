"""Per-task cost of completing change-control tasks: service layer vs raw SpiffWorkflow.

Both sides run the same process with the same data in the same process:
- service: webapp.services.tasks.complete_task on SQLite (authorize, validate, lock, load, run,
  write state, task rows and audit event, commit) — no HTTP;
- raw: SpiffWorkflow's default serializer (spec embedded) → deserialize → set data → run →
  do_engine_steps → serialize, the minimum an application persisting instances must do.
It also compares the lean state serializer (spec stored once per version) with the default one.

Usage: python bench/bench_complete_task.py [--instances N]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine import Engine, ProcessBundle, compile_bundle  # noqa: E402
from engine.runtime import VersionRef  # noqa: E402
from engine.sandbox import script_engine  # noqa: E402
from engine.serializer import spec_serializer  # noqa: E402
from tests.helpers import DATA_BY_TASK, signature_for, worker_for  # noqa: E402

MS = 1000.0


def bench_service(instances):
    """Milliseconds per complete_task call through the service layer on a fresh SQLite file."""
    from tests.helpers import create_demo_users, user
    from webapp import create_app
    from webapp.cli import deploy_paths, upgrade_schema
    from webapp.extensions import db
    from webapp.services import instances as inst_service
    from webapp.services import queries, tasks

    tmp = tempfile.mkdtemp()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
            "SECRET_KEY": "bench",
            "DEPLOYMENT_APPROVAL": False,
        }
    )
    timings, signed, statements = [], [], []
    with app.app_context():
        from sqlalchemy import event

        counter = [0]

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*_args):
            counter[0] += 1

        upgrade_schema()
        deploy_paths([])
        create_demo_users()
        for _ in range(instances):
            instance = inst_service.start_instance(user("requester"), "change_control")
            while True:
                rows = [r for r in queries.instance_tasks(instance.id) if r.completed_at is None]
                if not rows:
                    break
                row = rows[0]
                worker, data = worker_for(row.bpmn_id, row.candidate_role), DATA_BY_TASK[row.bpmn_id]
                meaning = (row.signature_properties or {}).get("signature")
                task_id = row.task_id
                db.session.expire_all()  # as a new request: nothing loaded but the signed-in user
                actor = user(worker)
                actor.role_names  # noqa: B018 - loaded by the request's authentication, not the completion
                counter[0] = 0
                started = time.perf_counter()
                tasks.complete_task(actor, task_id, data, signature_for(meaning) if meaning else None)
                (signed if meaning else timings).append((time.perf_counter() - started) * MS)
                if not meaning:
                    statements.append(counter[0])
        http = _bench_http(app, instances)
    bench_service.http = http  # read by main(); the smoke test keeps the three-value return
    return timings, signed, statements


class _Client:
    """A bearer-token API client, plain (the tests' Api also checks each answer against the OpenAPI
    document, which is not the server's cost)."""

    def __init__(self, app, username):
        from tests.helpers import PASSWORD

        self.client = app.test_client()
        token = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        self.headers = {"Authorization": f"Bearer {token.get_json()['token']}"}

    def post(self, url, json):
        return self.client.post(url, json=json, headers=self.headers)


def _bench_http(app, instances):
    """Milliseconds per unsigned completion through the whole HTTP stack (WSGI in process: bearer
    authentication, permission check, JSON parsing, the service call, the JSON response)."""
    clients = {}
    timings = []
    for _ in range(instances):
        requester = clients.setdefault("requester", _Client(app, "requester"))
        instance = requester.post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
        while instance["ready_tasks"]:
            task = instance["ready_tasks"][0]
            worker = worker_for(task["bpmn_id"], (task["candidate_role"] or "").lower())
            api = clients.setdefault(worker, _Client(app, worker))
            body = {"data": DATA_BY_TASK[task["bpmn_id"]]}
            if task["signature"]:
                body["signature"] = signature_for(task["signature"]["meaning"])
            started = time.perf_counter()
            response = api.post(f"/api/v1/tasks/{task['id']}/complete", body)
            if not task["signature"]:
                timings.append((time.perf_counter() - started) * MS)
            instance = response.get_json()["process_instance"]
    return timings


def _version():
    bundle = ProcessBundle.from_paths(ROOT / "processes" / "change_control")
    compiled = next(c for c in compile_bundle(bundle) if c.key == "change_control")
    return VersionRef(compiled.content_hash, compiled.spec_json, {f.name: f.text for f in compiled.files})


def bench_raw(instances):
    """Milliseconds per task for plain SpiffWorkflow with its default (spec-embedding) serializer."""
    ref = _version()
    spec, subs = spec_serializer.loads(ref.spec_json)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    timings, sizes = [], []
    for _ in range(instances):
        workflow = BpmnWorkflow(spec, subs, script_engine=script_engine())
        workflow.do_engine_steps()
        state = serializer.serialize_json(workflow)
        while True:
            started = time.perf_counter()
            workflow = serializer.deserialize_json(state)
            workflow.script_engine = script_engine()
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                break
            task = ready[0]
            task.data.update(DATA_BY_TASK[task.task_spec.bpmn_id])
            task.run()
            workflow.do_engine_steps()
            state = serializer.serialize_json(workflow)
            timings.append((time.perf_counter() - started) * MS)
            sizes.append(len(state))
    return timings, sizes


def bench_lean(instances):
    """Milliseconds per task and state sizes for the Engine with the lean serializer (no database)."""
    ref = _version()
    engine = Engine()
    timings, sizes = [], []
    for _ in range(instances):
        state = engine.dump(engine.start(ref))
        while True:
            started = time.perf_counter()
            workflow = engine.load(ref, state)
            ready = engine.ready_human_tasks(workflow, ref)
            if not ready:
                break
            engine.complete_task(workflow, ready[0].id, DATA_BY_TASK[ready[0].bpmn_id])
            state = engine.dump(workflow)
            timings.append((time.perf_counter() - started) * MS)
            sizes.append(len(state))
    return timings, sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=20)
    args = parser.parse_args()
    bench_lean(2), bench_raw(2)  # warm caches and imports on both sides
    raw, raw_sizes = bench_raw(args.instances)
    lean, lean_sizes = bench_lean(args.instances)
    service, signed, statements = bench_service(args.instances)
    base = statistics.median(raw)
    print(
        f"change_control, {args.instances} instances, {len(raw)} task completions per side "
        f"(service: {len(service)} plain + {len(signed)} signature steps)\n"
    )
    print(f"{'path':<52}{'median ms/task':>15}{'p90 ms':>9}{'ratio':>8}")
    for name, values in (
        ("raw SpiffWorkflow (default serializer, spec inside)", raw),
        ("engine only (lean serializer, no database)", lean),
        ("service layer complete_task on SQLite", service),
        ("service layer, signature steps (argon2 re-check)", signed),
        ("HTTP POST /api/v1/tasks/{id}/complete (WSGI, unsigned)", bench_service.http),
    ):
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:<52}{statistics.median(values):>15.2f}{p90:>9.2f}{statistics.median(values) / base:>7.2f}x")
    print(
        f"\nSQL statements per plain completion (service layer, SQLite): median {statistics.median(statements):.0f}, "
        f"max {max(statements)}"
    )
    print(
        f"state size per instance, median bytes: default {statistics.median(raw_sizes):,.0f}"
        f" · lean {statistics.median(lean_sizes):,.0f}"
        f" ({statistics.median(lean_sizes) / statistics.median(raw_sizes):.0%} of default)"
    )


if __name__ == "__main__":
    main()
