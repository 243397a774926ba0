"""Deploy, validate and version BPMN bundles; migrate running instances; the deployment API."""

import io
import zipfile

import pytest
from sqlalchemy import func, select

from engine import ProcessBundle, SourceFile
from tests.conftest import ROOT
from tests.helpers import Api, signature_for, table_snapshot, user
from webapp.errors import DeploymentInvalid
from webapp.extensions import db
from webapp.models import ProcessVersion
from webapp.services import instances, migrations, queries, tasks
from webapp.services.deployments import deploy_bundle

FIXTURES = ROOT / "tests" / "fixtures"
CC_FILES = [
    ROOT / "processes" / "change_control" / "change_control.bpmn",
    ROOT / "processes" / "change_control" / "change_classification.dmn",
    *sorted((ROOT / "processes" / "change_control").glob("*.json")),
]


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def _bundle(name, text):
    return ProcessBundle([SourceFile(name, text)])


def _open_task(instance):
    return [r for r in queries.instance_tasks(instance.id) if r.completed_at is None][0]


def test_migrate_safe_instances_and_refuse_unsafe_ones(ctx):
    deploy_bundle(ProcessBundle.from_paths(FIXTURES / "migration" / "v1.bpmn"))
    at_first = instances.start_instance(user("qa"), "two_steps")
    at_second = instances.start_instance(user("qa"), "two_steps")
    tasks.complete_task(user("qa"), _open_task(at_second).task_id, {})
    [v2] = deploy_bundle(_bundle("two_steps.bpmn", (FIXTURES / "migration" / "v2.bpmn").read_text()))
    assert v2.version == 2 and v2.created
    checks = {c.instance.id: c.check for c in migrations.candidates("two_steps", 2)}
    assert checks[at_first.id].safe and checks[at_first.id].added == ("third",)
    assert checks[at_first.id].changed == ("second",)
    assert not checks[at_second.id].safe and "Second step" in checks[at_second.id].reasons[0]
    results = migrations.migrate_batch(user("admin"), [at_first.id, at_second.id], 2, "Add the third step")
    assert results[at_first.id] == "migrated" and "unsafe" in results[at_second.id]
    moved = instances.get_instance(at_first.id)
    assert moved.version.version == 2
    for _ in range(3):
        tasks.complete_task(user("qa"), _open_task(moved).task_id, {})
    assert instances.get_instance(at_first.id).status == "completed"
    assert instances.get_instance(at_second.id).version.version == 1
    actions = [e.action for e in queries.instance_events(instances.get_instance(at_second.id))]
    assert "instance.migrate_refused" in actions


@pytest.mark.parametrize(
    "mutation, message",
    [
        (('name="提交变更申请"', 'name="提交变更申请" bogusAttribute="1"'), "bogusAttribute"),
        (('approval_decision == "approve"', "approval_decision = = 'approve'"), "condition does not compile"),
        (("closed = True", "import os"), "Import is not allowed"),
        (('value="approved"', 'value="okayed"'), "signature meaning 'okayed'"),
        (('value="approval-schema.json"', 'value="missing-schema.json"'), "form file missing-schema.json"),
        (
            (
                "<spiffworkflow:calledDecisionId>change_classification<",
                "<spiffworkflow:calledDecisionId>no_such_table<",
            ),
            "no_such_table",
        ),
    ],
)
def test_each_validation_error_is_reported_and_nothing_is_deployed(ctx, mutation, message):
    files = {p.name: p.read_text() for p in CC_FILES}
    files["change_control.bpmn"] = files["change_control.bpmn"].replace(*mutation)
    assert mutation[1] in files["change_control.bpmn"]
    before = table_snapshot()
    with pytest.raises(DeploymentInvalid) as info:
        deploy_bundle(ProcessBundle([SourceFile(n, t) for n, t in files.items()]))
    rows = info.value.errors["errors"]
    assert any(message in row["message"] for row in rows), rows
    assert all({"file", "line", "element", "message"} <= set(row) for row in rows)
    assert table_snapshot() == before


def test_service_operations_must_be_registered(ctx):
    bpmn = (
        (FIXTURES / "rework_loop.bpmn")
        .read_text()
        .replace(
            '<bpmn:scriptTask id="count" name="Count">',
            '<bpmn:serviceTask id="count" name="Count"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator '
            'id="erp.nothing"><spiffworkflow:parameters /></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>',
        )
        .replace("<bpmn:script>finished = True</bpmn:script></bpmn:scriptTask>", "</bpmn:serviceTask>")
    )
    with pytest.raises(DeploymentInvalid) as info:
        deploy_bundle(_bundle("loop.bpmn", bpmn))
    assert "'erp.nothing' is not registered" in info.value.errors["errors"][0]["message"]


def test_dmn_cells_are_compiled_in_the_sandbox(ctx):
    files = {p.name: p.read_text() for p in CC_FILES}
    dmn = files["change_classification.dmn"]
    first_output = dmn.index("<outputEntry")
    text_start = dmn.index("<text>", first_output) + len("<text>")
    files["change_classification.dmn"] = dmn[:text_start] + "__import__('os')" + dmn[dmn.index("</text>", text_start) :]
    with pytest.raises(DeploymentInvalid) as info:
        deploy_bundle(ProcessBundle([SourceFile(n, t) for n, t in files.items()]))
    assert any(r["file"] == "change_classification.dmn" for r in info.value.errors["errors"])


def test_lanes_naming_new_roles_are_warnings_and_roles_are_created(ctx):
    from webapp.models import Role

    text = (FIXTURES / "two_signers" / "dual_release.bpmn").read_text().replace('name="QA"', 'name="Release Board"')
    outcome = deploy_bundle(_bundle("dual.bpmn", text))
    assert any("release_board" in w["message"] for w in outcome.warnings)
    assert db.session.scalar(select(Role).where(Role.name == "release_board")) is not None


@pytest.mark.parametrize(
    "payload",
    [
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><l>&d;</l>',
    ],
)
def test_xxe_and_billion_laughs_uploads_are_refused_over_the_api(app, payload):
    api = Api(app, "admin")
    response = api.client.post(
        "/api/v1/deployments",
        headers=api.headers,
        content_type="multipart/form-data",
        data={"files": [(io.BytesIO(payload.encode()), "evil.bpmn")]},
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"][0]["file"] == "evil.bpmn" and "DOCTYPE" in body["errors"][0]["message"]
    assert "root:" not in response.get_data(as_text=True)


def test_deployment_api_accepts_a_zip_and_identical_redeploy_creates_no_version(app):
    api = Api(app, "admin")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in CC_FILES:
            archive.write(path, f"model/{path.name}")
        archive.writestr("model/process_model.json", "{}")
    response = api.client.post(
        "/api/v1/deployments",
        headers=api.headers,
        content_type="multipart/form-data",
        data={"files": [(io.BytesIO(buffer.getvalue()), "cc.zip")], "comment": "same"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) >= {"id", "processes"}
    assert body["processes"] == [
        {"key": "change_control", "version": 1, "content_hash": body["processes"][0]["content_hash"], "created": False}
    ]
    assert Api(app, "qa").client.post("/api/v1/deployments", headers=Api(app, "qa").headers).status_code == 403


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in members:
            archive.writestr(zipfile.ZipInfo(name), text)
    return buffer.getvalue()


def _lie(data, name, offset, value):
    """`data` with a 32-bit field of `name`'s headers (central directory at `offset`, local header at
    `offset - 2`: 16/14 CRC-32, 24/22 uncompressed size) set to `value`, as a damaged archive has it."""
    import struct

    data = bytearray(data)
    for signature, field in ((b"PK\x01\x02", offset), (b"PK\x03\x04", offset - 2)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_at = start + (46 if signature == b"PK\x01\x02" else 30)
            if data[name_at : name_at + len(name)] == name.encode():
                struct.pack_into("<I", data, start + field, value)
            start += 4
    return bytes(data)


TWO_STEPS = (FIXTURES / "migration" / "v1.bpmn").read_text()
CRC, SIZE = 16, 24


@pytest.mark.parametrize(
    "upload, member, message",
    [
        (
            ("b.zip", _zip([("two_steps.bpmn", TWO_STEPS), ("../../x.bpmn", TWO_STEPS)])),
            "../../x.bpmn",
            "parent folder",
        ),
        (("b.zip", _zip([("two_steps.bpmn", TWO_STEPS), ("model/../../x.dmn", "<x/>")])), "model/../../x.dmn", ".."),
        (("b.zip", _zip([("two_steps.bpmn", TWO_STEPS), ("/etc/x.json", "{}")])), "/etc/x.json", "absolute path"),
        (("b.zip", _zip([("two_steps.bpmn", TWO_STEPS), ("model\\x.bpmn", TWO_STEPS)])), "model\\x.bpmn", "backslash"),
        (("b.zip", _zip([("two_steps.bpmn", TWO_STEPS), ("C:x.json", "{}")])), "C:x.json", "drive letter"),
        (("b.zip", _zip([("two_steps.bpmn", TWO_STEPS), ("C:/x.json", "{}")])), "C:/x.json", "drive letter"),
        (("b.zip", _zip([("ok/", ""), ("../", "")])), "../", "parent folder"),
        (
            ("b.zip", _lie(_zip([("two_steps.bpmn", TWO_STEPS)]), "two_steps.bpmn", CRC, 0xDEADBEEF)),
            "two_steps.bpmn",
            "CRC",
        ),
        (
            ("b.zip", _lie(_zip([("two_steps.bpmn", TWO_STEPS)]), "two_steps.bpmn", SIZE, 10)),
            "two_steps.bpmn",
            "damaged",
        ),
        (
            ("b.zip", _lie(_zip([("two_steps.bpmn", TWO_STEPS)]), "two_steps.bpmn", SIZE, len(TWO_STEPS) + 100)),
            "two_steps.bpmn",
            "header says",
        ),
        (("../../two_steps.bpmn", TWO_STEPS.encode()), "../../two_steps.bpmn", "parent folder"),
    ],
)
def test_zip_members_with_unsafe_names_or_lying_headers_are_422_and_deploy_nothing(app, upload, member, message):
    api = Api(app, "admin")
    with app.app_context():
        before = table_snapshot()
    name, data = upload
    response = api.client.post(
        "/api/v1/deployments",
        headers=api.headers,
        content_type="multipart/form-data",
        data={"files": [(io.BytesIO(data if isinstance(data, bytes) else data.encode()), name)]},
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    errors = response.get_json()["errors"]
    assert any(e["file"] == member and message in e["message"] for e in errors), errors
    with app.app_context():
        assert table_snapshot() == before


def test_production_mode_waits_for_a_signed_qa_approval(app):
    app.config["DEPLOYMENT_APPROVAL"] = True
    admin = Api(app, "admin")
    v2 = (FIXTURES / "migration" / "v2.bpmn").read_bytes()
    v1 = (FIXTURES / "migration" / "v1.bpmn").read_bytes()
    first = admin.client.post(
        "/api/v1/deployments",
        headers=admin.headers,
        content_type="multipart/form-data",
        data={"files": [(io.BytesIO(v1), "two_steps.bpmn")]},
    ).get_json()
    assert first["status"] == "pending"
    requester = Api(app, "requester")
    assert requester.post("/api/v1/process-instances", {"process_key": "two_steps"}).status_code == 404
    qa = Api(app, "qa")
    wrong = qa.post(
        f"/api/v1/deployments/{first['id']}/decision",
        {"approve": True, "signature": {"password": "nope-nope-nope", "meaning": "approved"}},
    )
    assert wrong.status_code == 401
    ok = qa.post(
        f"/api/v1/deployments/{first['id']}/decision", {"approve": True, "signature": signature_for("approved")}
    )
    assert ok.get_json() == {"id": first["id"], "status": "active"}
    assert requester.post("/api/v1/process-instances", {"process_key": "two_steps"}).status_code == 201
    second = admin.client.post(
        "/api/v1/deployments",
        headers=admin.headers,
        content_type="multipart/form-data",
        data={"files": [(io.BytesIO(v2), "two_steps.bpmn")]},
    ).get_json()
    rejected = qa.post(f"/api/v1/deployments/{second['id']}/decision", {"approve": False, "reason": "Not trained"})
    assert rejected.get_json()["status"] == "rejected"
    started = requester.post("/api/v1/process-instances", {"process_key": "two_steps"}).get_json()
    assert started["version"] == 1


def test_pinned_version_on_start(ctx):
    deploy_bundle(ProcessBundle.from_paths(FIXTURES / "migration" / "v1.bpmn"))
    deploy_bundle(_bundle("two_steps.bpmn", (FIXTURES / "migration" / "v2.bpmn").read_text()))
    assert instances.start_instance(user("qa"), "two_steps").version.version == 2
    assert instances.start_instance(user("qa"), "two_steps", version_number=1).version.version == 1
    assert (
        db.session.scalar(select(func.count()).select_from(ProcessVersion).where(ProcessVersion.key == "two_steps"))
        == 2
    )


def test_migration_api_refuses_unsafe_with_the_reason(app):
    with app.app_context():
        deploy_bundle(ProcessBundle.from_paths(FIXTURES / "migration" / "v1.bpmn"))
        instance = instances.start_instance(user("qa"), "two_steps")
        tasks.complete_task(user("qa"), _open_task(instance).task_id, {})
        deploy_bundle(_bundle("two_steps.bpmn", (FIXTURES / "migration" / "v2.bpmn").read_text()))
        instance_id = instance.id
    response = Api(app, "admin").post(
        f"/api/v1/process-instances/{instance_id}/migrate", {"version": 2, "reason": "try"}
    )
    assert response.status_code == 409 and "Second step" in response.get_json()["message"]
    assert (
        Api(app, "qa")
        .post(f"/api/v1/process-instances/{instance_id}/migrate", {"version": 2, "reason": "x"})
        .status_code
        == 403
    )


def test_missing_called_process_is_reported(ctx):
    with pytest.raises(DeploymentInvalid) as info:
        deploy_bundle(ProcessBundle.from_paths(FIXTURES / "call" / "parent.bpmn"))
    assert any("call_child" in row["message"] for row in info.value.errors["errors"])


def test_called_process_already_deployed_resolves(ctx):
    deploy_bundle(ProcessBundle.from_paths(FIXTURES / "call" / "child.bpmn"))
    [parent] = list(deploy_bundle(ProcessBundle.from_paths(FIXTURES / "call" / "parent.bpmn")))
    assert parent.key == "call_parent" and parent.created


def test_validate_command_reports_and_exits_non_zero(app, tmp_path):
    bad = (FIXTURES / "rework_loop.bpmn").read_text().replace("finished = True", "import os")
    (tmp_path / "loop.bpmn").write_text(bad)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["validate", str(tmp_path)])
    assert result.exit_code == 1 and "loop.bpmn" in result.output and "Import is not allowed" in result.output
    ok = runner.invoke(args=["validate", str(FIXTURES / "migration" / "v1.bpmn")])
    assert ok.exit_code == 0 and "ok two_steps" in ok.output
