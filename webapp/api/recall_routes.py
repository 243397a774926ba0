"""API v1 recalls: the recall record of a recall process instance, by its business key."""

from flask import jsonify

from ..services import recalls
from . import bp


@bp.get("/recalls/<business_key>", endpoint="get_recall")
def get_recall(business_key):
    """The recall: classification, scope, stock held, notices, reconciliation, time-to-scope."""
    return jsonify(recalls.recall_view(recalls.get_recall(business_key)))
