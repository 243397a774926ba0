"""`traceflow import DIR` and `traceflow trace MATERIAL LOT --direction … --format …`."""

import csv
import io
import json

import pytest
from sqlalchemy import select

from tests.integration.test_erp_import import VALID
from webapp.extensions import db
from webapp.models import AuditEvent


@pytest.fixture
def imported(app, tmp_path):
    for name, text in VALID.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "movements.csv: 13 rows imported" in result.output
    return app.test_cli_runner()


def test_import_records_the_operating_system_user(app, imported):
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.run"))
        assert event.actor_name.startswith("cli:") and event.actor_id is None


def test_trace_as_json_has_the_api_shape(imported):
    result = imported.invoke(args=["trace", "RAW", "R1", "--direction", "forward", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"root", "lots", "shipments", "customers", "stock", "suppliers"}
    assert data["root"] == {"material": "RAW", "lot": "R1"} and data["lots"][0]["lot"] == "K1"


def test_trace_as_csv_and_table(imported):
    result = imported.invoke(args=["trace", "KIT", "K1", "--direction", "backward", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert (
        rows[0]["section"] == "root" and {"section": "lots", "material": "RAW", "lot": "R1"}.items() <= rows[1].items()
    )
    table = imported.invoke(args=["trace", "KIT", "K1"]).output
    assert "shipments (2)" in table and "customers (2)" in table and "D-OLD" in table


def test_trace_of_an_unknown_lot_fails(imported):
    result = imported.invoke(args=["trace", "KIT", "NOPE"])
    assert result.exit_code != 0 and "no lot NOPE" in result.output


def test_a_rejected_import_prints_the_report_and_fails(app, tmp_path):
    (tmp_path / "suppliers.csv").write_text("code,name,status\nS1,One,approved\nS2,Two,maybe\n")
    result = app.test_cli_runner().invoke(args=["import", str(tmp_path)])
    assert result.exit_code != 0
    assert "suppliers.csv:3:status: must be one of" in result.output and "nothing was imported" in result.output
