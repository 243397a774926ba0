"""API v1 complaints: the complaint records (list with filters, one by business key) and the
deadlines of their regulator reports."""

from flask import Blueprint, jsonify, request

from ...errors import InvalidInput
from ...models._types import MAX_INT
from . import records

FILTERS = ("product", "lot", "status", "reportable", "overdue")


def filters_from(args):
    """The list filters of a query string; InvalidInput naming every bad one."""
    values, errors = {}, {}
    for name in FILTERS:
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        if name in ("reportable", "overdue"):
            if raw not in ("true", "false"):
                errors[name] = "must be true or false"
                continue
            values[name] = raw == "true"
        else:
            values[name] = raw
    if errors:
        raise InvalidInput("invalid filters", errors)
    return values


def list_complaints():
    """Complaints, newest first, filtered by product, lot, status, reportable, overdue."""
    rows = records.list_complaints(**filters_from(request.args))
    return jsonify({"items": [records.complaint_view(c) for c in rows]})


def get_complaint(business_key):
    """One complaint with its reports, deadlines and linked CAPA/recall."""
    return jsonify(records.complaint_view(records.get_complaint(business_key)))


def get_report(report_id):
    """One regulator report as structured JSON: its fields, deadline, submission and the complaint."""
    report = records.get_report(report_id)
    return jsonify({**records.report_view(report), "complaint_record": records.complaint_view(report.complaint)})


def list_deadlines():
    """Every regulator report not yet submitted, earliest deadline first."""
    return jsonify({"items": [records.report_view(r) for r in records.all_reports(open_only=True)]})


_ERROR = "#/components/schemas/ErrorResponse"
_TIME = {"type": "string", "format": "date-time", "nullable": True}
_REPORT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "complaint": {"type": "string"},
        "market": {"type": "string", "enum": ["CN", "US", "EU"]},
        "rule": {"type": "string"},
        "report_form": {"type": "string"},
        "period": {"type": "integer"},
        "unit": {"type": "string", "enum": ["hours", "days", "work_days"]},
        "planned_at": _TIME,
        "due_at": _TIME,
        "escalate_50_at": _TIME,
        "escalate_80_at": _TIME,
        "escalated_50_at": _TIME,
        "escalated_80_at": _TIME,
        "overdue_at": _TIME,
        "started_at": _TIME,
        "submitted_at": _TIME,
        "submitted_by": {"type": "string"},
        "report_number": {"type": "string"},
        "report_date": {"type": "string"},
        "late": {"type": "boolean"},
        "lateness_reason": {"type": "string"},
        "content": {"type": "object"},
        "state": {"type": "string", "enum": ["open", "escalated", "overdue", "submitted"]},
    },
}
_COMPLAINT = {
    "type": "object",
    "properties": {
        "business_key": {"type": "string"},
        "instance_id": {"type": "integer"},
        "channel": {"type": "string"},
        "received_by": {"type": "string"},
        "awareness_at": _TIME,
        "customer": {"type": "string"},
        "material": {"type": "string"},
        "lot": {"type": "string"},
        "serial": {"type": "string"},
        "udi": {"type": "string"},
        "description": {"type": "string"},
        "patient_involved": {"type": "boolean"},
        "outcome": {"type": "string"},
        "device_available": {"type": "boolean"},
        "attachment_ref": {"type": "string"},
        "related_complaint": {"type": "string"},
        "markets": {"type": "array", "items": {"type": "string"}},
        "failure_code": {"type": "string"},
        "is_complaint": {"type": "boolean", "nullable": True},
        "reportable": {"type": "boolean"},
        "overdue": {"type": "boolean"},
        "assessment": {"type": "object"},
        "trend": {"type": "object"},
        "investigation": {"type": "object"},
        "response": {"type": "object"},
        "status": {"type": "string"},
        "closed_at": _TIME,
        "closed_by": {"type": "string"},
        "reports": {"type": "array", "items": _REPORT},
        "links": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "process": {"type": "string"},
                    "business_key": {"type": "string", "nullable": True},
                    "instance_id": {"type": "integer", "nullable": True},
                },
            },
        },
    },
}


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": _ERROR}}}}


def _query(name, schema):
    return {"name": name, "in": "query", "required": False, "schema": schema}


_BOOL = {"type": "string", "enum": ["true", "false"]}
# The OpenAPI path items of the routes below (webapp/api/openapi.py adds them to the document).
OPENAPI_PATHS = {
    "/api/v1/complaints": {
        "get": {
            "summary": "Complaints, newest first, with their reports and links",
            "security": [{"bearerAuth": []}],
            "parameters": [
                _query("product", {"type": "string"}),
                _query("lot", {"type": "string"}),
                _query("status", {"type": "string"}),
                _query("reportable", _BOOL),
                _query("overdue", _BOOL),
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"items": {"type": "array", "items": _COMPLAINT}},
                            }
                        }
                    },
                },
                "400": _error("a filter is invalid"),
                "401": _error("no valid bearer token"),
                "403": _error("no permission complaint.view"),
            },
        }
    },
    "/api/v1/complaints/{business_key}": {
        "get": {
            "summary": "One complaint by its business key",
            "security": [{"bearerAuth": []}],
            "parameters": [{"name": "business_key", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": _COMPLAINT}}},
                "401": _error("no valid bearer token"),
                "403": _error("no permission complaint.view"),
                "404": _error("no complaint with this business key"),
            },
        }
    },
    "/api/v1/complaint-reports/{report_id}": {
        "get": {
            "summary": "One regulator report as structured JSON, with its complaint",
            "security": [{"bearerAuth": []}],
            "parameters": [
                {
                    "name": "report_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
                }
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": {
                                "allOf": [_REPORT, {"type": "object", "properties": {"complaint_record": _COMPLAINT}}]
                            }
                        }
                    },
                },
                "401": _error("no valid bearer token"),
                "403": _error("no permission complaint.view"),
                "404": _error("no regulator report with this id"),
            },
        }
    },
    "/api/v1/complaint-deadlines": {
        "get": {
            "summary": "Regulator reports not yet submitted, earliest deadline first",
            "security": [{"bearerAuth": []}],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"items": {"type": "array", "items": _REPORT}}}
                        }
                    },
                },
                "401": _error("no valid bearer token"),
                "403": _error("no permission complaint.view"),
            },
        }
    },
}


def add_routes(bp: Blueprint) -> None:
    """Register the complaint API on the API blueprint (under /api/v1)."""
    bp.add_url_rule("/complaints", endpoint="list_complaints", view_func=list_complaints, methods=["GET"])
    bp.add_url_rule("/complaints/<business_key>", endpoint="get_complaint", view_func=get_complaint, methods=["GET"])
    bp.add_url_rule(
        "/complaint-reports/<int:report_id>", endpoint="get_complaint_report", view_func=get_report, methods=["GET"]
    )
    bp.add_url_rule(
        "/complaint-deadlines", endpoint="list_complaint_deadlines", view_func=list_deadlines, methods=["GET"]
    )
