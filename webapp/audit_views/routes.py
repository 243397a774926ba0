"""Audit-trail pages for QA and inspectors: filterable list, per-record trail, CSV and PDF exports
(each export carries the audit checkpoint, read before the events)."""

import csv
import io

from flask import Blueprint, Response, g, render_template, request

from ..bounds import int_arg
from ..models._types import utcnow
from ..reports.pdf import audit_events_pdf, instance_record_pdf
from ..services import attachments, audit, instances, queries, signatures, tasks
from ..services.audit_queries import EventFilter, csv_rows, filter_choices, find_events

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 200


def _exported(action, entity_type, entity_id, filters):
    """Audit the export (in the audit service)."""
    audit.record_export(g.user, action, entity_type, entity_id, filters)


@bp.route("/")
def events():
    """The global audit trail with filters (user, date range, entity, action)."""
    event_filter = EventFilter.from_args(request.args)
    page, before = int_arg("page", 1), int_arg("before")
    rows = find_events(
        event_filter, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE, newest_first=True, before=before
    )
    shown = rows[:PAGE_SIZE]
    return render_template(
        "audit/events.html",
        events=shown,
        older=shown[-1].seq if len(rows) > PAGE_SIZE else None,  # the next page: events before this one
        paged=before is not None or page > 1,
        choices=filter_choices(),
        f=event_filter,
        chain=audit.verify_chain() if request.args.get("verify") else None,
    )


@bp.route("/records/<entity_type>/<entity_id>")
def record(entity_type, entity_id):
    """The audit trail of one record: who, what, when, old → new."""
    rows = find_events(EventFilter(entity_type=entity_type, entity_id=entity_id))
    return render_template(
        "audit/events.html",
        events=rows,
        older=None,
        paged=False,
        choices=filter_choices(),
        f=EventFilter(entity_type=entity_type, entity_id=entity_id),
        chain=None,
    )


@bp.route("/export.csv")
def export_csv():
    """The filtered trail as CSV (UTF-8 with BOM so spreadsheet programs read Chinese correctly)."""
    event_filter = EventFilter.from_args(request.args)
    anchor = audit.checkpoint()  # read before the events: they include everything it names
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer).writerows(csv_rows(find_events(event_filter), anchor))
    _exported("audit.export_csv", "audit_events", "-", request.args.to_dict())
    return Response(
        buffer.getvalue(), mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=audit-trail.csv"}
    )


@bp.route("/export.pdf")
def export_pdf():
    """The filtered trail as PDF for inspectors."""
    args = request.args.to_dict()
    anchor = audit.checkpoint()
    pdf = audit_events_pdf(
        find_events(EventFilter.from_args(request.args)),
        ", ".join(f"{k}={v}" for k, v in args.items() if v),
        g.user.display_name,
        utcnow(),
        anchor,
    )
    _exported("audit.export_pdf", "audit_events", "-", args)
    return Response(
        pdf, mimetype="application/pdf", headers={"Content-Disposition": "attachment; filename=audit-trail.pdf"}
    )


@bp.route("/instances/<int:instance_id>.pdf")
def instance_pdf(instance_id):
    """One process record with its data, signatures (name, time, meaning) and audit trail."""
    instance = instances.get_instance(instance_id)
    if instance is None:
        from ..errors import NotFound

        raise NotFound(f"no process instance {instance_id}")
    anchor = audit.checkpoint()
    pdf = instance_record_pdf(
        instance,
        queries.instance_signatures(instance.id),
        signatures.verify,
        queries.instance_events(instance),
        g.user.display_name,
        utcnow(),
        anchor,
        attachments.of_instance(instance.id),
        tasks.instance_forms(instance),
    )
    _exported("audit.export_record_pdf", "process_instance", instance.id, {})
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename={instance.business_key}.pdf"},
    )
