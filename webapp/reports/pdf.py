"""PDF exports for inspectors: a process record with its signatures (11.50) and audit trails.

reportlab's built-in CID font STSong-Light renders Chinese without shipping a font file.
"""

import io
import json
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles():
    sheet = getSampleStyleSheet()
    for name in ("Normal", "Title", "Heading2"):
        sheet[name].fontName = FONT
    sheet["Normal"].fontSize, sheet["Normal"].leading = 8, 10
    return sheet


def _p(text, style):
    return Paragraph(escape(str(text if text is not None else "")), style)


def _table(header, rows, styles, widths):
    data = [[_p(h, styles["Normal"]) for h in header]] + [[_p(c, styles["Normal"]) for c in r] for r in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _short(value):
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)[:400]


def signature_rows(signatures, verify):
    """Rows of the signature table: printed name, UTC time, meaning, hash, verification."""
    return [
        [
            s.content.get("task", s.bpmn_id),
            f"{s.printed_name} ({s.signer.username})",
            s.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            s.meaning,
            s.content_hash,
            ("intact" if verify(s) else "BROKEN") + _changed_note(s),
        ]
        for s in signatures
    ]


def _changed_note(signature):
    from ..services.signatures import changed_after_signing

    changed = changed_after_signing(signature)
    if changed is None:
        return ""
    who = f" by {changed['by']} at {changed['at']:%Y-%m-%d %H:%M} UTC" if changed["by"] else ""
    return f"; changed after signing: {', '.join(changed['fields'])}{who}"


def event_rows(events):
    """Rows of the audit-trail table."""
    return [
        [
            e.seq,
            e.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            e.actor_name,
            e.action,
            f"{e.entity_type} {e.entity_id}",
            _short(e.before),
            _short(e.after),
            e.reason or "",
        ]
        for e in events
    ]


EVENT_HEADER = ["#", "time", "actor", "action", "entity", "before", "after", "reason"]
EVENT_WIDTHS = [10 * mm, 32 * mm, 22 * mm, 30 * mm, 30 * mm, 60 * mm, 60 * mm, 25 * mm]
SIGNATURE_HEADER = ["task", "signed by", "signed at", "meaning", "SHA-256 of signed content", "verification"]
SIGNATURE_WIDTHS = [35 * mm, 40 * mm, 35 * mm, 20 * mm, 115 * mm, 22 * mm]


def _document(title, blocks):
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=title,
    )
    doc.build(blocks)
    return buffer.getvalue()


def checkpoint_text(checkpoint):
    """The audit checkpoint line every audit export carries."""
    if checkpoint is None:
        return "audit checkpoint: MISSING"
    return (
        f"audit checkpoint: seq {checkpoint['seq']} · {checkpoint['events']} events · "
        f"head hash {checkpoint['hash']} · at {checkpoint['at']}"
    )


def attachment_rows(attachments):
    """Rows of the attachment table: name, size, content type, SHA-256, since when immutable."""
    return [
        [
            a.name,
            str(a.size),
            a.content_type,
            a.sha256,
            a.locked_at.strftime("%Y-%m-%d %H:%M:%S UTC") if a.locked_at else "",
        ]
        for a in attachments
    ]


def training_rows(events):
    """Rows of the completers' training at completion (a task requiring training records it with its
    `task.complete` event): task, user, document and revision, when trained, the training signature's hash."""
    return [
        [
            e.entity_id,
            e.actor_name,
            f"{t.get('document')} {t.get('revision')}",
            t.get("trained_at") or "",
            t.get("content_hash") or "",
        ]
        for e in events
        if e.action == "task.complete"
        for t in (e.after or {}).get("training") or []
    ]


def instance_record_pdf(
    instance, signatures, verify, events, generated_by, generated_at, checkpoint=None, attachments=()
):
    """The record of one process instance: data, attachments (by name and hash), signatures and
    audit trail (with the checkpoint)."""
    st = _styles()
    blocks = [
        _p(f"{instance.business_key} · {instance.version.name} v{instance.version.version}", st["Title"]),
        _p(
            f"status {instance.status} · initiator {instance.initiator.display_name} · exported by "
            f"{generated_by} at {generated_at:%Y-%m-%d %H:%M:%S} UTC",
            st["Normal"],
        ),
        Spacer(1, 4 * mm),
        _p("Record data", st["Heading2"]),
        _table(
            ["field", "value"],
            [[k, _short(v)] for k, v in sorted((instance.data or {}).items())],
            st,
            [60 * mm, 217 * mm],
        ),
        _p("Attachments", st["Heading2"]),
        _table(
            ["name", "bytes", "content type", "SHA-256", "immutable since"],
            attachment_rows(attachments),
            st,
            [60 * mm, 18 * mm, 45 * mm, 114 * mm, 40 * mm],
        ),
        _p("Electronic signatures", st["Heading2"]),
        _table(SIGNATURE_HEADER, signature_rows(signatures, verify), st, SIGNATURE_WIDTHS),
        _p("Training of the completer at completion (tasks that require training)", st["Heading2"]),
        _table(
            ["task", "user", "document", "trained at", "training signature SHA-256"],
            training_rows(events),
            st,
            [55 * mm, 30 * mm, 35 * mm, 45 * mm, 112 * mm],
        ),
        _p("Audit trail", st["Heading2"]),
        _table(EVENT_HEADER, event_rows(events), st, EVENT_WIDTHS),
        _p(checkpoint_text(checkpoint), st["Normal"]),
    ]
    return _document(instance.business_key, blocks)


def audit_events_pdf(events, filters_text, generated_by, generated_at, checkpoint=None):
    """A filtered audit trail; signing events show the signer's printed name and meaning; the
    audit checkpoint follows the table."""
    st = _styles()
    blocks = [
        _p("Audit trail", st["Title"]),
        _p(
            f"filters: {filters_text or 'none'} · {len(events)} events · exported by {generated_by} at "
            f"{generated_at:%Y-%m-%d %H:%M:%S} UTC",
            st["Normal"],
        ),
        Spacer(1, 4 * mm),
        _table(EVENT_HEADER, event_rows(events), st, EVENT_WIDTHS),
        _p(checkpoint_text(checkpoint), st["Normal"]),
    ]
    return _document("Audit trail", blocks)
