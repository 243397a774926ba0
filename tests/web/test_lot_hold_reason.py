"""The lot page shows the receipt's temperature record, why a lot is on hold after an excursion
(issue 13 point 11: 11.2 °C for 47 min was stored at receiving but never shown)."""

import pytest

from tests.erp_world import build_world
from tests.helpers import Browser
from webapp.extensions import db


@pytest.fixture
def world(app):
    with app.app_context():
        build_world()
        db.session.remove()
    return app


def _receive_with_excursion(qa):
    received = qa.post(
        "/erp/receive",
        {
            "supplier": "SUP-REAG",
            "material": "REAGENT",
            "lot": "R1",
            "quantity": "5",
            "to_location": "QUA",
            "transport_mode": "reefer",
            "min_c": "3",
            "max_c": "11.2",
            "arrival_c": "5",
            "transit_minutes": "47",
        },
    )
    assert received.status_code == 302
    return received.headers["Location"]


def test_lot_page_shows_the_hold_reason_and_temperature_record(world):
    qa = Browser(world, "qa")
    lot_url = _receive_with_excursion(qa)
    page = qa.get(lot_url).get_data(as_text=True)
    assert "温度记录" in page and "11.2 °C" in page and "47 分钟" in page and "温度偏离" in page
    qa.post("/locale", {"locale": "en", "next": "/"})
    page = qa.get(lot_url).get_data(as_text=True)
    assert "Temperature records" in page and "47 min" in page and "excursion" in page
