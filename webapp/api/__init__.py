"""REST API v1 (a fixed contract: paths and JSON shapes are relied on outside this repository)."""

from ..processes import packages
from . import attachment_routes, erp_master_routes, erp_routes, routes  # noqa: F401  (register the routes on bp)
from .blueprint import bp

for _package in packages():  # the process packages' own API routes under /api/v1
    if _package.add_api is not None:
        _package.add_api(bp)
