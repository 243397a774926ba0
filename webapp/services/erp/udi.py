"""UDI (GS1) parsing with biip: DataMatrix/GS1-128 scans (FNC1 as GS, ASCII 29) and the
parenthesised human-readable form. Pure functions: no database, no Flask."""

import re

import biip
from biip import ParseError
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin

from ...errors import UdiInvalid

GS = "\x1d"
FIELDS = {"01": "gtin", "10": "lot", "21": "serial", "17": "expiry", "11": "production_date"}
# What a missing GS separator after a variable-length field (lot, serial) looks like: the next
# element, e.g. (17)YYMMDD or (21)…, swallowed into its value.
_SWALLOWED = {
    "17": re.compile(r"17\d{2}(0[1-9]|1[0-2])([0-2]\d|3[01])$"),
    "11": re.compile(r"11\d{2}(0[1-9]|1[0-2])([0-2]\d|3[01])$"),
}


def normalize_gtin(value):
    """The GTIN-14 of `value` (8, 12, 13 or 14 digits); UdiInvalid on a bad length or check digit."""
    text = (value or "").strip()
    try:
        return Gtin.parse(text).as_gtin_14()
    except ParseError as exc:
        raise UdiInvalid(f"invalid GTIN {text}: {exc}", {"gtin": str(exc)}) from None


def compose_hri(gtin, expiry=None, lot=None, serial=None):
    """The GS1 human-readable interpretation of a UDI: (01) GTIN-14, (17) expiry YYMMDD, (10) lot,
    (21) serial, in that order (the fixed-length elements first, as GS1 recommends)."""
    parts = [f"(01){normalize_gtin(gtin)}"]
    if expiry is not None:
        parts.append(f"(17){expiry:%y%m%d}")
    if lot:
        parts.append(f"(10){lot}")
    if serial:
        parts.append(f"(21){serial}")
    return "".join(parts)


def parse_udi(text):
    """Parse a GS1 element string or HRI into {gtin, lot, serial, expiry, production_date, hri, elements}."""
    value = (text or "").strip()
    if not value:
        raise UdiInvalid("the UDI is empty", {"code": "required"})
    message = _message(value)
    fields = dict.fromkeys(FIELDS.values())
    elements = []
    for element in message.element_strings:
        ai = element.ai.ai
        if ai == "01" and element.gtin_error:
            raise UdiInvalid(f"bad GTIN in (01): {element.gtin_error}", {"gtin": element.gtin_error})
        name = FIELDS.get(ai)
        if name:
            fields[name] = element.date.isoformat() if element.date else element.value
        elements.append({"ai": ai, "title": element.ai.data_title, "value": element.value})
    if fields["gtin"] is None:
        raise UdiInvalid("the UDI has no GTIN (01)", {"gtin": "missing"})
    _check_separators(value, fields)
    return {**fields, "hri": message.as_hri(), "elements": elements}


def _message(value):
    """The biip GS1Message of a scan (optionally with a ]d2/]C1 symbology prefix) or an HRI string."""
    if value.startswith("("):
        try:
            return GS1Message.parse_hri(value)
        except ParseError as exc:
            raise UdiInvalid(f"cannot read the UDI: {exc}", {"code": str(exc)}) from None
    result = biip.parse(value.replace("<GS>", GS))
    if result.gs1_message is None:
        reason = (result.gs1_message_error or "not a GS1 element string").rstrip(".")
        raise UdiInvalid(
            f"cannot read the UDI: {reason}. A lot or serial that is not the last element must end "
            "with a GS (FNC1) separator",
            {"code": reason},
        )
    return result.gs1_message


def _check_separators(value, fields):
    """Refuse a scan whose lot or serial swallowed a following date element (missing GS separator)."""
    if value.startswith("("):
        return
    for name in ("lot", "serial"):
        for ai, pattern in _SWALLOWED.items():
            if fields[name] and fields[FIELDS[ai]] is None and pattern.search(fields[name]):
                raise UdiInvalid(
                    f"the {name} {fields[name]!r} ends with what reads as ({ai}): a GS separator is "
                    f"probably missing after the {name}",
                    {name: "missing GS separator"},
                )
