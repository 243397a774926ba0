"""JSON-Schema forms in HTML: fields to render from a schema, and data parsed back from a POST.

Supports what the process forms use: strings (text, textarea, enum, date), numbers, integers,
booleans, arrays of objects (a table whose rows are named `field-<row>-<column>`) and attachments
(an object marked `x-attachment`: a file input, plus a hidden input with the id of a file uploaded
before; the page's view stores the file and puts {id, name, size, sha256} in the data).
"""

import re
from dataclasses import dataclass
from dataclasses import field as dc_field

from flask_babel import gettext

from .i18n import enum_labels, label

_ROW_KEY = re.compile(r"^(?P<name>[A-Za-z0-9_]+)-(?P<row>\d+)-(?P<col>[A-Za-z0-9_]+)$")
EXTRA_EMPTY_ROWS = 1


@dataclass
class Field:
    """One input to render: kind, label, value, error and, for tables, its columns and rows."""

    name: str
    kind: str
    label: str
    help: str = ""
    required: bool = False
    value: object = None
    error: str | None = None
    options: list = dc_field(default_factory=list)
    columns: list = dc_field(default_factory=list)
    rows: list = dc_field(default_factory=list)


def _ordered(schema, ui_schema):
    names = list((schema.get("properties") or {}).keys())
    order = [n for n in (ui_schema or {}).get("ui:order", []) if n in names]
    return order + [n for n in names if n not in order]


def _kind(node, ui):
    radio = (ui or {}).get("ui:widget") == "radio"
    if node.get("x-attachment"):
        return "file"
    if node.get("type") == "array":
        return "table"
    if "enum" in node:
        return "radio" if radio else "select"
    if node.get("type") == "boolean":
        return "radio" if radio else "checkbox"
    if node.get("type") in ("number", "integer"):
        return node["type"]
    if node.get("format") == "date":
        return "date"
    return "textarea" if (ui or {}).get("ui:widget") == "textarea" else "text"


def _field(name, node, ui, required, value, errors, path):
    kind = _kind(node, ui)
    f = Field(
        name=name,
        kind=kind,
        label=label(node, fallback=name),
        help=label(node, "description"),
        required=required,
        value=value,
        error=errors.get(path),
    )
    if kind in ("select", "radio"):
        f.options = enum_labels(node) if "enum" in node else [(True, gettext("Yes")), (False, gettext("No"))]
    if kind == "table":
        item = node.get("items") or {}
        item_ui = (ui or {}).get("items") or {}
        req = set(item.get("required") or [])
        f.columns = [
            _field(c, item["properties"][c], item_ui.get(c), c in req, None, {}, c) for c in _ordered(item, item_ui)
        ]
        values = value if isinstance(value, list) else []
        f.rows = [
            [
                _field(
                    f"{name}-{i}-{c.name}",
                    item["properties"][c.name],
                    item_ui.get(c.name),
                    c.required,
                    (row or {}).get(c.name) if isinstance(row, dict) else None,
                    errors,
                    f"{path}.{i}.{c.name}",
                )
                for c in f.columns
            ]
            for i, row in enumerate(values + [{}] * EXTRA_EMPTY_ROWS)
        ]
        f.error = errors.get(path)
    return f


def fields_for(form, values=None, errors=None):
    """The Field list for a task form ({schema, ui_schema}), prefilled with `values`."""
    schema, ui = form.get("schema") or {}, form.get("ui_schema") or {}
    values, errors = values or {}, errors or {}
    required = set(schema.get("required") or [])
    return [
        _field(n, schema["properties"][n], ui.get(n), n in required, values.get(n), errors, n)
        for n in _ordered(schema, ui)
    ]


def _scalar(node, raw, ui=None):
    """Convert one submitted string per the schema node; unparseable input is kept for the validator."""
    kind = node.get("type")
    if kind == "boolean" and (ui or {}).get("ui:widget") == "radio":
        return {"true": True, "false": False}.get(raw)
    if kind == "boolean":
        return raw is not None
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    return raw


def parse_submission(form, post):
    """Task data from a submitted form (`post` is a MultiDict); empty optional inputs are omitted."""
    schema, ui = form.get("schema") or {}, form.get("ui_schema") or {}
    data = {}
    for name, node in (schema.get("properties") or {}).items():
        if node.get("type") == "array":
            data[name] = _parse_rows(name, node.get("items") or {}, post)
            continue
        if node.get("x-attachment"):  # the id of a file uploaded before; a new file is the view's
            raw = (post.get(name) or "").strip()
            if raw.isdigit():
                data[name] = int(raw)
            continue
        value = _scalar(node, post.get(name), ui.get(name))
        if value is not None:
            data[name] = value
    return data


def _parse_rows(name, item, post):
    rows = {}
    for key in post:
        match = _ROW_KEY.match(key)
        if match and match["name"] == name:
            rows.setdefault(int(match["row"]), {})
    result = []
    for index in sorted(rows):
        row = {}
        for col, node in (item.get("properties") or {}).items():
            value = _scalar(node, post.get(f"{name}-{index}-{col}"))
            if value is not None and not (node.get("type") == "boolean" and value is False):
                row[col] = value
        if row:
            for col, node in (item.get("properties") or {}).items():
                if node.get("type") == "boolean":
                    row.setdefault(col, False)
            result.append(row)
    return result


def display_pairs(form, data):
    """(label, value) pairs of submitted `data` for read-only display, labelled and ordered by the form;
    enum values shown by their titles. Keys the form does not know are listed after, by name."""
    schema, ui = (form or {}).get("schema") or {}, (form or {}).get("ui_schema") or {}
    props = schema.get("properties") or {}
    pairs = []
    for name in _ordered(schema, ui):
        if name in (data or {}):
            pairs.append((label(props[name], fallback=name), _display(props[name], data[name])))
    pairs.extend((k, v) for k, v in sorted((data or {}).items()) if k not in props)
    return pairs


def attachment_fields(form):
    """The names of a form's top-level attachment fields."""
    props = ((form or {}).get("schema") or {}).get("properties") or {}
    return [name for name, node in props.items() if isinstance(node, dict) and node.get("x-attachment")]


def _display(node, value):
    if node.get("x-attachment") and isinstance(value, dict):
        return f"{value.get('name')} (SHA-256 {value.get('sha256')})"
    if "enum" in node:
        return dict(enum_labels(node)).get(value, value)
    if node.get("type") == "array" and isinstance(value, list):
        item = node.get("items") or {}
        cols = item.get("properties") or {}
        return [
            {label(cols.get(k, {}), fallback=k): _display(cols.get(k, {}), v) for k, v in row.items()}
            if isinstance(row, dict)
            else row
            for row in value
        ]
    return value
