"""Map domain errors and HTTP errors to responses once: JSON under /api, pages elsewhere."""

from flask import current_app, flash, jsonify, make_response, redirect, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

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
    if isinstance(exc, MethodNotAllowed):
        exc = _missing_or_not_allowed(exc)
    if is_api_request():
        return _with_headers_of(exc, api_error(exc.code, exc.description or exc.name))
    if exc.code == 400 and "CSRF" in (exc.description or ""):
        flash(exc.description, "error")
        return redirect(request.referrer or "/")
    page = render_template("error.html", status=exc.code, message=exc.description or exc.name)
    return _with_headers_of(exc, make_response(page, exc.code))


def _missing_or_not_allowed(exc):
    """`exc` where the URL exists under one of its allowed methods, a 404 where it exists under none.
    Werkzeug answers 405 when a rule of another method matched the URL's shape before the rule of the
    request's method, whose converter then refused the value: PATCH /api/v1/lots/0 (`<int:…>` takes
    1..MAX_INT) saw `GET /lots/<int:lot_id>` first, yet /lots/0 is no URL of any method."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in exc.valid_methods or ():
        try:
            adapter.match(method=method)
        except (NotFound, MethodNotAllowed):  # that method's rule refuses the value too
            continue
        except HTTPException:  # a redirect (a trailing slash): the URL is there
            pass
        return exc
    return NotFound()


def _with_headers_of(exc, response):
    """`response` with the headers the HTTP error carries besides its own body's (a 405's `Allow`,
    RFC 9110 15.5.6; a 401's `WWW-Authenticate`; a 429's `Retry-After`)."""
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response
