"""The task inbox, the start page, the task form and the instance pages."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..bounds import int_arg
from ..downloads import file_response
from ..errors import (
    AuthenticationFailed,
    Conflict,
    FileRefused,
    FormInvalid,
    GuardRefused,
    IncidentRaised,
    InvalidInput,
    PermissionDenied,
)
from ..formrender import attachment_fields, display_pairs, fields_for, parse_submission
from ..i18n import task_title
from ..security import safe_next
from ..services import attachments, incidents, instances, messages, notifications, queries, signatures, starting, tasks
from ..services import inbox as inbox_service
from ..services.deployments import latest_version

bp = Blueprint("main", __name__)


@bp.route("/")
def inbox():
    """The user's open tasks, one page at a time: search, filters and sort live in the URL."""
    query, cursor = _inbox_query(request.args)
    try:
        found = inbox_service.page(g.user, query, limit=INBOX_PAGE, cursor=cursor)
    except InvalidInput:  # a stale or hand-edited cursor: start again at the first page
        found, cursor = inbox_service.page(g.user, query, limit=INBOX_PAGE), None
    filters = {k: v for k, v in request.args.items() if k != "cursor" and v}
    return render_template(
        "main/inbox.html",
        found=found,
        cannot_sign=_cannot_sign(found.rows),
        gated={t.task_id: _refusal_text(r) for t in found.rows if (r := tasks.gate_refusal(g.user, t)) is not None},
        query=query,
        filters=filters,
        cursor=cursor,
        cap=inbox_service.COUNT_CAP,
        processes=instances.versions_by_key(),
        roles=sorted(g.user.role_names),
        notes=notifications.unread(g.user),
    )


INBOX_PAGE = 50


def _cannot_sign(rows):
    """The signature steps on the page that segregation of duties keeps this user from signing."""
    return {
        row.task_id
        for row in rows
        if row.signature_properties
        and signatures.segregation_conflict(g.user, signatures.requirement_of(row), row.instance, row)
    }


def _inbox_query(args):
    """The InboxQuery of the inbox's URL; values outside the choices are dropped, not an error page."""
    pick = {
        "due": args.get("due") if args.get("due") in inbox_service.DUE_FILTERS else None,
        "sort": args.get("sort") if args.get("sort") in inbox_service.SORTS else "due",
    }
    query = inbox_service.InboxQuery(
        mine=args.get("mine") == "1",
        process=(args.get("process") or None),
        role=(args.get("role") or None),
        q=(args.get("q") or "").strip()[:200] or None,
        **pick,
    )
    return query, args.get("cursor") or None


@bp.route("/notifications/read", methods=["POST"])
def notifications_read():
    """Mark the user's notifications read."""
    notifications.mark_read(g.user)
    return redirect(url_for("main.inbox"))


@bp.route("/processes")
def processes():
    """The processes this user may start."""
    versions = {key: vs[0] for key, vs in instances.versions_by_key().items()}
    startable = {k: v for k, v in versions.items() if instances.may_start(g.user, v)}
    return render_template("main/processes.html", versions=startable)


@bp.route("/processes/<key>/new", methods=["GET", "POST"])
def start_form(key):
    """The first form of a process: the instance is created by the first submit (an abandoned
    start leaves nothing); processes without such a form are started from a button, as before."""
    version = latest_version(key)  # NotFound (404) for a process that does not exist
    first = starting.first_form(g.user, key)
    if first is None:  # a start button, as before (its POST checks the start roles, audited)
        return render_template("main/start.html", key=key, first=None, fields=[], errors={}, version=version)
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        values = parse_submission(first.form, request.form)
        errors = _take_uploads(first.form, values)
        try:
            if errors:
                raise FormInvalid("refused uploads", errors)
            instance = starting.start_with_first_task(g.user, key, values)
        except FormInvalid as exc:
            errors, status = exc.errors, 400
            flash(_("Please correct the marked fields."), "error")
        except (IncidentRaised, GuardRefused, InvalidInput, PermissionDenied) as exc:
            errors, status = exc.errors or {}, exc.status
            flash(_refusal_text(exc), "error")
        else:
            flash(_("Started %(key)s.", key=instance.business_key), "success")
            return redirect(_after_completion(instance))
    return render_template(
        "main/start.html",
        key=key,
        first=first,
        version=version,
        fields=fields_for(first.form, values, errors),
        errors=errors,
    ), status


@bp.route("/processes/<key>/start", methods=["POST"])
def start(key):
    """Start a new instance of `key` and go to its first task when it is ours."""
    instance = instances.start_instance(g.user, key)
    flash(_("Started %(key)s.", key=instance.business_key), "success")
    for row in queries.open_tasks(g.user, process_instance_id=instance.id):
        return redirect(url_for("main.task", task_id=row.task_id))
    return redirect(url_for("main.instance", instance_id=instance.id))


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
def task(task_id):
    """Show a task's form; on POST complete it, or show field errors and keep what was typed."""
    row = tasks.get_task(task_id)
    if row.completed_at is not None:
        flash(_("This task is already completed."), "info")
        return redirect(url_for("main.instance", instance_id=row.instance_id))
    form = tasks.task_form(row) or {"schema": {}, "ui_schema": {}}
    requirement = signatures.requirement_of(row)
    values, errors, status = row.instance.data, {}, 200
    if request.method == "POST":
        if attachment_fields(form):  # a body far over the attachment limit is refused (413) before it is parsed
            count = len(attachment_fields(form))
            request.max_content_length = count * attachments.max_bytes() + attachments.MULTIPART_MARGIN
        values = parse_submission(form, request.form)
        errors = _take_uploads(form, values)
        try:
            if errors:
                raise FormInvalid("refused uploads", errors)
            instance = tasks.complete_task(
                g.user,
                task_id,
                values,
                _signature_from(request.form, requirement),
                username_required=not session.get("has_signed"),
            )
        except FormInvalid as exc:
            errors, status = exc.errors, 400
            flash(_("Please correct the marked fields."), "error")
        except InvalidInput as exc:
            errors, status = exc.errors, 400
            flash(_("The signature is incomplete."), "error")
        except (IncidentRaised, GuardRefused) as exc:
            status = 422
            flash(_refusal_text(exc), "error")
        except AuthenticationFailed:
            errors, status = {"signature": _("Signature refused: wrong username or password.")}, 401
            flash(_("Signature refused: wrong username or password."), "error")
        except PermissionDenied as exc:  # on the page, in the reader's language, what they typed kept
            status = 403
            flash(_refusal_text(exc), "error")
        else:
            session["has_signed"] = session.get("has_signed") or requirement is not None
            flash(_("Signed and completed.") if requirement else _("Task completed."), "success")
            return redirect(_after_completion(instance))
    conflict = (
        signatures.segregation_conflict(g.user, requirement, row.instance, row)
        if requirement is not None and tasks.may_work(g.user, row)
        else None
    )
    return render_template(
        "main/task.html",
        row=row,
        fields=fields_for(form, values, errors),
        errors=errors,
        requirement=requirement,
        ask_username=not session.get("has_signed"),
        signed=signatures.signatures_on(row.task_id) if requirement else [],
        may_work=tasks.may_work(g.user, row),
        segregation=_segregation_text(*conflict) if conflict else None,
        other_signers=signatures.eligible_signers(requirement, row.instance, row) if conflict else [],
        gate_reason=_refusal_text(refusal) if (refusal := tasks.gate_refusal(g.user, row)) else None,
    ), status


def _segregation_text(kind, step=None):
    """Why the user may not sign this step, in their language."""
    if kind == "initiator":
        return _("You started this record, so you cannot sign this step (segregation of duties).")
    if kind == "earlier_step":
        return _(
            "You completed “%(step)s” in this record, so you cannot sign this step (segregation of duties).", step=step
        )
    return _("You have signed this step already; it needs a different, additional signer.")


def _refusal_text(exc):
    """A refusal in the user's language: segregation of duties by its rule; a missing-training or
    unreleased-documents gate names what is missing; other refusals keep their message."""
    if exc.errors and exc.errors.get("segregation"):
        return _segregation_text(exc.errors["segregation"], exc.errors.get("step"))
    missing = exc.errors.get("missing") if isinstance(exc, GuardRefused) else None
    if not missing:
        return exc.message
    return _("Refused: %(missing)s.", missing="; ".join(_(m["reason"], **m) for m in missing))


def _after_completion(instance):
    """Where a completed task leads: the user's next open task in the same record, else the inbox
    with a note of what is next (the instance page when nothing is left for them)."""
    for row in queries.open_tasks(g.user, process_instance_id=instance.id):
        flash(_("Next: %(task)s.", task=task_title(row)), "info")
        return url_for("main.task", task_id=row.task_id)
    return url_for("main.instance", instance_id=instance.id, done=1)  # the page offers the inbox's next task


def _take_uploads(form, values):
    """Store the files chosen in the form's attachment inputs (their refs go into `values`); a
    field error for each refused one. A hidden id names a file uploaded at an earlier attempt."""
    errors = {}
    for name in attachment_fields(form):
        upload = request.files.get(name)
        if upload is not None and upload.filename:
            try:
                values[name] = attachments.upload(g.user, upload.filename, upload.stream).ref()
            except FileRefused as exc:
                errors[name] = exc.errors.get("file") or exc.message
        elif isinstance(values.get(name), int):
            values[name] = attachments.get(values[name]).ref()
    return errors


@bp.route("/attachments/<int:attachment_id>")
def attachment(attachment_id):
    """Download an attachment (permission-checked and audited like the API's)."""
    return file_response(*attachments.download(g.user, attachment_id))


def _signature_from(form, requirement):
    """The signature fields of a task form, or None for an ordinary task."""
    if requirement is None:
        return None
    return {
        "password": form.get("signature_password", ""),
        "meaning": form.get("signature_meaning", ""),
        "username": form.get("signature_username") or None,
    }


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
def claim(task_id):
    """Take a task from the role queue (refused, with the reason, when it requires training the user lacks)."""
    try:
        tasks.claim_task(g.user, task_id)
    except GuardRefused as exc:
        flash(_refusal_text(exc), "error")
        return redirect(url_for("main.inbox"))
    return redirect(safe_next(request.form.get("next"), url_for("main.task", task_id=task_id)))


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
def unclaim(task_id):
    """Give a claimed task back to its role queue."""
    tasks.unclaim_task(g.user, task_id)
    return redirect(url_for("main.inbox"))


@bp.route("/instances/<int:instance_id>/cancel", methods=["POST"])
def cancel(instance_id):
    """Cancel a running process, with the reason the user gives."""
    try:
        instances.cancel_instance(g.user, instance_id, request.form.get("reason", ""))
    except InvalidInput:
        flash(_("A reason is required to cancel a process."), "error")
    else:
        flash(_("The process was cancelled."), "success")
    return redirect(url_for("main.instance", instance_id=instance_id))


@bp.route("/instances/<int:instance_id>/incidents/<int:incident_id>/retry", methods=["POST"])
def retry_incident(instance_id, incident_id):
    """Run the failed step again with the data that was submitted."""
    try:
        tasks.retry_incident(g.user, incident_id)
    except (IncidentRaised, InvalidInput) as exc:
        flash(exc.message, "error")
    else:
        flash(_("The step ran; the incident is resolved."), "success")
    return redirect(url_for("main.instance", instance_id=instance_id))


@bp.route("/instances/<int:instance_id>/messages/<int:message_id>/retry", methods=["POST"])
def retry_message(instance_id, message_id):
    """Deliver a pending message again now (after its receiver was fixed)."""
    try:
        message = messages.retry(g.user, message_id)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        if message.delivered_at is not None:
            flash(_("The message was delivered."), "success")
        else:
            flash(_("The message is still not delivered: %(reason)s", reason=message.last_error or ""), "error")
    return redirect(url_for("main.instance", instance_id=instance_id))


@bp.route("/instances")
def instance_list():
    """Process instances, newest first, 50 a page: search by business key, filter by process, status,
    started by me, or (?attention=1) those with an open incident or an undelivered message."""
    attention = queries.needing_attention()
    only = request.args.get("attention") == "1"
    args = request.args
    shown, total, older = queries.instance_page(
        process=args.get("process") or None,
        status=args.get("status") or None,
        q=(args.get("q") or "").strip()[:100] or None,
        mine_id=g.user.id if args.get("mine") == "1" else None,
        ids=set(attention) if only else None,
        before=int_arg("before"),
    )
    filters = {k: v for k, v in args.items() if k != "before" and v}
    return render_template(
        "main/instances.html",
        instances=shown,
        attention=attention,
        only_attention=only,
        total=total,
        capped=total > queries.INSTANCE_COUNT_CAP,
        older=older,
        filters=filters,
        processes=instances.versions_by_key(),
        statuses=queries.INSTANCE_STATUSES,
    )


@bp.route("/instances/<int:instance_id>")
def instance(instance_id):
    """Status, current tasks and history of one instance."""
    inst = instances.get_instance(instance_id)
    if inst is None:
        abort(404)
    history = queries.instance_tasks(inst.id)
    submitted = {
        row.id: display_pairs(tasks.task_form(row), row.submitted_data) for row in history if row.submitted_data
    }
    signature_rows = [
        (s, signatures.verify(s), signatures.changed_after_signing(s)) for s in queries.instance_signatures(inst.id)
    ]
    return render_template(
        "main/instance.html",
        instance=inst,
        history=history,
        submitted=submitted,
        signature_rows=signature_rows,
        incidents=incidents.open_incidents(inst.id),
        pending_messages=messages.pending_from(inst.id),
        events=queries.instance_events(inst),
        latest=latest_version(inst.version.key),
        # just completed a task here: offer the user's next one from the inbox
        next_task=(inbox_service.page(g.user, inbox_service.InboxQuery(), limit=1).rows or [None])[0]
        if request.args.get("done")
        else None,
        files=attachments.of_instance(inst.id),
    )
