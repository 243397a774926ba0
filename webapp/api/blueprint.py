"""The API v1 blueprint: every route module (and each process package's API) adds its routes to it."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
