"""Recall pages: the list, one recall (scope, stock held, notices, reconciliation, time-to-scope)
and the printable notice to one customer. Added to the ERP blueprint by `add_pages(bp)`, so the
endpoints keep their names (erp.recall_list, erp.recall, erp.recall_notice)."""

from flask import Blueprint, render_template

from . import records as recalls


def recall_list():
    """Recalls and recall drills, newest first."""
    return render_template("recall/recalls.html", recalls=[recalls.recall_view(r) for r in recalls.list_recalls()])


def recall(business_key):
    """One recall: its scope, the stock held, the notices and their state, the reconciliation."""
    return render_template("recall/recall.html", recall=recalls.recall_view(recalls.get_recall(business_key)))


def recall_notice(business_key, customer):
    """The printable recall notice to one customer, with the UDIs of what it received."""
    notice = recalls.get_notice(business_key, customer)
    return render_template(
        "recall/recall_notice.html", notice=recalls.notice_view(notice), recall=recalls.recall_view(notice.recall)
    )


def add_pages(bp: Blueprint) -> None:
    """Register the recall pages on the ERP blueprint (under /erp)."""
    bp.add_url_rule("/recalls", view_func=recall_list)
    bp.add_url_rule("/recalls/<business_key>", view_func=recall)
    bp.add_url_rule("/recalls/<business_key>/notices/<customer>", view_func=recall_notice)
