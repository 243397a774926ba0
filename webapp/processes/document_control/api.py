"""API v1 documents and training: the register, one document with its versions, my training, and
the "read and understood" signature that completes a training record."""

from flask import Blueprint, g, jsonify, request

from ...errors import InvalidInput
from . import records, training, views


def list_documents():
    """Every controlled document with its current version."""
    return jsonify([views.document_view(d) for d in records.list_documents()])


def get_document(number):
    """One controlled document: versions, files, reviews, approvals, training."""
    return jsonify(views.document_view(records.get_document(number)))


def my_training():
    """The caller's training records."""
    return jsonify([views.training_view(r) for r in training.records_of(g.user)])


def complete_training(record_id):
    """Sign a training record "read and understood" (password re-checked), with the quiz's answers if it has one."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("password"), str) or not body["password"]:
        raise InvalidInput("the request is invalid", {"password": "required"})
    username = body.get("username") if isinstance(body.get("username"), str) else None
    answers = body.get("answers")
    if answers is not None and not (isinstance(answers, list) and all(isinstance(a, str) for a in answers)):
        raise InvalidInput("the request is invalid", {"answers": "a list of the chosen answers"})
    record = training.complete(g.user, record_id, body["password"], username, answers)
    return jsonify(views.training_view(record))


_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
_TIME = {"type": "string", "format": "date-time", "nullable": True}
_TEXT = {"type": "string", "nullable": True}
_TRAINING = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "document": {"type": "string"},
        "title": {"type": "string"},
        "version": {"type": "string"},
        "version_status": {"type": "string"},
        "user": {"type": "string"},
        "role": {"type": "string"},
        "status": {"type": "string", "enum": ["assigned", "overdue", "completed"]},
        "quiz": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "question": {"type": "string"},
                    "choices": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "pass_mark_pct": {"type": "integer"},
        "attempts": {"type": "integer"},
        "quiz_score_pct": {"type": "integer", "nullable": True},
        "assigned_at": _TIME,
        "due_at": _TIME,
        "completed_at": _TIME,
        "printed_name": _TEXT,
        "meaning": _TEXT,
        "content_hash": _TEXT,
    },
}
_VERSION = {
    "type": "object",
    "properties": {
        "version": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "in_review", "approved", "effective", "superseded", "obsolete"]},
        "author": {"type": "string"},
        "instance_id": {"type": "integer", "nullable": True},
        "business_key": _TEXT,
        "change_summary": {"type": "string"},
        "files": {"type": "array", "items": {"type": "object"}},
        "reviews": {"type": "array", "items": {"type": "object"}},
        "approvals": {"type": "array", "items": {"type": "object"}},
        "quiz_questions": {"type": "integer"},
        "pass_mark_pct": {"type": "integer"},
        "effective_date": {"type": "string", "format": "date", "nullable": True},
        "submitted_at": _TIME,
        "approved_at": _TIME,
        "effective_at": _TIME,
        "superseded_at": _TIME,
        "obsolete_at": _TIME,
        "training": {"type": "array", "items": _TRAINING},
    },
}
_DOCUMENT = {
    "type": "object",
    "properties": {
        "number": {"type": "string"},
        "title": {"type": "string"},
        "doc_type": {"type": "string"},
        "owner": {"type": "string"},
        "review_interval_days": {"type": "integer"},
        "training_roles": {"type": "array", "items": {"type": "string"}},
        "training_days": {"type": "integer"},
        "current_version": _TEXT,
        "status": _TEXT,
        "next_review_at": _TIME,
        "versions": {"type": "array", "items": _VERSION},
    },
}


def _ok(schema):
    return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}


def _errors(*codes):
    return {str(c): {"description": "error", "content": _ERROR} for c in codes}


_BEARER = [{"bearerAuth": []}]
# The OpenAPI path items of the routes below (webapp/api/openapi.py adds them to the document).
OPENAPI_PATHS = {
    "/api/v1/documents": {
        "get": {
            "summary": "The register of controlled documents",
            "security": _BEARER,
            "responses": {**_ok({"type": "array", "items": _DOCUMENT}), **_errors(401, 403)},
        }
    },
    "/api/v1/documents/{number}": {
        "get": {
            "summary": "One controlled document: its versions, files, reviews, approvals and training",
            "security": _BEARER,
            "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {**_ok(_DOCUMENT), **_errors(401, 403, 404)},
        }
    },
    "/api/v1/training": {
        "get": {
            "summary": "The caller's training records (assigned, overdue, completed)",
            "security": _BEARER,
            "responses": {**_ok({"type": "array", "items": _TRAINING}), **_errors(401, 403)},
        }
    },
    "/api/v1/training/{record_id}/complete": {
        "post": {
            "summary": 'Complete a training record with a "read and understood" signature (password re-checked)',
            "security": _BEARER,
            "parameters": [
                {
                    "name": "record_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "password": {"type": "string", "minLength": 1},
                                "username": {"type": "string"},
                            },
                            "required": ["password"],
                        }
                    }
                },
            },
            "responses": {**_ok(_TRAINING), **_errors(400, 401, 403, 404, 409, 422)},
        }
    },
}


def add_routes(bp: Blueprint) -> None:
    """Register the document and training API on the API blueprint (under /api/v1)."""
    bp.add_url_rule("/documents", endpoint="list_documents", view_func=list_documents, methods=["GET"])
    bp.add_url_rule("/documents/<number>", endpoint="get_document", view_func=get_document, methods=["GET"])
    bp.add_url_rule("/training", endpoint="my_training", view_func=my_training, methods=["GET"])
    bp.add_url_rule(
        "/training/<int:record_id>/complete",
        endpoint="complete_training",
        view_func=complete_training,
        methods=["POST"],
    )
