"""Login, logout and the language switch."""

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..errors import AuthenticationFailed, InvalidInput
from ..i18n import SUPPORTED
from ..security import log_in, log_out, safe_next
from ..services.users import authenticate, record_login
from ..services.users import change_password as change_password_service
from ..services.users import set_locale as remember_locale

bp = Blueprint("auth", __name__)


def _safe_next(target):
    """Only same-site relative paths are followed after login (else the inbox)."""
    return safe_next(target, url_for("main.inbox"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on POST check the password and start a session."""
    if request.method == "POST":
        try:
            user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        except AuthenticationFailed:
            flash(_("Invalid username or password."), "error")
            return render_template("auth/login.html"), 401
        log_in(user)
        record_login(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html")


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session (on the server: a copy of the cookie stops working too)."""
    log_out(g.user)
    return redirect(url_for("auth.login"))


@bp.route("/locale", methods=["POST"])
def set_locale():
    """Switch the interface language for this session."""
    choice = request.form.get("locale")
    if choice in SUPPORTED:
        session["locale"] = choice
        if g.get("user") is not None:
            remember_locale(g.user, choice)
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    """Change one's own password (forced after an admin reset or when it has expired)."""
    errors = {}
    if request.method == "POST":
        new = request.form.get("new_password", "")
        if new != request.form.get("confirm_password", ""):
            errors = {"confirm_password": _("The two new passwords differ.")}
        else:
            try:
                change_password_service(g.user, request.form.get("current_password", ""), new)
            except AuthenticationFailed:
                errors = {"current_password": _("The current password is wrong.")}
            except InvalidInput as exc:
                errors = {"new_password": exc.message}
            else:
                log_in(g.user)
                flash(_("Password changed."), "success")
                return redirect(url_for("main.inbox"))
    return render_template("auth/password.html", errors=errors), 400 if errors else 200
