"""Attachments (webapp/services/attachments): upload and download through the API and the task
pages, on SQLite and PostgreSQL — bytes and hash unchanged, refused types and sizes storing
nothing, audit events carrying the hash, task-form fields keeping {id, name, size, sha256},
immutability once the task completes, the record PDF listing them; and a task that requires
training (`requiresTraining`) refused to an untrained user and accepted after training.

The fixture process tests/fixtures/gated_task has one Warehouse task with an attachment field
and `requiresTraining="SOP-WH-001"`.
"""

import hashlib
import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.helpers import Api, Browser, table_snapshot
from tests.integration.test_process_document_control import (
    PDF,
    approve,
    ref,
    review_all,
    sign_training,
    start_and_submit,
    upload,
)
from webapp.extensions import db
from webapp.models import Attachment, AuditEvent

ROOT = Path(__file__).resolve().parents[2]
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 200


def _post(api, name, data):
    return api.client.post(
        "/api/v1/attachments",
        data={"file": (io.BytesIO(data), name)},
        headers=api.headers,
        content_type="multipart/form-data",
    )


def _files(app):
    root = Path(app.config["FILE_STORE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_upload_and_download_are_byte_identical_with_the_hash_and_audited(app):
    with app.app_context():
        api = Api(app, "qa")
        answer = upload(api, "供应商证书 ISO 13485.pdf", PDF)
        assert answer["size"] == len(PDF) and answer["content_type"] == "application/pdf"
        assert answer["sha256"] == hashlib.sha256(PDF).hexdigest() and answer["name"] == "供应商证书 ISO 13485.pdf"
        assert answer["url"] == f"/api/v1/attachments/{answer['id']}"
        response = Api(app, "warehouse").get(answer["url"])
        assert response.status_code == 200 and response.data == PDF
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "filename*=UTF-8''%E4%BE%9B" in disposition
        assert hashlib.sha256(response.data).hexdigest() == answer["sha256"]
        events = {
            e.action: e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "attachment"))
        }
        assert events["attachment.upload"].after["sha256"] == answer["sha256"]
        assert events["attachment.download"].after["sha256"] == answer["sha256"]
        assert events["attachment.download"].actor_name == "warehouse"
        # The same bytes again: a second row, the one stored file.
        upload(api, "copy.pdf", PDF)
        assert len(_files(app)) == 1


@pytest.mark.parametrize(
    "name, data, status, message",
    [
        ("certificate.pdf", EXE, 422, "application/x-msdownload"),
        ("notes.txt", EXE, 422, "may not be attached"),
        ("photo.png", PDF, 422, "the content is PDF but the name ends in '.png'"),
        ("archive.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 100, 422, "may not be attached"),
    ],
)
def test_a_disguised_executable_or_misnamed_file_is_refused_and_nothing_is_stored(app, name, data, status, message):
    with app.app_context():
        api = Api(app, "qa")
        before = table_snapshot()
        response = _post(api, name, data)
        assert response.status_code == status and message in response.get_json()["message"], response.get_json()
        after = table_snapshot()
        earlier = before.pop("audit_events")
        refusal = [e for e in after.pop("audit_events") if e not in earlier]
        assert after == before and _files(app) == []
        assert len(refusal) == 1 and "attachment.upload_refused" in refusal[0]


def test_an_oversize_file_is_refused_with_the_limit_named(app):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    with app.app_context():
        response = _post(Api(app, "qa"), "big.txt", b"x" * 1025)
        assert response.status_code == 413
        assert "larger than the limit of 0.0 MB" in response.get_json()["message"]
        assert db.session.scalar(select(func.count(Attachment.id))) == 0 and _files(app) == []
        assert _post(Api(app, "qa"), "small.txt", b"x" * 1024).status_code == 201
        # Far over the limit: refused before the body is parsed, with the API's error body.
        huge = _post(Api(app, "qa"), "huge.txt", b"x" * (200 * 1024))
        assert huge.status_code == 413 and huge.get_json()["code"] == 413
        assert db.session.scalar(select(func.count(Attachment.id))) == 1


def test_names_are_sanitized_and_sent_back_safely(app):
    with app.app_context():
        api = Api(app, "qa")
        answer = upload(api, "../../etc/<img src=x onerror=alert(1)>\u202ereport.txt", b"plain text\n")
        assert answer["name"] == "_img src=x onerror=alert(1)_report.txt"
        response = api.get(answer["url"])
        assert response.data == b"plain text\n"
        disposition = response.headers["Content-Disposition"]
        assert "<" not in disposition and "/" not in disposition.split("filename*=")[0]
        assert response.headers["Content-Type"] == "text/plain"


def _deploy_gated(app):
    from engine import ProcessBundle
    from webapp.services.deployments import deploy_bundle

    with app.app_context():
        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "gated_task"))


def _effective_sop(app):
    """SOP-WH-001 approved and effective, training assigned to the warehouse role."""
    from datetime import datetime

    from webapp.models._types import utcnow
    from webapp.services.timers import run_due

    instance_id, _ = start_and_submit(app, number="SOP-WH-001", effective=date(2026, 1, 1), roles=("warehouse",))
    review_all(app, instance_id)
    approve(app, instance_id)
    run_due(datetime(2026, 1, 1, 0, 1, tzinfo=utcnow().tzinfo) if utcnow().year < 2026 else utcnow())


def _gated_task(app):
    _deploy_gated(app)
    api = Api(app, "warehouse")
    instance = Api(app, "qa").post("/api/v1/process-instances", {"process_key": "gated_release"}).get_json()
    return api, instance, instance["ready_tasks"][0]


def test_a_task_requiring_training_is_refused_to_the_untrained_and_accepted_after_training(app):
    with app.app_context():
        api, instance, task = _gated_task(app)
        listing = upload(api, "packing-list.csv", b"item,qty\nCK-100,20\n")
        body = {"data": {"packing_list": ref(listing)}}
        refused = api.post(f"/api/v1/tasks/{task['id']}/claim")
        assert refused.status_code == 403 and "SOP-WH-001 has no effective version" in refused.get_json()["message"]
        _effective_sop(app)
        refused = api.post(f"/api/v1/tasks/{task['id']}/complete", body)
        assert refused.status_code == 403
        assert "no completed training on SOP-WH-001 revision A" in refused.get_json()["message"]
        assert api.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 403
        sign_training(app, "warehouse", "SOP-WH-001")
        assert api.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
        done = api.post(f"/api/v1/tasks/{task['id']}/complete", body)
        assert done.status_code == 200, done.get_json()
        assert done.get_json()["process_instance"]["data"]["packing_list"] == ref(listing)
        refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.gate_refused")).all()
        assert len(refusals) == 3
        # The completion records the completer's training at that moment; the record PDF names it.
        completed = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "task.complete", AuditEvent.entity_id == task["id"])
        )
        [trained] = completed.after["training"]
        assert (trained["document"], trained["revision"], trained["user"]) == ("SOP-WH-001", "A", "warehouse")
        pdf = Browser(app, "qa").get(f"/audit/instances/{instance['id']}.pdf")
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
        assert "SOP-WH-001 A" in text and trained["content_hash"] in text


def _trained_warehouse(app):
    _effective_sop(app)
    sign_training(app, "warehouse", "SOP-WH-001")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_form_attachment_must_be_the_upload_and_is_immutable_once_the_task_completes(app):
    with app.app_context():
        api, instance, task = _gated_task(app)
        _trained_warehouse(app)
        mine = upload(api, "packing-list.csv", b"item,qty\nCK-100,20\n")
        theirs = upload(Api(app, "qa"), "other.txt", b"someone else's\n")
        stray = upload(api, "mistake.txt", b"uploaded by mistake\n")
        wrong = {"data": {"packing_list": {**ref(mine), "sha256": "0" * 64}}}
        response = api.post(f"/api/v1/tasks/{task['id']}/complete", wrong)
        assert response.status_code == 400 and response.get_json()["errors"] == {
            "packing_list": "does not match an uploaded file"
        }
        response = api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": {"packing_list": ref(theirs)}})
        assert response.get_json()["errors"] == {"packing_list": "uploaded by another user"}
        assert (
            api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": {"packing_list": ref(mine)}}).status_code == 200
        )
        row = db.session.get(Attachment, mine["id"])
        assert row.locked_at is not None and (row.owner_type, row.owner_id) == ("task", task["id"])
        assert api.client.delete(mine["url"], headers=api.headers).status_code == 409
        assert api.client.delete(stray["url"], headers=api.headers).status_code == 204
        assert api.get(mine["url"]).data == b"item,qty\nCK-100,20\n"
        # The record PDF lists the attachment by name and hash.
        pdf = Browser(app, "qa").get(f"/audit/instances/{instance['id']}.pdf")
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
        assert "packing-list.csv" in text and mine["sha256"] in text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_task_page_renders_a_file_input_and_stores_the_chosen_file(app):
    with app.app_context():
        _, instance, task = _gated_task(app)
        _trained_warehouse(app)
    browser = Browser(app, "warehouse")
    page = browser.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert 'type="file" name="packing_list"' in page and 'enctype="multipart/form-data"' in page
    refused = browser.post(
        f"/tasks/{task['id']}", {"packing_list": (io.BytesIO(EXE), "list.pdf")}, content_type="multipart/form-data"
    )
    assert refused.status_code == 400 and "文件类型不允许" in refused.get_data(as_text=True)
    done = browser.post(
        f"/tasks/{task['id']}",
        {"packing_list": (io.BytesIO(b"item,qty\nCK-100,20\n"), "装箱单.csv"), "note": "ok"},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(Attachment).where(Attachment.name == "装箱单.csv"))
        assert row.locked_at is not None and row.owner_id == task["id"]
        data = Api(app, "qa").get(f"/api/v1/process-instances/{instance['id']}").get_json()["data"]
        assert data["packing_list"] == {"id": row.id, "name": "装箱单.csv", "size": row.size, "sha256": row.sha256}
    shown = browser.get(f"/instances/{instance['id']}").get_data(as_text=True)
    assert f'href="/attachments/{row.id}">装箱单.csv</a>' in shown and row.sha256 in shown and "附件" in shown
    download = browser.get(f"/attachments/{row.id}")
    assert download.data == b"item,qty\nCK-100,20\n" and download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_inbox_and_the_task_page_say_why_a_gated_task_is_refused(app):
    with app.app_context():
        _, _instance, task = _gated_task(app)
        _effective_sop(app)
    browser = Browser(app, "warehouse")
    inbox = browser.get("/").get_data(as_text=True)
    assert "未完成 SOP-WH-001 版本 A 的培训" in inbox
    assert "未完成 SOP-WH-001 版本 A 的培训" in browser.get(f"/tasks/{task['id']}").get_data(as_text=True)
    refused = browser.post(f"/tasks/{task['id']}/claim", {})
    assert refused.status_code == 302
    assert "未完成 SOP-WH-001 版本 A 的培训" in browser.get("/").get_data(as_text=True)
    sign_training(app, "warehouse", "SOP-WH-001")
    assert "SOP-WH-001 版本 A" not in browser.get("/").get_data(as_text=True)
    assert browser.post(f"/tasks/{task['id']}/claim", {}).headers["Location"].endswith(f"/tasks/{task['id']}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_supplier_qualification_keeps_the_scanned_certificates_as_an_attachment(app):
    from tests.erp_world import build_world
    from tests.integration.test_process_supplier_qualification import certificates, request

    with app.app_context():
        build_world()
    purchasing = Api(app, "purchasing")
    instance = purchasing.post("/api/v1/process-instances", {"process_key": "supplier_qualification"}).get_json()
    for bpmn_id, data in (("sq_request", request()), ("sq_documents", None)):
        [task] = [t for t in instance["ready_tasks"] if t["bpmn_id"] == bpmn_id]
        if data is None:
            scan = upload(purchasing, "ISO 13485 证书.pdf", PDF + b"certificate scan")
            data = {**certificates(), "certificates_file": ref(scan)}
        response = purchasing.post(f"/api/v1/tasks/{task['id']}/complete", {"data": data})
        assert response.status_code == 200, response.get_json()
        instance = response.get_json()["process_instance"]
    assert instance["data"]["certificates_file"] == ref(scan)
    with app.app_context():
        assert db.session.get(Attachment, scan["id"]).locked_at is not None
