"""Process definition, diagram, diff, deployment and migration pages."""

import io
import re

from lxml import etree

from tests.conftest import ROOT
from tests.helpers import DATA_BY_TASK, PASSWORD, Browser

FIXTURES = ROOT / "tests" / "fixtures"


def _svg(response):
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    return etree.fromstring(response.data)


def _classes(svg, element_id):
    [group] = svg.xpath(f"//*[@id='el-{element_id}']")
    return group.get("class").split()


def test_instance_diagram_shows_states_and_path(app):
    requester = Browser(app, "requester")
    task_id = requester.post("/processes/change_control/start").headers["Location"].rsplit("/", 1)[-1]
    from tests.web.test_web import form_fields

    instance_url = requester.post(f"/tasks/{task_id}", form_fields(DATA_BY_TASK["submit_request"])).headers["Location"]
    instance_id = instance_url.split("?")[0].rsplit("/", 1)[-1]  # the page after a completion: ?done=1
    page = requester.get(instance_url).get_data(as_text=True)
    assert f"/definitions/instances/{instance_id}/diagram.svg" in page
    svg = _svg(requester.get(f"/definitions/instances/{instance_id}/diagram.svg"))
    assert "state-completed" in _classes(svg, "submit_request")
    assert "state-active" in _classes(svg, "impact_assessment")
    assert not any(c.startswith("state-") for c in _classes(svg, "qa_approval"))
    taken = svg.xpath("//*[contains(concat(' ', @class, ' '), ' taken ')]/@id")
    assert taken, "the path taken is highlighted"


def test_definition_page_diagram_and_version_diff(app):
    admin = Browser(app, "admin")
    for name in ("v1.bpmn", "v2.bpmn"):
        data = {
            "files": [(io.BytesIO((FIXTURES / "migration" / name).read_bytes()), "two_steps.bpmn")],
            "comment": f"deploy {name}",
            "csrf_token": admin.token,
        }
        assert (
            admin.client.post("/definitions/deployments", data=data, content_type="multipart/form-data").status_code
            == 302
        )
    page = admin.get("/definitions/two_steps").get_data(as_text=True)
    assert "v2" in page and "v1" in page and "/definitions/two_steps/v2/diagram.svg" in page
    assert _svg(admin.get("/definitions/two_steps/v1/diagram.svg")).xpath("//*[@id='el-first']")
    diff_page = admin.get("/definitions/two_steps/diff?from=1&to=2").get_data(as_text=True)
    assert re.search(r"<code>third</code></td><td class=\"diff-added\"", diff_page)
    assert re.search(r"<code>second</code></td><td class=\"diff-changed\"", diff_page)
    svg = _svg(admin.get("/definitions/two_steps/diff.svg?from=1&to=2"))
    assert "diff-added" in _classes(svg, "third") and "diff-changed" in _classes(svg, "second")
    assert admin.get("/definitions/two_steps/v1/files/two_steps.bpmn").data.startswith(b"<?xml")


def test_upload_page_shows_the_validation_report(app):
    admin = Browser(app, "admin")
    bad = (FIXTURES / "rework_loop.bpmn").read_text().replace("again == True", "again = = True")
    response = admin.client.post(
        "/definitions/deployments",
        content_type="multipart/form-data",
        data={"files": [(io.BytesIO(bad.encode()), "loop.bpmn")], "csrf_token": admin.token},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="validation-report"' in html
    assert "loop.bpmn" in html and "does not compile" in html and "f_again" in html


def test_pending_deployment_is_approved_with_a_signature_in_the_page(app):
    app.config["DEPLOYMENT_APPROVAL"] = True
    admin, qa = Browser(app, "admin"), Browser(app, "qa")
    admin.client.post(
        "/definitions/deployments",
        content_type="multipart/form-data",
        data={
            "files": [(io.BytesIO((FIXTURES / "migration" / "v1.bpmn").read_bytes()), "two_steps.bpmn")],
            "csrf_token": admin.token,
        },
    )
    listing = qa.get("/definitions/deployments").get_data(as_text=True)
    deployment_id = re.search(r"/definitions/deployments/(\d+)/decision", listing).group(1)
    refused = qa.post(
        f"/definitions/deployments/{deployment_id}/decision",
        {"decision": "approve", "signature_password": "wrong-password", "signature_username": "qa"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "pending" in refused or "待" in refused
    qa.post(
        f"/definitions/deployments/{deployment_id}/decision",
        {"decision": "approve", "signature_password": PASSWORD, "signature_username": "qa"},
    )
    with app.app_context():
        from webapp.services.deployments import latest_version

        assert latest_version("two_steps").version == 1
        from webapp.extensions import db
        from webapp.models import Signature

        [sig] = db.session.query(Signature).filter_by(record_type="deployment").all()
        assert sig.meaning == "approved" and sig.printed_name == "Qa"


def test_migration_page_lists_safe_and_unsafe_instances(app):
    with app.app_context():
        from engine import ProcessBundle, SourceFile
        from tests.helpers import user
        from webapp.services import instances, queries, tasks
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(FIXTURES / "migration" / "v1.bpmn"))
        safe = instances.start_instance(user("qa"), "two_steps")
        unsafe = instances.start_instance(user("qa"), "two_steps")
        first = [r for r in queries.instance_tasks(unsafe.id) if r.completed_at is None][0]
        tasks.complete_task(user("qa"), first.task_id, {})
        deploy_bundle(ProcessBundle([SourceFile("two_steps.bpmn", (FIXTURES / "migration" / "v2.bpmn").read_text())]))
        safe_id, unsafe_id = safe.id, unsafe.id
    admin = Browser(app, "admin")
    page = admin.get("/definitions/two_steps/migrations?to=2").get_data(as_text=True)
    assert f'name="instance" value="{safe_id}" >' in page or f'value="{safe_id}" >' in page
    assert f'value="{unsafe_id}" disabled' in page
    admin.post("/definitions/two_steps/migrations", {"to": "2", "instance": [str(safe_id)], "reason": "v2"})
    with app.app_context():
        from webapp.services.instances import get_instance

        assert get_instance(safe_id).version.version == 2


def test_files_without_a_layout_get_a_placeholder_diagram(app):
    with app.app_context():
        from engine import ProcessBundle
        from tests.helpers import user
        from webapp.services import instances
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(FIXTURES / "rework_loop.bpmn", FIXTURES / "rework_loop-schema.json"))
        instance_id = instances.start_instance(user("qa"), "rework_loop").id
    response = Browser(app, "qa").get(f"/definitions/instances/{instance_id}/diagram.svg")
    assert response.status_code == 200 and b"no diagram layout" in response.data
