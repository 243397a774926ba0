"""The ERP pages' blueprint and what every ERP view shares: the template helpers, how a refusal
reads, and `attempt` (run a state change, flash the outcome, go back)."""

from flask import Blueprint, flash, g, redirect
from flask_babel import gettext as _

from ..errors import Conflict, GuardRefused, InvalidInput, UdiInvalid
from ..i18n import current_language
from ..permissions import has_permission

bp = Blueprint("erp", __name__, url_prefix="/erp")


@bp.record_once
def _globals(state):
    """Enumeration labels for every template (macros too, which see no request context)."""
    from .forms import LABELS

    state.app.jinja_env.globals["labels"] = LABELS


@bp.app_context_processor
def _helpers():
    """`may(permission)` to show only the actions the user may take, and today's business date."""
    from ..services.erp.common import business_date

    return {
        "may": lambda permission: g.get("user") is not None and has_permission(g.user, permission),
        "today": business_date(),
    }


def refusal_message(exc):
    """A refusal as the user reads it: for a guard, the rule's own text (zh/en) and the detail."""
    if isinstance(exc, GuardRefused):
        from ..services.erp.rules import rule

        return f"{rule(exc.rule)[current_language()]} ({exc.message})"
    return exc.message


def attempt(call, back):
    """Run a state-changing call; success or refusal is flashed and the user goes to `back`."""
    try:
        call()
    except (InvalidInput, GuardRefused, Conflict, UdiInvalid) as exc:
        flash(refusal_message(exc), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(back)
