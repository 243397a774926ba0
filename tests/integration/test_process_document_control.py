"""Document control (processes/document_control/document_control.bpmn) and training that gates
tasks, through the REST API, on SQLite and PostgreSQL.

A version is drafted with its file (an attachment), reviewed in parallel, approved with a signature
(never by its author), training is assigned to every holder of the document's training roles, the
version becomes effective on its date (the timer, fired by services/timers.run_due on the test's
clock) and supersedes the previous one at the same moment; the periodic-review timer opens a review.
Change control's effective step is refused until the documents it names are approved and trained.
"""

import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import CHANGE_REQUEST, DATA_BY_TASK, PASSWORD, Api, Browser, table_snapshot, worker_for
from webapp.extensions import db
from webapp.models import Attachment, AuditEvent
from webapp.models._types import utcnow
from webapp.processes.document_control.models import DocumentVersion, TrainingRecord
from webapp.services.timers import run_due

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _instance(api, instance_id):
    return api.get(f"/api/v1/process-instances/{instance_id}").get_json()


def _ready(api, instance_id, bpmn_id=None):
    tasks = _instance(api, instance_id)["ready_tasks"]
    return [t for t in tasks if bpmn_id is None or t["bpmn_id"] == bpmn_id]


def _complete(api, task, data, meaning=None, expect=200):
    body = {"data": data}
    if meaning:
        body["signature"] = {"password": PASSWORD, "meaning": meaning}
    response = api.post(f"/api/v1/tasks/{task['id']}/complete", body)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def upload(api, name="sop.pdf", data=PDF):
    """Upload a file through the API; its answer."""
    response = api.client.post(
        "/api/v1/attachments",
        data={"file": (io.BytesIO(data), name)},
        headers=api.headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ref(answer):
    return {k: answer[k] for k in ("id", "name", "size", "sha256")}


def draft(
    api,
    number="SOP-QA-001",
    effective=None,
    reviewers=("qa2", "regulatory"),
    roles=("warehouse", "production"),
    quiz=(),
):
    file = upload(api, f"{number}.pdf", PDF + number.encode())
    return {
        "number": number,
        "title": "Document control procedure",
        "doc_type": "sop",
        "change_summary": "First issue.",
        "file": ref(file),
        "effective_date": (effective or date(2027, 1, 4)).isoformat(),
        "review_interval_days": 730,
        "training_days": 14,
        "reviewers": [{"username": u} for u in reviewers],
        "training_roles": [{"role": r} for r in roles],
        "pass_mark_pct": 80,
        "quiz": list(quiz),
    }


def start_and_submit(app, author="qa", **kwargs):
    """Start document control as `author` and complete the draft; (instance id, draft data)."""
    api = Api(app, author)
    instance = api.post("/api/v1/process-instances", {"process_key": "document_control"}).get_json()
    data = draft(api, **kwargs)
    _complete(api, _ready(api, instance["id"], "dc_draft")[0], data)
    return instance["id"], data


def review_all(app, instance_id, decisions=None):
    for task in _ready(Api(app, "qa"), instance_id, "dc_review"):
        reviewer = task["assignee"]
        decision = (decisions or {}).get(reviewer, "approve")
        _complete(Api(app, reviewer), task, {"review_decision": decision, "review_comments": f"{reviewer}: {decision}"})


def approve(app, instance_id, approver="qa2"):
    task = _ready(Api(app, approver), instance_id, "dc_approval")[0]
    return _complete(Api(app, approver), task, {"approval_decision": "approve"}, meaning="approved")


def sign_training(app, username, number):
    api = Api(app, username)
    for record in api.get("/api/v1/training").get_json():
        if record["document"] == number and record["status"] != "completed":
            response = api.post(f"/api/v1/training/{record['id']}/complete", {"password": PASSWORD})
            assert response.status_code == 200, response.get_json()
            assert response.get_json()["status"] == "completed" and response.get_json()["content_hash"]


def _version(number, version):
    db.session.expire_all()
    return db.session.scalar(
        select(DocumentVersion)
        .join(DocumentVersion.document)
        .where(DocumentVersion.version == version, DocumentVersion.document.has(number=number))
    )


def released(app, number="SOP-QA-001", effective=None, **kwargs):
    """A version drafted, reviewed and approved (not yet effective); the instance id."""
    instance_id, _ = start_and_submit(app, number=number, effective=effective, **kwargs)
    review_all(app, instance_id)
    approve(app, instance_id)
    return instance_id


def test_a_version_is_reviewed_approved_trained_and_effective_on_its_date_superseding_the_old(app):
    with app.app_context():
        first = released(app, effective=date(2027, 1, 4))
        api = Api(app, "qa")
        doc = api.get("/api/v1/documents/SOP-QA-001").get_json()
        version_a = doc["versions"][0]
        assert version_a["version"] == "A" and version_a["status"] == "approved"
        assert [a["username"] for a in version_a["approvals"]] == ["qa2"]
        assert version_a["approvals"][0]["meaning"] == "approved" and version_a["approvals"][0]["content_hash"]
        assert {r["reviewer"] for r in version_a["reviews"]} == {"qa2", "regulatory"}
        # Training assigned to every holder of the training roles (warehouse, production), due in 14 days.
        assert {(t["user"], t["role"], t["status"]) for t in version_a["training"]} == {
            ("warehouse", "warehouse", "assigned"),
            ("production", "production", "assigned"),
        }
        # The file is the attachment uploaded with the draft, immutable since the draft completed.
        file = version_a["files"][0]
        assert db.session.get(Attachment, file["id"]).locked_at is not None
        assert api.client.delete(f"/api/v1/attachments/{file['id']}", headers=api.headers).status_code == 409

        # Not effective before its date; effective when the timer fires on it.
        run_due(datetime(2027, 1, 3, 12, tzinfo=utcnow().tzinfo))
        assert _version("SOP-QA-001", "A").status == "approved"
        run_due(datetime(2027, 1, 4, 0, 1, tzinfo=utcnow().tzinfo))
        assert _version("SOP-QA-001", "A").status == "effective"

        # Version B: approved, effective on its own date, and A superseded at that same moment.
        second = released(app, effective=date(2027, 3, 1))
        assert _version("SOP-QA-001", "B").status == "approved" and _version("SOP-QA-001", "A").status == "effective"
        run_due(datetime(2027, 3, 1, 0, 1, tzinfo=utcnow().tzinfo))
        a, b = _version("SOP-QA-001", "A"), _version("SOP-QA-001", "B")
        assert (a.status, b.status) == ("superseded", "effective")
        assert a.superseded_at == b.effective_at
        shown = api.get("/api/v1/documents/SOP-QA-001").get_json()
        assert shown["next_review_at"] == (b.effective_at + timedelta(days=730)).isoformat()
        assert api.get("/api/v1/documents/SOP-QA-001").get_json()["current_version"] == "B"
        # A's periodic review falls due after it was superseded: its instance ends without a review.
        run_due(datetime(2029, 1, 10, tzinfo=utcnow().tzinfo))
        assert _instance(api, first)["status"] == "completed" and _ready(api, first) == []
        assert _instance(api, second)["status"] == "running" and _ready(api, second) == []
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"document.submit", "document.approve", "document.effective", "attachment.upload"} <= actions


def test_the_author_may_not_approve_and_a_change_request_goes_back_to_the_draft(app):
    with app.app_context():
        instance_id, data = start_and_submit(app, author="qa", reviewers=("qa2",))
        review_all(app, instance_id, {"qa2": "changes"})
        assert [t["bpmn_id"] for t in _ready(Api(app, "qa"), instance_id)] == ["dc_draft"]
        assert _version("SOP-QA-001", "A").status == "draft"
        revised = {
            **data,
            "change_summary": "Revised after review.",
            "file": ref(upload(Api(app, "qa"), "v2.pdf", PDF + b"v2")),
        }
        _complete(Api(app, "qa"), _ready(Api(app, "qa"), instance_id, "dc_draft")[0], revised)
        review_all(app, instance_id)
        author = Api(app, "qa")
        task = _ready(author, instance_id, "dc_approval")[0]
        before = table_snapshot()
        refused = author.post(
            f"/api/v1/tasks/{task['id']}/complete",
            {"data": {"approval_decision": "approve"}, "signature": {"password": PASSWORD, "meaning": "approved"}},
        )
        assert refused.status_code == 403
        after = table_snapshot()
        after.pop("audit_events"), before.pop("audit_events")
        assert after == before
        approve(app, instance_id, "qa2")
        version = _version("SOP-QA-001", "A")
        assert version.status == "approved" and version.files[0]["name"] == "v2.pdf"


def test_the_periodic_review_timer_opens_a_review_task(app):
    with app.app_context():
        instance_id = released(app, effective=date(2027, 1, 4))
        fired_at = datetime(2027, 1, 4, 0, 1, tzinfo=utcnow().tzinfo)
        run_due(fired_at)
        assert _ready(Api(app, "qa"), instance_id) == []
        run_due(fired_at + timedelta(days=731))
        task = _ready(Api(app, "qa"), instance_id, "dc_periodic_review")
        assert len(task) == 1
        _complete(
            Api(app, "qa"), task[0], {"periodic_outcome": "obsolete", "periodic_comments": "Replaced by SOP-QA-002."}
        )
        assert _version("SOP-QA-001", "A").status == "obsolete"


def _change_to_effective(app, documents):
    """A minor change naming `documents`, driven to its effective step; (api of QA, the task)."""
    api = Api(app, "requester")
    instance = api.post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    data = {**DATA_BY_TASK, "submit_request": {**CHANGE_REQUEST, "affected_documents": documents}}
    while True:
        task = _instance(api, instance["id"])["ready_tasks"][0]
        if task["bpmn_id"] == "make_effective":
            return task
        worker = Api(app, worker_for(task["bpmn_id"], task["lane"].lower().replace(" ", "_")))
        _complete(worker, task, data[task["bpmn_id"]], task["signature"]["meaning"] if task["signature"] else None)


def test_change_control_becomes_effective_only_once_its_documents_are_approved_and_trained(app):
    with app.app_context():
        task = _change_to_effective(app, [{"doc_no": "SOP-QA-001", "title": "Document control", "revision": "A"}])
        qa = Api(app, "qa")
        before = table_snapshot()
        refused = qa.post(f"/api/v1/tasks/{task['id']}/complete", {"data": DATA_BY_TASK["make_effective"]})
        assert refused.status_code == 422
        assert "SOP-QA-001 revision A is not a controlled document version" in refused.get_json()["message"]
        after = table_snapshot()
        after.pop("audit_events"), before.pop("audit_events")
        assert after == before

        instance_id, _ = start_and_submit(app, number="SOP-QA-001")
        refused = qa.post(f"/api/v1/tasks/{task['id']}/complete", {"data": DATA_BY_TASK["make_effective"]})
        assert "SOP-QA-001 revision A is in_review, not approved" in refused.get_json()["message"]
        review_all(app, instance_id)
        approve(app, instance_id)
        refused = qa.post(f"/api/v1/tasks/{task['id']}/complete", {"data": DATA_BY_TASK["make_effective"]})
        assert refused.status_code == 422
        assert "training not complete for production, warehouse" in refused.get_json()["message"]
        sign_training(app, "warehouse", "SOP-QA-001")
        refused = qa.post(f"/api/v1/tasks/{task['id']}/complete", {"data": DATA_BY_TASK["make_effective"]})
        assert "training not complete for production" in refused.get_json()["message"]
        sign_training(app, "production", "SOP-QA-001")
        done = _complete(qa, task, DATA_BY_TASK["make_effective"])
        assert done["process_instance"]["status"] == "completed"
        refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.gate_refused")).all()
        assert len(refusals) == 4


def test_training_is_a_read_and_understood_signature_of_the_trainee_only(app):
    with app.app_context():
        released(app)
        record = db.session.scalar(select(TrainingRecord).where(TrainingRecord.user.has(username="warehouse")))
        assert (
            Api(app, "production").post(f"/api/v1/training/{record.id}/complete", {"password": PASSWORD}).status_code
            == 403
        )
        assert (
            Api(app, "warehouse").post(f"/api/v1/training/{record.id}/complete", {"password": "wrong"}).status_code
            == 401
        )
        signed = Api(app, "warehouse").post(f"/api/v1/training/{record.id}/complete", {"password": PASSWORD}).get_json()
        assert signed["meaning"] == "read_and_understood" and signed["printed_name"] == "Warehouse"
        again = Api(app, "warehouse").post(f"/api/v1/training/{record.id}/complete", {"password": PASSWORD})
        assert again.status_code == 409


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pages_show_the_register_the_document_and_my_training(app):
    with app.app_context():
        released(app)
    qa = Browser(app, "qa")
    register = qa.get("/erp/documents").get_data(as_text=True)
    assert "SOP-QA-001" in register
    page = qa.get("/erp/documents/SOP-QA-001").get_data(as_text=True)
    assert "SOP-QA-001.pdf" in page and "Qa2" in page
    warehouse = Browser(app, "warehouse")
    mine = warehouse.get("/erp/training").get_data(as_text=True)
    assert "SOP-QA-001" in mine and "signature_password" in mine
    with app.app_context():
        record = db.session.scalar(select(TrainingRecord).where(TrainingRecord.user.has(username="warehouse")))
        record_id = record.id
    response = warehouse.post(
        f"/erp/training/{record_id}/sign", {"signature_username": "warehouse", "signature_password": PASSWORD}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(TrainingRecord, record_id).status == "completed"
    matrix = qa.get("/erp/training/matrix").get_data(as_text=True)
    assert 'data-user="warehouse"' in matrix and 'data-user="production"' in matrix
    rows = qa.get("/erp/training/matrix.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert rows[0] == "user,name,SOP-QA-001 A"
    assert {"warehouse,Warehouse,completed", "production,Production,assigned"} <= set(rows[1:])
    assert warehouse.get("/erp/training/matrix.csv").status_code == 403
    record_page = qa.get("/erp/training/users/warehouse").get_data(as_text=True)
    assert "SOP-QA-001" in record_page and "signature_password" not in record_page and "已阅读并理解" in record_page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_demo_has_effective_sops_one_under_review_and_one_user_with_overdue_training(app):
    from tests.helpers import USERS
    from webapp.processes.document_control.demo import load_demo

    with app.app_context():
        load_demo(dict.fromkeys(USERS, PASSWORD))
        load_demo(dict.fromkeys(USERS, PASSWORD))  # idempotent
        documents = {d["number"]: d for d in Api(app, "qa").get("/api/v1/documents").get_json()}
        assert {n: d["status"] for n, d in documents.items()} == {
            "SOP-STE-004": "effective",
            "WI-WH-002": "effective",
            "SOP-QA-010": "in_review",
        }
        training = {
            (t["user"], t["document"]): t["status"]
            for d in documents.values()
            for v in d["versions"]
            for t in v["training"]
        }
        assert training[("production", "SOP-STE-004")] == "overdue"
        assert training[("warehouse", "SOP-STE-004")] == "completed"


def test_overdue_training_tells_the_trainee_and_escalates_to_the_qa_manager_once(app):
    from webapp.models import Notification
    from webapp.processes.document_control.training import remind_overdue

    with app.app_context():
        released(app)  # training due in 14 days for warehouse and production
        assert remind_overdue() == 0
        sign_training(app, "warehouse", "SOP-QA-001")
        later = utcnow() + timedelta(days=15)
        assert remind_overdue(later) == 2  # production, and the one QA manager
        assert remind_overdue(later) == 0  # once per record
        told = {
            (n.kind, n.subject)
            for n in db.session.scalars(select(Notification).where(Notification.kind.in_(("overdue", "escalated"))))
        }
        assert told == {
            ("overdue", "Training overdue: SOP-QA-001 A Document control procedure"),
            ("escalated", "Escalated, training overdue: production on SOP-QA-001 A Document control procedure"),
        }
        runner = app.test_cli_runner()
        assert "queued 0 reminder(s)" in runner.invoke(args=["timers", "notify"]).output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_draft_is_written_on_its_task_page_with_the_file_chosen_there(app):
    author = Browser(app, "qa")
    started = author.post("/processes/document_control/start", {})
    task_url = started.headers["Location"]
    page = author.get(task_url).get_data(as_text=True)
    assert 'type="file" name="file"' in page and 'name="reviewers-0-username"' in page
    form = {
        "number": "WI-PK-007",
        "title": "包装作业指导书",
        "doc_type": "work_instruction",
        "change_summary": "首次发布。",
        "effective_date": "2027-02-01",
        "review_interval_days": "365",
        "training_days": "7",
        "reviewers-0-username": "qa2",
        "training_roles-0-role": "production",
        "pass_mark_pct": "80",
    }
    missing = author.post(task_url, form, content_type="multipart/form-data")
    assert missing.status_code == 400 and 'has-error" data-field="file"' in missing.get_data(as_text=True)
    done = author.post(
        task_url, {**form, "file": (io.BytesIO(PDF), "WI-PK-007 包装.pdf")}, content_type="multipart/form-data"
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    with app.app_context():
        version = _version("WI-PK-007", "A")
        assert version.status == "in_review" and version.files[0]["name"] == "WI-PK-007 包装.pdf"
        assert version.document.training_roles == ["production"] and version.document.review_interval_days == 365


def test_training_goes_to_every_active_holder_of_the_roles(app):
    from webapp.services.users import create_user

    with app.app_context():
        create_user("qa3", "Another-Quality-Pass-7", ["qa"])
        create_user("qa4", "Another-Quality-Pass-8", ["qa"])
        from tests.helpers import user

        user("qa4").active = False
        db.session.commit()
        released(app, roles=("qa", "mrb"))
        trainees = {
            (t["user"], t["role"])
            for t in Api(app, "qa").get("/api/v1/documents/SOP-QA-001").get_json()["versions"][0]["training"]
        }
        assert trainees == {("qa", "qa"), ("qa2", "qa"), ("qa3", "qa"), ("mrb", "mrb")}


QUIZ = [
    {"question": "How long is the EO pre-conditioning?", "choices": "60 min | 75 min | 90 min", "answer": "75 min"},
    {"question": "Who releases the lot?", "choices": "Production | QA", "answer": "QA"},
]


def test_a_quiz_with_a_pass_mark_is_part_of_the_training(app):
    with app.app_context():
        instance_id, _ = start_and_submit(app, roles=("warehouse",), quiz=QUIZ)
        review_all(app, instance_id)
        approve(app, instance_id)
    api = Api(app, "warehouse")
    [record] = api.get("/api/v1/training").get_json()
    assert record["quiz"] == [
        {"question": "How long is the EO pre-conditioning?", "choices": ["60 min", "75 min", "90 min"]},
        {"question": "Who releases the lot?", "choices": ["Production", "QA"]},
    ]  # the answers are not shown
    page = Browser(app, "warehouse")
    shown = page.get("/erp/training").get_data(as_text=True)
    assert 'name="answer-1" value="QA"' in shown and "须答对至少 80%" in shown
    wrong = {"signature_username": "warehouse", "signature_password": PASSWORD, "answer-0": "60 min", "answer-1": "QA"}
    page.post(f"/erp/training/{record['id']}/sign", wrong)
    assert "测验得分 50% 低于及格线 80%" in page.get("/erp/training").get_data(as_text=True)
    url = f"/api/v1/training/{record['id']}/complete"
    assert api.post(url, {"password": PASSWORD}).status_code == 400
    failed = api.post(url, {"password": PASSWORD, "answers": ["75 min", "Production"]})
    assert failed.status_code == 422 and "quiz score 50% is below the pass mark of 80%" in failed.get_json()["message"]
    [again] = api.get("/api/v1/training").get_json()
    assert (again["status"], again["attempts"], again["quiz_score_pct"]) == ("assigned", 2, 50)
    passed = api.post(url, {"password": PASSWORD, "answers": ["75 min", "QA"]}).get_json()
    assert (passed["status"], passed["attempts"], passed["quiz_score_pct"]) == ("completed", 3, 100)
    assert 'name="answer-1"' not in page.get("/erp/training").get_data(as_text=True)  # completed: no form
    with app.app_context():
        events = [
            e.action
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.entity_type == "training_record").order_by(AuditEvent.seq)
            )
        ]
        assert events == ["training.quiz_failed", "training.quiz_failed", "training.complete"]
