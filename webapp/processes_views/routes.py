"""Process definitions, versions, diagrams, deployments and migrations (process owners, QA, admins)."""

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..bounds import int_arg, parse_int
from ..errors import AuthenticationFailed, Conflict, DeploymentInvalid, InvalidInput, PermissionDenied
from ..extensions import db
from ..models import Deployment, ProcessVersion
from ..services import deployments, diagrams, instances, migrations

bp = Blueprint("processes", __name__, url_prefix="/definitions")
SVG = "image/svg+xml"


def _versions(key):
    rows = db.session.scalars(
        select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version.desc())
    ).all()
    if not rows:
        abort(404)
    return rows


@bp.route("/<key>")
def definition(key):
    """A process: its versions, the diagram of one of them, links to diffs and files."""
    versions = _versions(key)
    shown = next((v for v in versions if v.version == int_arg("version")), versions[0])
    return render_template("processes/definition.html", key=key, versions=versions, shown=shown)


@bp.route("/<key>/v<int:number>/diagram.svg")
def version_diagram(key, number):
    """A version's diagram as SVG."""
    return Response(diagrams.version_svg(deployments.get_version(key, number)), mimetype=SVG)


@bp.route("/<key>/v<int:number>/files/<name>")
def version_file(key, number, name):
    """One source file of a version, as stored."""
    text = deployments.get_version(key, number).file_texts.get(name)
    if text is None:
        abort(404)
    mimetype = "application/json" if name.endswith(".json") else "application/xml"
    return Response(text, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/<key>/diff")
def version_diff(key):
    """What changed between two versions: a coloured diagram and lists."""
    old = deployments.get_version(key, int_arg("from", 0))
    new = deployments.get_version(key, int_arg("to", 0))
    changes, _svg = diagrams.diff(old, new)
    return render_template("processes/diff.html", key=key, old=old, new=new, changes=changes)


@bp.route("/<key>/diff.svg")
def diff_svg(key):
    """The new version's diagram with added, removed and changed elements coloured."""
    old = deployments.get_version(key, int_arg("from", 0))
    new = deployments.get_version(key, int_arg("to", 0))
    return Response(diagrams.diff(old, new)[1], mimetype=SVG)


@bp.route("/instances/<int:instance_id>/diagram.svg")
def instance_diagram(instance_id):
    """An instance's diagram with its states and the path taken."""
    instance = instances.get_instance(instance_id)
    if instance is None:
        abort(404)
    return Response(diagrams.instance_svg(instance), mimetype=SVG)


@bp.route("/deployments")
def deployment_list():
    """Deployments, newest first, with the upload form and pending approvals."""
    rows = db.session.scalars(select(Deployment).order_by(Deployment.id.desc()).limit(100)).all()
    return render_template("processes/deployments.html", deployments=rows, report=None)


@bp.route("/deployments", methods=["POST"])
def upload():
    """Deploy uploaded files or zips; show the validation report when invalid (nothing deployed)."""
    uploads = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
    try:
        if not uploads:
            raise InvalidInput("no files uploaded", {"files": "required"})
        outcome = deployments.deploy_uploads(uploads, g.user, request.form.get("comment", ""))
    except DeploymentInvalid as exc:
        rows = db.session.scalars(select(Deployment).order_by(Deployment.id.desc()).limit(100)).all()
        return render_template("processes/deployments.html", deployments=rows, report=exc.errors), 422
    except InvalidInput:
        flash(_("Choose at least one file."), "error")
        return redirect(url_for("processes.deployment_list"))
    created = [f"{r.key} v{r.version}" for r in outcome if r.created]
    flash(_("Deployed: %(v)s.", v=", ".join(created)) if created else _("Nothing changed; no new version."), "success")
    for warning in outcome.warnings:
        flash(warning["message"], "info")
    return redirect(url_for("processes.deployment_list"))


@bp.route("/deployments/<int:deployment_id>/decision", methods=["POST"])
def decide(deployment_id):
    """QA approves a pending deployment with a signature, or rejects it with a reason."""
    approve = request.form.get("decision") == "approve"
    signature = {
        "password": request.form.get("signature_password", ""),
        "meaning": "approved",
        "username": request.form.get("signature_username") or None,
    }
    try:
        deployments.decide_deployment(g.user, deployment_id, approve, signature, request.form.get("reason", ""))
    except AuthenticationFailed:
        flash(_("Signature refused: wrong username or password."), "error")
    except (InvalidInput, Conflict, PermissionDenied) as exc:
        flash(exc.message, "error")
    else:
        flash(_("Deployment approved.") if approve else _("Deployment rejected."), "success")
    return redirect(url_for("processes.deployment_list"))


@bp.route("/<key>/migrations")
def migration_list(key):
    """Running instances of older versions with whether each can move to the chosen version."""
    versions = [v for v in _versions(key) if v.status == "active"]
    target = int_arg("to") or versions[0].version
    return render_template(
        "processes/migrations.html",
        key=key,
        versions=versions,
        target=target,
        candidates=migrations.candidates(key, target),
    )


@bp.route("/<key>/migrations", methods=["POST"])
def migrate(key):
    """Migrate the selected instances, with a reason; per-instance results."""
    target = int_arg("to", source=request.form)
    ids = [parse_int(i, "instance") for i in request.form.getlist("instance") if i.isdigit()]
    reason = request.form.get("reason", "")
    if not reason.strip() or not ids:
        flash(_("Choose instances and give a reason."), "error")
        return redirect(url_for("processes.migration_list", key=key, to=target))
    for instance_id, result in migrations.migrate_batch(g.user, ids, target, reason).items():
        flash(
            f"#{instance_id}: {_('migrated') if result == 'migrated' else result}",
            "success" if result == "migrated" else "error",
        )
    return redirect(url_for("processes.migration_list", key=key, to=target))
