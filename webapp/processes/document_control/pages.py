"""Document-control pages: the register, one document (versions, history, files, training), my
training with its "read and understood" signature, and the training matrix. Added to the ERP
blueprint by `add_pages(bp)` (endpoints erp.document_list, erp.document, erp.my_training,
erp.training_sign, erp.training_matrix, erp.training_matrix_csv, erp.user_training)."""

import csv
import io

from flask import Blueprint, Response, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ...errors import AuthenticationFailed, Conflict, InvalidInput
from . import records, training, views


def document_list():
    """The register of controlled documents."""
    return render_template(
        "document_control/documents.html", documents=[views.document_view(d) for d in records.list_documents()]
    )


def document(number):
    """One controlled document: its versions with approvers, files (name and hash), reviews, training."""
    return render_template("document_control/document.html", doc=views.document_view(records.get_document(number)))


def my_training():
    """The current user's training: what is assigned (and overdue), what is completed."""
    rows = [views.training_view(r) for r in training.records_of(g.user)]
    return render_template("document_control/training.html", rows=rows, ask_username=not session.get("has_signed"))


def training_sign(record_id):
    """Sign one training record "read and understood" (password, and the username at a session's first signing)."""
    username = request.form.get("signature_username") or None
    if not session.get("has_signed") and not username:
        flash(_("The first signature of a session needs the username as well."), "error")
        return redirect(url_for("erp.my_training"))
    record = training.get_record(record_id)
    answers = [request.form.get(f"answer-{i}") or "" for i in range(len(record.version.quiz or []))]
    try:
        training.complete(g.user, record_id, request.form.get("signature_password", ""), username, answers)
    except AuthenticationFailed:
        flash(_("Signature refused: wrong username or password."), "error")
    except Conflict:
        flash(_("This training is completed already."), "info")
    except training.QuizFailed as exc:
        flash(
            _(
                "Quiz score %(score)s%% is below the pass mark of %(mark)s%%: read the document and try again.",
                score=exc.errors["score_pct"],
                mark=exc.errors["pass_mark_pct"],
            ),
            "error",
        )
    except InvalidInput:
        flash(_("Answer every quiz question."), "error")
    else:
        session["has_signed"] = True
        flash(_("Training signed: read and understood."), "success")
    return redirect(url_for("erp.my_training"))


def user_training(username):
    """One user's training record (for QA): every assignment, its due date and signature."""
    user = records.user_named(username)
    if user is None:
        from ...errors import NotFound

        raise NotFound(f"no user {username}")
    rows = [views.training_view(r) for r in training.records_of(user)]
    return render_template("document_control/training.html", rows=rows, trainee=user, ask_username=False)


def training_matrix():
    """Users × documents: current, overdue, assigned or missing training on each effective version."""
    return render_template("document_control/matrix.html", matrix=training.matrix())


def training_matrix_csv():
    """The training matrix as CSV (one row per user, one column per document version)."""
    matrix = training.matrix()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user", "name", *[f"{number} {version}" for number, version in matrix["documents"]]])
    for row in matrix["rows"]:
        writer.writerow([row["user"], row["name"], *row["cells"]])
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=training-matrix.csv"},
    )


def add_pages(bp: Blueprint) -> None:
    """Register the document-control pages on the ERP blueprint (under /erp)."""
    bp.add_url_rule("/documents", view_func=document_list)
    bp.add_url_rule("/documents/<number>", view_func=document)
    bp.add_url_rule("/training", view_func=my_training)
    bp.add_url_rule("/training/<int:record_id>/sign", view_func=training_sign, methods=["POST"])
    bp.add_url_rule("/training/matrix", view_func=training_matrix)
    bp.add_url_rule("/training/matrix.csv", view_func=training_matrix_csv)
    bp.add_url_rule("/training/users/<username>", view_func=user_training)
