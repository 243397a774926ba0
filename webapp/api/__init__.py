"""REST API v1 (a fixed contract: paths and JSON shapes are relied on outside this repository)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import erp_master_routes, erp_routes, recall_routes, routes  # noqa: E402,F401  (register the routes on bp)
