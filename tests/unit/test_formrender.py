"""JSON-Schema forms in HTML: fields from a schema and typed data from a POST."""

import pytest
from werkzeug.datastructures import MultiDict

from webapp.formrender import display_pairs, fields_for, parse_submission

FORM = {
    "schema": {
        "type": "object",
        "required": ["lot", "qty"],
        "properties": {
            "lot": {"type": "string", "title": "批号", "x-title-en": "Lot"},
            "qty": {"type": "integer", "title": "数量"},
            "temp": {"type": "number", "title": "温度"},
            "sterile": {"type": "boolean", "title": "无菌"},
            "ok": {"type": "boolean", "title": "合格"},
            "grade": {
                "type": "string",
                "enum": ["a", "b"],
                "x-enum-titles": ["甲", "乙"],
                "x-enum-titles-en": ["A", "B"],
            },
            "made": {"type": "string", "format": "date"},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}, "n": {"type": "integer"}, "done": {"type": "boolean"}},
                },
            },
        },
    },
    "ui_schema": {"ui:order": ["qty", "lot"], "ok": {"ui:widget": "radio"}},
}


@pytest.fixture
def request_ctx():
    from webapp import create_app

    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context("/"):
        yield


def test_fields_follow_ui_order_kinds_and_labels(request_ctx):
    fields = fields_for(FORM, {"lines": [{"code": "X"}]}, {"lines.0.code": "required"})
    assert [f.name for f in fields][:2] == ["qty", "lot"]
    kinds = {f.name: f.kind for f in fields}
    assert kinds == {
        "qty": "integer",
        "lot": "text",
        "temp": "number",
        "sterile": "checkbox",
        "ok": "radio",
        "grade": "select",
        "made": "date",
        "lines": "table",
    }
    lines = fields[-1]
    assert len(lines.rows) == 2 and lines.rows[0][0].value == "X" and lines.rows[0][0].error == "required"
    assert {f.name: f.label for f in fields}["lot"] == "批号"
    assert {f.name: f.options for f in fields}["grade"] == [("a", "甲"), ("b", "乙")]


def test_submission_is_typed_and_empty_rows_are_dropped(request_ctx):
    post = MultiDict(
        {
            "lot": " L-1 ",
            "qty": "12",
            "temp": "4.5",
            "sterile": "true",
            "ok": "false",
            "grade": "b",
            "made": "2026-01-02",
            "lines-0-code": "A",
            "lines-0-n": "3",
            "lines-0-done": "true",
            "lines-1-code": "",
            "lines-1-n": "",
            "lines-2-code": "C",
        }
    )
    assert parse_submission(FORM, post) == {
        "lot": "L-1",
        "qty": 12,
        "temp": 4.5,
        "sterile": True,
        "ok": False,
        "grade": "b",
        "made": "2026-01-02",
        "lines": [{"code": "A", "n": 3, "done": True}, {"code": "C", "done": False}],
    }


def test_unparseable_numbers_are_kept_for_the_validator(request_ctx):
    data = parse_submission(FORM, MultiDict({"qty": "twelve", "lot": ""}))
    assert data == {"qty": "twelve", "sterile": False, "lines": []}
    from webapp.services.forms import validation_errors

    errors = validation_errors(FORM["schema"], data)
    assert set(errors) == {"qty", "lot"}


def test_display_pairs_use_labels_and_enum_titles(request_ctx):
    pairs = display_pairs(FORM, {"grade": "a", "lot": "L-1", "extra": 1})
    assert pairs == [("批号", "L-1"), ("grade", "甲"), ("extra", 1)]
