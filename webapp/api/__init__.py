"""REST API v1 (a fixed contract: paths and JSON shapes are relied on outside this repository)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from ..processes import packages  # noqa: E402
from . import erp_master_routes, erp_routes, routes  # noqa: E402,F401  (register the routes on bp)

for _package in packages():  # the process packages' own API routes under /api/v1
    if _package.add_api is not None:
        _package.add_api(bp)
