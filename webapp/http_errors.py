"""Map domain errors and HTTP errors to responses once: JSON under /api, pages elsewhere."""

from flask import flash, jsonify, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from .errors import DomainError
from .extensions import db
from .security import is_api_request


def init_app(app):
    """Register the handlers."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)


def api_error(status, message, errors=None):
    """The API's error body: {"code", "message", "errors"}."""
    response = jsonify({"code": status, "message": message, "errors": errors or {}})
    response.status_code = status
    return response


def _domain_error(exc):
    db.session.rollback()
    if is_api_request():
        return api_error(exc.status, exc.message, exc.errors)
    if exc.status in (401,):
        return redirect("/login")
    return render_template("error.html", status=exc.status, message=exc.message), exc.status


def _http_error(exc):
    if exc.code >= 500:
        db.session.rollback()
    if is_api_request():
        return api_error(exc.code, exc.description or exc.name)
    if exc.code == 400 and "CSRF" in (exc.description or ""):
        flash(exc.description, "error")
        return redirect(request.referrer or "/")
    return render_template("error.html", status=exc.code, message=exc.description or exc.name), exc.code
