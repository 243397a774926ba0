"""API v1 attachments: upload (multipart), download (the bytes unchanged) and removal of an upload
no completed record keeps yet."""

from flask import g, jsonify, request

from ..downloads import file_response
from ..errors import InvalidInput
from ..services import attachments
from .blueprint import bp


@bp.post("/attachments", endpoint="upload_attachment")
def upload_attachment():
    """Upload one file (multipart field `file`): 201 with id, name, size, content type, SHA-256, URL."""
    # A body far over the limit is refused (413) before it is parsed; one just over it, by the service.
    request.max_content_length = attachments.max_bytes() + attachments.MULTIPART_MARGIN
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("no file uploaded", {"file": "required"})
    row = attachments.upload(g.user, upload.filename or "", upload.stream)
    return jsonify(attachments.view(row)), 201


@bp.get("/attachments/<int:attachment_id>", endpoint="download_attachment")
def download_attachment(attachment_id):
    """The attachment's bytes, exactly as uploaded."""
    return file_response(*attachments.download(g.user, attachment_id))


@bp.delete("/attachments/<int:attachment_id>", endpoint="remove_attachment")
def remove_attachment(attachment_id):
    """Remove an upload that no completed task or approved document keeps (409 otherwise)."""
    attachments.remove(g.user, attachment_id)
    return "", 204


_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
_ATTACHMENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "size": {"type": "integer"},
        "content_type": {"type": "string", "enum": list(attachments.CONTENT_TYPES)},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "url": {"type": "string"},
        "locked": {"type": "boolean"},
    },
    "required": ["id", "name", "size", "content_type", "sha256", "url"],
}


def _errors(*codes, **described):
    out = {str(c): {"description": "error", "content": _ERROR} for c in codes}
    out.update({c.lstrip("_"): {"description": d, "content": _ERROR} for c, d in described.items()})
    return out


def _id():
    return {
        "name": "attachment_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    }


OPENAPI_PATHS = {
    "/api/v1/attachments": {
        "post": {
            "summary": "Upload a file (PDF, PNG, JPEG, DOCX, XLSX, CSV, TXT; type detected from the content)",
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                            "required": ["file"],
                        }
                    }
                },
            },
            "responses": {
                "201": {"description": "stored", "content": {"application/json": {"schema": _ATTACHMENT}}},
                **_errors(400, 401, 403),
                **_errors(_413="over the size limit; nothing stored", _422="type not allowed; nothing stored"),
            },
        }
    },
    "/api/v1/attachments/{attachment_id}": {
        "get": {
            "summary": "Download an attachment: its bytes unchanged (Repr-Digest carries the SHA-256)",
            "security": [{"bearerAuth": []}],
            "parameters": [_id()],
            "responses": {
                "200": {
                    "description": "the file",
                    "content": {
                        mime: {"schema": {"type": "string", "format": "binary"}} for mime in attachments.CONTENT_TYPES
                    },
                },
                **_errors(401, 403, 404, 409),
            },
        },
        "delete": {
            "summary": "Remove an upload that no completed task or approved document keeps",
            "security": [{"bearerAuth": []}],
            "parameters": [_id()],
            "responses": {"204": {"description": "removed"}, **_errors(401, 403, 404, 409)},
        },
    },
}
