"""Complaint pages: the list with filters, one complaint (timeline, reports and deadlines, linked
CAPA/recall, other complaints on the lot and on lots made from the same component lots) and the CSV
export. Added to the ERP blueprint by `add_pages(bp)` (endpoints erp.complaint_list, erp.complaint,
erp.complaint_export)."""

import csv
import io

from flask import Blueprint, Response, render_template, request
from sqlalchemy import or_, select

from ...extensions import db
from ...models import AuditEvent
from . import records, report_pdf
from .api import filters_from

# Catalogue msgids of the values the pages show (the templates translate them).
LABELS = {
    "outcome_labels": {
        "death": "Death",
        "serious_injury": "Serious injury",
        "malfunction": "Malfunction that could cause death or serious injury",
        "no_harm": "No harm",
    },
    "status_labels": {"open": "Open", "closed": "Closed", "not_a_complaint": "Not a complaint"},
    "report_state_labels": {"open": "Open", "escalated": "Reminded", "overdue": "Overdue", "submitted": "Submitted"},
    "timeline_labels": {
        "complaint.register": "Complaint registered",
        "complaint.assess": "Initial assessment",
        "complaint.plan_reports": "Reportability decided",
        "complaint.trend": "Trend checked",
        "complaint.trend_assessed": "Trend assessed",
        "complaint.report_escalated": "Report deadline reminder",
        "complaint.report_overdue": "Report overdue",
        "complaint.report_submitted": "Report submitted",
        "complaint.investigate": "Investigation recorded",
        "complaint.respond": "Response to the customer",
        "complaint.close": "Complaint closed",
    },
}


def complaint_list():
    """Complaints, newest first, with the filters of the query string."""
    filters = filters_from(request.args)
    rows = records.list_complaints(**filters)
    return render_template(
        "complaint/complaints.html",
        complaints=[records.complaint_view(c) for c in rows],
        filters=request.args,
        **LABELS,
    )


def _timeline(complaint):
    report_ids = [str(r.id) for r in complaint.reports]
    return db.session.scalars(
        select(AuditEvent)
        .where(
            or_(
                (AuditEvent.entity_type == "complaint") & (AuditEvent.entity_id == complaint.business_key),
                (AuditEvent.entity_type == "complaint_report") & AuditEvent.entity_id.in_(report_ids or [""]),
            )
        )
        .order_by(AuditEvent.seq)
    ).all()


def complaint(business_key):
    """One complaint: facts, timeline, reports and deadlines, links, related complaints."""
    row = records.get_complaint(business_key)
    return render_template(
        "complaint/complaint.html",
        complaint=records.complaint_view(row),
        timeline=_timeline(row),
        related=records.related(row),
        history=records.device_history(row),
        **LABELS,
    )


def complaint_export():
    """The filtered complaints as CSV (UTF-8 with BOM, for spreadsheets)."""
    return _csv(records.csv_rows(records.list_complaints(**filters_from(request.args))), "complaints.csv")


def _csv(rows, filename):
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out).writerows(rows)
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={filename}"}
    )


def complaint_reports_export():
    """Every regulator report with its deadline, reminders, overdue mark and submission, as CSV
    (`?open=true`: only those not yet submitted)."""
    return _csv(records.report_csv_rows(records.all_reports(request.args.get("open") == "true")), "deadlines.csv")


def complaint_report_pdf(business_key, report_id):
    """One regulator report as PDF (fields, deadline, signed submission)."""
    report = records.get_report(report_id, business_key)
    pdf = report_pdf.report_pdf(records.complaint_view(report.complaint), records.report_view(report))
    name = f"{business_key}-{report.market}-{report.rule}.pdf"
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f"attachment; filename={name}"})


def add_pages(bp: Blueprint) -> None:
    """Register the complaint pages on the ERP blueprint (under /erp)."""
    bp.add_url_rule("/complaints", view_func=complaint_list)
    bp.add_url_rule("/complaints/export.csv", view_func=complaint_export)
    bp.add_url_rule("/complaints/deadlines.csv", view_func=complaint_reports_export)
    bp.add_url_rule("/complaints/<business_key>", view_func=complaint)
    bp.add_url_rule("/complaints/<business_key>/reports/<int:report_id>.pdf", view_func=complaint_report_pdf)
