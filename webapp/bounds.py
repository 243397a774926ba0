"""Whole numbers taken from requests, bounded to what the database holds.

Every id, version, quantity and count is an INTEGER column (`models._types.MAX_INT`: 32 bits on
PostgreSQL, whose driver binds a parameter as `…::INTEGER`), so a number outside 1..MAX_INT never
reaches a query: in a URL (`<int:…>`, the converter registered here for every route) it matches no
route (404); in a query string, form or JSON body it is a 400 naming the field (`BoundedInteger`,
`int_arg`, `parse_int`).
"""

from flask import request
from flask_babel import gettext as _
from marshmallow import fields, validate
from werkzeug.routing import IntegerConverter, ValidationError

from .errors import InvalidInput
from .models._types import MAX_DAYS, MAX_INT

__all__ = ["MAX_DAYS", "MAX_INT", "BoundedIntConverter", "BoundedInteger", "init_app", "int_arg", "parse_int"]


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in every route: 1..MAX_INT unless the rule says otherwise; other numbers are a 404."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_INT, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value):
        if len(value) > len(str(self.max)) + 1:  # do not even parse a thousand digits
            raise ValidationError()
        return super().to_python(value)


def init_app(app):
    """Replace Werkzeug's unbounded `int` converter (before any blueprint adds its rules)."""
    app.url_map.converters["int"] = BoundedIntConverter


class BoundedInteger(fields.Integer):
    """A marshmallow integer within `minimum`..`maximum` (default 1..MAX_INT); a fractional number
    (1.5) is refused instead of being truncated."""

    def __init__(self, *, minimum=1, maximum=MAX_INT, **kwargs):
        super().__init__(validate=validate.Range(minimum, maximum), **kwargs)

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


def parse_int(text, name, minimum=1, maximum=MAX_INT):
    """`text` as a whole number within `minimum`..`maximum`; InvalidInput (400) naming `name` otherwise."""
    text = (text or "").strip()
    if text.isascii() and text.lstrip("-").isdigit() and len(text) <= len(str(maximum)) + 1:
        number = int(text)
        if minimum <= number <= maximum:
            return number
    message = _(
        "%(name)s must be a whole number from %(minimum)s to %(maximum)s", name=name, minimum=minimum, maximum=maximum
    )
    raise InvalidInput(message, {name: message})


def int_arg(name, default=None, source=None, minimum=1, maximum=MAX_INT):
    """The integer parameter `name` of the query string (or of `source`, e.g. request.form), or
    `default` when it is absent or empty; InvalidInput (400) naming it when it is out of range."""
    text = (request.args if source is None else source).get(name, "")
    return default if not text.strip() else parse_int(text, name, minimum, maximum)
