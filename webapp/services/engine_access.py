"""The one Engine per application, created in create_app."""

from flask import current_app


def engine():
    """The application's Engine (holds the spec cache)."""
    return current_app.extensions["traceflow_engine"]
