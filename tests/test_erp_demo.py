"""The demo scenario of DOMAIN.md, loaded by `traceflow demo`: a meaningful trace and held records."""
import pytest
from sqlalchemy import select

from webapp.errors import GuardRefused
from webapp.extensions import db
from webapp.models import Shipment
from webapp.services.erp import parties, shipments, trace
from webapp.services.erp.common import by_code, find_lot


def test_demo_scenario(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0  # idempotent
    with app.app_context():
        forward = trace.trace("TUBE-PVC", "T-2610", "forward").as_dict()
        assert [r["lot"] for r in forward["lots"]] == ["K-26110", "K-26111"]
        assert {c["code"] for c in forward["customers"]} == {"HOSP-A", "HOSP-B"}
        assert find_lot(by_code("material", "RGT-50"), "R-2611").status == "hold"
        assert "STERI-EO" in {c.supplier.code for c in parties.expiring_certificates()}
        held = db.session.scalar(select(Shipment).where(Shipment.status == "draft"))
        assert held.customer.code == "DIST-C"
        with pytest.raises(GuardRefused) as info:
            shipments.ship(None, held)
        assert info.value.rule == "SHP-CUSTOMER-LICENCE"
