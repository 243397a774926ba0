"""REST API v1 (a fixed contract: paths and JSON shapes are relied on outside this repository)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import routes  # noqa: E402,F401  (registers the routes on bp)
