"""UDI parsing (GS1 element strings and HRI) with biip, on real GS1 examples; no database."""

from datetime import date

import pytest

from webapp.errors import UdiInvalid
from webapp.services.erp.udi import compose_hri, normalize_gtin, parse_udi

GS = "\x1d"


@pytest.mark.parametrize(
    "scan",
    [
        "(01)09501101530003(17)140704(10)AB-123",  # GS1 General Specifications' example, HRI
        "(01) 09501101530003 (17) 140704 (10) AB-123",  # HRI as printed, with spaces
        "]d2010950110153000317140704" + "10AB-123",  # GS1 DataMatrix, lot last: no separator needed
        "010950110153000317140704" + "10AB-123",  # scanner without symbology identifier
        "]C1010950110153000310AB-123" + GS + "17140704",  # GS1-128: FNC1 (GS) ends the lot
    ],
)
def test_gs1_examples_give_gtin_lot_and_expiry(scan):
    parsed = parse_udi(scan)
    assert (parsed["gtin"], parsed["lot"], parsed["expiry"]) == ("09501101530003", "AB-123", "2014-07-04")
    assert parsed["hri"].startswith("(01)09501101530003")


def test_serial_and_production_date_and_end_of_month_expiry():
    parsed = parse_udi("]d2" + "0100614141999996" + "11260315" + "17271200" + "10LOT-42" + GS + "21SN0001")
    assert parsed == {
        **parsed,
        "gtin": "00614141999996",
        "production_date": "2026-03-15",
        "expiry": "2027-12-31",
        "lot": "LOT-42",
        "serial": "SN0001",
    }
    assert [e["ai"] for e in parsed["elements"]] == ["01", "11", "17", "10", "21"]


@pytest.mark.parametrize(
    "scan", ["(01)09501101530004(17)140704(10)AB-123", "0109501101530004" + "10AB", "(01)00614141999995"]
)
def test_a_bad_check_digit_is_refused(scan):
    with pytest.raises(UdiInvalid) as info:
        parse_udi(scan)
    assert "check digit" in info.value.message and "gtin" in info.value.errors


def test_a_missing_separator_after_the_lot_is_refused():
    with pytest.raises(UdiInvalid) as info:  # (17) swallowed into the lot: "LOT42" + "17271231"
        parse_udi("0100614141999996" + "10LOT42" + "17271231")
    assert "separator" in info.value.message and info.value.errors == {"lot": "missing GS separator"}
    with pytest.raises(UdiInvalid) as info:  # a lot longer than 20 characters cannot be one element
        parse_udi("0100614141999996" + "10ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "21X")
    assert "separator" in info.value.message
    assert parse_udi("0100614141999996" + "10LOT42" + GS + "17271231")["expiry"] == "2027-12-31"


@pytest.mark.parametrize("scan", ["", "hello", "(01)0614141999996", "(17)271231(10)A", "(01)00614141999996(17)271331"])
def test_unreadable_input_is_a_clear_error(scan):
    with pytest.raises(UdiInvalid):
        parse_udi(scan)


def test_gtin_normalization():
    assert normalize_gtin("614141999996") == normalize_gtin("0614141999996") == "00614141999996"
    with pytest.raises(UdiInvalid):
        normalize_gtin("614141999995")


def test_a_composed_udi_parses_back_to_its_parts():
    hri = compose_hri("614141999996", date(2027, 12, 31), "LOT-42", "SN0001")
    assert hri == "(01)00614141999996(17)271231(10)LOT-42(21)SN0001"
    parsed = parse_udi(hri)
    assert (parsed["gtin"], parsed["expiry"], parsed["lot"], parsed["serial"]) == (
        "00614141999996",
        "2027-12-31",
        "LOT-42",
        "SN0001",
    )
    assert compose_hri("00614141999996", lot="L1") == "(01)00614141999996(10)L1"
