"""API v1 recalls: the recall record of a recall process instance, by its business key."""

from flask import Blueprint, jsonify

from . import records as recalls


def get_recall(business_key):
    """The recall: classification, scope, stock held, notices, reconciliation, time-to-scope."""
    return jsonify(recalls.recall_view(recalls.get_recall(business_key)))


_ERROR = "#/components/schemas/ErrorResponse"
_TIME = {"type": "string", "format": "date-time", "nullable": True}
_NOTICE = {
    "type": "object",
    "properties": {
        "customer": {"type": "string"},
        "customer_name": {"type": "string"},
        "address": {"type": "string"},
        "lines": {"type": "array", "items": {"type": "object"}},
        "quantity": {"type": "integer"},
        "action": {"type": "string"},
        "generated_at": {"type": "string", "format": "date-time"},
        "deadline": _TIME,
        "escalated_at": _TIME,
        "acknowledged_at": _TIME,
        "response": {"type": "object"},
        "state": {"type": "string", "enum": ["sent", "escalated", "acknowledged"]},
    },
}
_RECALL = {
    "type": "object",
    "properties": {
        "business_key": {"type": "string"},
        "instance_id": {"type": "integer"},
        "drill": {"type": "boolean"},
        "title": {"type": "string"},
        "source": {"type": "string"},
        "source_ref": {"type": "string"},
        "level": {"type": "integer", "nullable": True},
        "classification": {"type": "object"},
        "started_at": {"type": "string", "format": "date-time"},
        "scoped_at": _TIME,
        "time_to_scope_seconds": {"type": "number", "nullable": True},
        "scope": {"type": "object"},
        "held": {"type": "array", "items": {}},
        "held_at": _TIME,
        "notices": {"type": "array", "items": _NOTICE},
        "reconciliation": {"type": "object"},
        "reconciled_at": _TIME,
        "closed_at": _TIME,
        "status": {"type": "string", "nullable": True},
    },
}


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": _ERROR}}}}


# The OpenAPI path items of the routes below (webapp/api/openapi.py adds them to the document).
OPENAPI_PATHS = {
    "/api/v1/recalls/{business_key}": {
        "get": {
            "summary": "The recall record of a recall process instance, by its business key",
            "security": [{"bearerAuth": []}],
            "parameters": [{"name": "business_key", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": _RECALL}}},
                "401": _error("no valid bearer token"),
                "403": _error("no permission erp.view"),
                "404": _error("no recall with this business key"),
            },
        }
    }
}


def add_routes(bp: Blueprint) -> None:
    """Register the recall API on the API blueprint (under /api/v1)."""
    bp.add_url_rule("/recalls/<business_key>", endpoint="get_recall", view_func=get_recall, methods=["GET"])
