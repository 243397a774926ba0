"""Recall pages: the list, one recall (scope, stock held, notices, reconciliation, time-to-scope)
and the printable notice to one customer."""

from flask import render_template

from ..services import recalls
from . import bp


@bp.route("/recalls")
def recall_list():
    """Recalls and recall drills, newest first."""
    return render_template("erp/recalls.html", recalls=[recalls.recall_view(r) for r in recalls.list_recalls()])


@bp.route("/recalls/<business_key>")
def recall(business_key):
    """One recall: its scope, the stock held, the notices and their state, the reconciliation."""
    return render_template("erp/recall.html", recall=recalls.recall_view(recalls.get_recall(business_key)))


@bp.route("/recalls/<business_key>/notices/<customer>")
def recall_notice(business_key, customer):
    """The printable recall notice to one customer, with the UDIs of what it received."""
    notice = recalls.get_notice(business_key, customer)
    return render_template(
        "erp/recall_notice.html", notice=recalls.notice_view(notice), recall=recalls.recall_view(notice.recall)
    )
