"""API v1 recalls: the recall record of a recall process instance, by its business key."""

from flask import Blueprint, jsonify

from . import records as recalls


def get_recall(business_key):
    """The recall: classification, scope, stock held, notices, reconciliation, time-to-scope."""
    return jsonify(recalls.recall_view(recalls.get_recall(business_key)))


def add_routes(bp: Blueprint) -> None:
    """Register the recall API on the API blueprint (under /api/v1)."""
    bp.add_url_rule("/recalls/<business_key>", endpoint="get_recall", view_func=get_recall, methods=["GET"])
