"""User and role administration. Admins manage accounts but never learn a password a user keeps:
new accounts and resets get a one-time password that must be changed at the next login."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import Role, User
from ..services import sessions, users

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _roles_from(form):
    return sorted({r.strip() for r in form.getlist("roles") + form.get("new_roles", "").split(",") if r.strip()})


@bp.route("/users")
def user_list():
    """All accounts with their roles and state."""
    accounts = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=accounts)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Create an account with a one-time password shown once to the admin."""
    errors = {}
    if request.method == "POST":
        try:
            user, temporary = users.create_with_one_time_password(
                g.user, request.form.get("username", ""), _roles_from(request.form), request.form.get("full_name", "")
            )
        except InvalidInput as exc:
            errors = exc.errors
        else:
            flash(
                _("Account %(u)s created. One-time password (shown once): %(p)s", u=user.username, p=temporary),
                "success",
            )
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template(
        "admin/user_form.html", account=None, errors=errors, all_roles=_all_roles()
    ), 400 if errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id):
    """Change roles, activity or lock state; reset the password; end the user's sessions."""
    account = db.session.get(User, user_id)
    if account is None:
        raise NotFound(f"no user {user_id}")
    if request.method == "POST":
        action = request.form.get("action")
        if action == "reset":
            temporary = users.reset_password(g.user, user_id)
            flash(_("Password reset. One-time password (shown once): %(p)s", p=temporary), "success")
        elif action == "end_sessions":
            ended = users.end_user_sessions(g.user, user_id)
            flash(_("Sessions ended: %(n)s. The user must log in again.", n=ended), "success")
        else:
            users.update_user(
                g.user,
                user_id,
                roles=_roles_from(request.form),
                active=request.form.get("active") == "true",
                full_name=request.form.get("full_name", account.full_name),
                unlock=action == "unlock",
            )
            flash(_("Account updated."), "success")
        return redirect(url_for("admin.user_edit", user_id=user_id))
    return render_template(
        "admin/user_form.html",
        account=account,
        errors={},
        all_roles=_all_roles(),
        open_sessions=sessions.open_sessions(account.id),
    )


def _all_roles():
    return db.session.scalars(select(Role).order_by(Role.name)).all()
