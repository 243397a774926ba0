"""Form fields that point at ERP records offer only the records valid now, and the server re-checks."""

import pytest

from engine import ProcessBundle
from tests.conftest import ROOT
from tests.erp_world import build_world, receive
from tests.helpers import Api, Browser


@pytest.fixture
def world(app):
    with app.app_context():
        qa = build_world()
        receive(qa, "TUBE", "T1")
        from webapp.services.deployments import deploy_bundle

        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "record_form"))
    return app


def test_choices_are_the_valid_records_and_the_server_rechecks(world):
    api = Api(world, "qa")
    instance = api.post("/api/v1/process-instances", {"process_key": "pick_lot"}).get_json()
    task = instance["ready_tasks"][0]
    schema = task["form"]["schema"]
    assert schema["properties"]["lot"]["enum"] == ["TUBE/T1"]
    assert "SUP-TUBE" in schema["properties"]["supplier"]["enum"]
    assert "SUP-NEW" not in schema["properties"]["supplier"]["enum"]  # pending qualification
    customers = schema["properties"]["others"]["items"]["properties"]["customer"]["enum"]
    assert "HOSP" in customers and "DIST-EXP" not in customers  # licence expired yesterday
    bad = api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": {"lot": "TUBE/NOPE", "supplier": "SUP-NEW"}})
    assert bad.status_code == 400 and {"lot", "supplier"} <= set(bad.get_json()["errors"])
    ok = api.post(f"/api/v1/tasks/{task['id']}/complete", {"data": {"lot": "TUBE/T1", "supplier": "SUP-TUBE"}})
    assert ok.status_code == 200 and ok.get_json()["process_instance"]["status"] == "completed"


def test_the_html_form_shows_record_choices_as_a_select(world):
    api = Api(world, "qa")
    instance = api.post("/api/v1/process-instances", {"process_key": "pick_lot"}).get_json()
    page = Browser(world, "qa").get(f"/tasks/{instance['ready_tasks'][0]['id']}").get_data(as_text=True)
    assert '<select name="lot"' in page and 'value="TUBE/T1"' in page
