"""The restore drill: back up a database with running processes and a file store, destroy both,
restore, and find the same rows per table, an intact audit chain, the same file bytes and
instances that carry on; a damaged archive is refused before anything is touched."""

import io
import os
import subprocess
import tarfile
from pathlib import Path

from sqlalchemy import text

from tests.conftest import ROOT
from tests.helpers import DATA_BY_TASK, Api
from tests.integration.test_timer_processes import TRACEFLOW
from webapp.extensions import db
from webapp.services.audit import verify_chain
from webapp.services.backup import record_counts


def _cli(app, tmp_path, *args):
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACEFLOW_SECRET_KEY": "test",
        "TRACEFLOW_FILE_STORE_DIR": str(tmp_path / "files"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(TRACEFLOW + list(args), env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def _some_work(app):
    api = Api(app, "requester")
    started = [api.post("/api/v1/process-instances", {"process_key": "change_control"}).get_json() for _ in range(3)]
    for instance in started[:2]:
        [task] = instance["ready_tasks"]
        assert (
            api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": DATA_BY_TASK["submit_request"]}).status_code
            == 200
        )
    return started


def _destroy(app, tmp_path):
    with app.app_context():
        uri = app.config["SQLALCHEMY_DATABASE_URI"]
        if uri.startswith("sqlite"):
            db.session.remove()
            db.engine.dispose()
            path = Path(uri.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    for stored in (tmp_path / "files").rglob("*"):
        if stored.is_file():
            stored.unlink()


def test_back_up_destroy_restore_and_carry_on(app, tmp_path):
    started = _some_work(app)
    store = tmp_path / "files" / "ab" / "abcdef"
    store.parent.mkdir(parents=True)
    store.write_bytes(b"%PDF-1.7 supplier certificate\n")
    with app.app_context():
        before = record_counts()
        assert before["process_instances"] == 3 and before["audit_events"] > 0
    archive = tmp_path / "backups" / "drill.tar.gz"
    made = _cli(app, tmp_path, "backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert "backup written" in made.stdout and archive.is_file()

    _destroy(app, tmp_path)
    assert not store.exists()

    restored = _cli(app, tmp_path, "restore", str(archive), "--yes")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "audit trail intact" in restored.stdout
    with app.app_context():
        assert record_counts() == before
        assert verify_chain().intact
    assert store.read_bytes() == b"%PDF-1.7 supplier certificate\n"
    # The restored instances carry on where they were.
    [task] = started[2]["ready_tasks"]
    api = Api(app, "requester")
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": DATA_BY_TASK["submit_request"]}).status_code == 200


def test_a_damaged_backup_is_refused_and_changes_nothing(app, tmp_path):
    _some_work(app)
    archive = tmp_path / "good.tar.gz"
    assert _cli(app, tmp_path, "backup", str(archive)).returncode == 0
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as good, tarfile.open(damaged, "w:gz") as bad:
        for member in good.getmembers():
            data = good.extractfile(member).read()
            if member.name.startswith("database."):
                data = data[:-16] + b"\0" * 16  # a flipped tail, the manifest's hash unchanged
            bad.addfile(member, io.BytesIO(data))
    with app.app_context():
        before = record_counts()
    refused = _cli(app, tmp_path, "restore", str(damaged), "--yes")
    assert refused.returncode != 0
    assert "damaged" in refused.stderr and "database." in refused.stderr
    with app.app_context():
        assert record_counts() == before and verify_chain().intact
    not_a_backup = tmp_path / "other.tar.gz"
    with tarfile.open(not_a_backup, "w:gz"):
        pass
    answer = _cli(app, tmp_path, "restore", str(not_a_backup), "--yes")
    assert answer.returncode != 0 and "not a Traceflow backup" in answer.stderr
