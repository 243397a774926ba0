"""PDF exports for inspectors: a process record with its signatures (11.50) and audit trails.

reportlab's built-in CID font STSong-Light (`UnicodeCIDFont`, no font file needed on any machine) renders
Chinese; its glyphs are used for everything, so no symbol outside it (✓, ✗) is printed. Headings follow the
reader's language; record fields are labelled from the task forms (`title` / `x-title-en`) and shown as
plain values (enums by their titles); every value is printed complete, wrapped, never cut (Part 11
§11.10(b): accurate and complete copies), and a table row taller than a page splits across pages.
"""

import io
import json
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..i18n import enum_labels, label, meaning_label

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles():
    sheet = getSampleStyleSheet()
    for name in ("Normal", "Title", "Heading2"):
        sheet[name].fontName = FONT
        sheet[name].wordWrap = "CJK"  # break anywhere: Chinese text, hashes and long codes wrap too
    sheet["Normal"].fontSize, sheet["Normal"].leading = 8, 10
    return sheet


def _p(text, style):
    """A paragraph of plain text; line breaks in the text are kept."""
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _table(header, rows, styles, widths):
    data = [[_p(h, styles["Normal"]) for h in header]] + [[_p(c, styles["Normal"]) for c in r] for r in rows]
    table = Table(data, colWidths=widths, repeatRows=1, splitInRow=1)
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


def plain(value, node=None):
    """A value as a reader reads it: text and numbers as they are (no JSON quotes), yes/no, an enum by
    its title, an attachment by name and hash, rows and objects as `label: value` lines; complete."""
    node = node if isinstance(node, dict) else {}
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if "enum" in node:
        return str(dict(enum_labels(node)).get(value, value))
    if isinstance(value, dict):
        if node.get("x-attachment") and "sha256" in value:
            return f"{value.get('name')} (SHA-256 {value.get('sha256')})"
        props = node.get("properties") or {}
        return "\n".join(f"{label(props.get(k), fallback=k)}: {plain(v, props.get(k))}" for k, v in value.items())
    if isinstance(value, list):
        item = node.get("items") or {}
        return "\n".join(f"{i}. {plain(v, item)}" for i, v in enumerate(value, 1)) or "—"
    if isinstance(value, float | int):
        return str(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _audit_value(value, nodes=None):
    """An audit event's before/after, complete: `key: value` lines, a form field by its label and value
    (at any depth: submitted data sits under `data`), other keys by name, nested objects indented."""
    if value is None:
        return ""
    nodes = nodes or {}
    if not isinstance(value, dict):
        return plain(value)
    lines = []
    for key, item in value.items():
        if key in nodes:
            lines.append(f"{label(nodes[key], fallback=key)}: {plain(item, nodes[key])}")
        elif isinstance(item, dict) and item:
            lines.append(f"{key}:")
            lines.extend("  " + line for line in _audit_value(item, nodes).split("\n"))
        else:
            lines.append(f"{key}: {plain(item)}")
    return "\n".join(lines)


def form_fields(forms):
    """{field name: schema node} over `forms` (a field several forms declare takes the first form's node)."""
    nodes: dict = {}
    for form in forms:
        for name, node in (((form or {}).get("schema") or {}).get("properties") or {}).items():
            if isinstance(node, dict):
                nodes.setdefault(name, node)
    return nodes


def record_rows(forms, data):
    """(label, value) rows of an instance's data, labelled from its task forms in the reader's language;
    keys no form declares keep their name."""
    nodes = form_fields(forms)
    rows = [(label(nodes[k], fallback=k), plain(v, nodes[k])) for k, v in (data or {}).items() if k in nodes]
    rows.sort(key=lambda r: r[0])
    rows += [(k, plain(v)) for k, v in sorted((data or {}).items()) if k not in nodes]
    return [list(r) for r in rows]


def _utc(at, fmt="%Y-%m-%d %H:%M:%S"):
    return f"{at.strftime(fmt)} UTC" if at else ""


def signature_rows(signatures, verify):
    """Rows of the signature table: printed name, UTC time, meaning, hash, verification."""
    return [
        [
            s.content.get("task", s.bpmn_id),
            f"{s.printed_name} ({s.signer.username})",
            _utc(s.signed_at),
            meaning_label(s.meaning),
            s.content_hash,
            (_("intact") if verify(s) else _("BROKEN")) + _changed_note(s),
        ]
        for s in signatures
    ]


def _changed_note(signature):
    from ..services.signatures import changed_after_signing

    changed = changed_after_signing(signature)
    if changed is None:
        return ""
    note = _("changed after signing: %(fields)s", fields=", ".join(changed["fields"]))
    if changed["by"]:
        note += " " + _("by %(user)s at %(at)s", user=changed["by"], at=_utc(changed["at"], "%Y-%m-%d %H:%M"))
    return "; " + note


def event_rows(events, nodes=None):
    """Rows of the audit-trail table: before and after complete (never cut), as `key: value` lines
    (form fields by their labels, from `nodes`)."""
    return [
        [
            e.seq,
            _utc(e.at),
            e.actor_name,
            e.action,
            f"{e.entity_type} {e.entity_id}",
            _audit_value(e.before, nodes),
            _audit_value(e.after, nodes),
            e.reason or "",
        ]
        for e in events
    ]


def event_header():
    return ["#", _("Time"), _("Actor"), _("Action"), _("Entity"), _("Before"), _("After"), _("Reason")]


def signature_header():
    return [_("Task"), _("Signed by"), _("Signed at"), _("Meaning"), _("SHA-256 of signed content"), _("Verification")]


EVENT_WIDTHS = [10 * mm, 32 * mm, 22 * mm, 30 * mm, 30 * mm, 60 * mm, 60 * mm, 25 * mm]
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
        return _("Audit checkpoint: MISSING")
    return _(
        "Audit checkpoint: seq %(seq)s · %(events)s events · head hash %(hash)s · at %(at)s",
        seq=checkpoint["seq"],
        events=checkpoint["events"],
        hash=checkpoint["hash"],
        at=checkpoint["at"],
    )


def attachment_rows(attachments):
    """Rows of the attachment table: name, size, content type, SHA-256, since when immutable."""
    return [[a.name, str(a.size), a.content_type, a.sha256, _utc(a.locked_at)] for a in attachments]


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


def _exported_line(generated_by, generated_at):
    return _("exported by %(user)s at %(at)s", user=generated_by, at=_utc(generated_at))


def instance_record_pdf(
    instance, signatures, verify, events, generated_by, generated_at, checkpoint=None, attachments=(), forms=()
):
    """The record of one process instance: data (labelled from its task `forms`), attachments (by name and
    hash), signatures and audit trail (with the checkpoint), headed in the reader's language."""
    st = _styles()
    blocks = [
        _p(f"{instance.business_key} · {instance.version.name} v{instance.version.version}", st["Title"]),
        _p(
            _("Status %(status)s · initiator %(user)s", status=_(instance.status), user=instance.initiator.display_name)
            + " · "
            + _exported_line(generated_by, generated_at),
            st["Normal"],
        ),
        Spacer(1, 4 * mm),
        _p(_("Record data"), st["Heading2"]),
        _table([_("Field"), _("Value")], record_rows(forms, instance.data), st, [60 * mm, 217 * mm]),
        _p(_("Attachments"), st["Heading2"]),
        _table(
            [_("Name"), _("Bytes"), _("Content type"), "SHA-256", _("Immutable since")],
            attachment_rows(attachments),
            st,
            [60 * mm, 18 * mm, 45 * mm, 114 * mm, 40 * mm],
        ),
        _p(_("Electronic signatures"), st["Heading2"]),
        _table(signature_header(), signature_rows(signatures, verify), st, SIGNATURE_WIDTHS),
        _p(_("Training of the completer at completion (tasks that require training)"), st["Heading2"]),
        _table(
            [_("Task"), _("User"), _("Document"), _("Trained at"), _("Training signature SHA-256")],
            training_rows(events),
            st,
            [55 * mm, 30 * mm, 35 * mm, 45 * mm, 112 * mm],
        ),
        _p(_("Audit trail"), st["Heading2"]),
        _table(event_header(), event_rows(events, form_fields(forms)), st, EVENT_WIDTHS),
        _p(checkpoint_text(checkpoint), st["Normal"]),
    ]
    return _document(instance.business_key, blocks)


def audit_events_pdf(events, filters_text, generated_by, generated_at, checkpoint=None):
    """A filtered audit trail; signing events show the signer's printed name and meaning; the
    audit checkpoint follows the table."""
    st = _styles()
    blocks = [
        _p(_("Audit trail"), st["Title"]),
        _p(
            _("Filters: %(filters)s", filters=filters_text or _("none"))
            + " · "
            + _("%(count)s events", count=len(events))
            + " · "
            + _exported_line(generated_by, generated_at),
            st["Normal"],
        ),
        Spacer(1, 4 * mm),
        _table(event_header(), event_rows(events), st, EVENT_WIDTHS),
        _p(checkpoint_text(checkpoint), st["Normal"]),
    ]
    return _document(_("Audit trail"), blocks)
