"""A regulator report as PDF: the fields of the NMPA / FDA 3500A / EU MIR form the data fills, the
deadline and the signed submission (printed name, time, meaning, hash: 21 CFR 11.50).

reportlab's CID font STSong-Light renders Chinese without a font file (as webapp/reports/pdf.py)."""

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .records import MARKETS, REPORT_FORMS

FONT = "STSong-Light"
if FONT not in pdfmetrics.getRegisteredFontNames():
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def report_rows(complaint, report):
    """(label, value) rows of the report, as the PDF prints them."""
    content = report["content"] or {}
    signature = content.get("signature") or {}
    return [
        ("市场 Market", f"{report['market']} {MARKETS[report['market']][1]}"),
        ("报告表 Form", " / ".join(REPORT_FORMS[report["report_form"]])),
        ("规则 Rule", report["rule"]),
        ("获知时间 Awareness (UTC)", complaint["awareness_at"]),
        ("时限 Deadline (UTC)", report["due_at"]),
        ("投诉 Complaint", complaint["business_key"]),
        ("生产企业 Manufacturer", content.get("manufacturer", "")),
        ("产品 Device", content.get("device", "")),
        ("UDI-DI", content.get("udi_di", "")),
        ("批号/序列号 Lot / serial", content.get("lot", "")),
        ("已发货数量 Quantity shipped", content.get("quantity_shipped", "")),
        ("后果 Outcome", complaint["outcome"]),
        ("事件描述 Event", content.get("event_description", "")),
        ("报告编号 Report number", report["report_number"]),
        ("提交日期 Submission date", report["report_date"]),
        ("提交人 Submitted by", f"{report['submitted_by']} {report['submitted_at'] or ''}"),
        ("逾期 Late", f"{'是 yes' if report['late'] else '否 no'} {report['lateness_reason']}"),
        (
            "签名 Signature",
            f"{signature.get('printed_name', '')} · {signature.get('signed_at', '')} · "
            f"{signature.get('meaning', '')} · SHA-256 {signature.get('content_hash', '')}"
            if signature
            else "—",
        ),
    ]


def report_pdf(complaint, report):
    """The PDF bytes of one regulator report (plain views from records.py)."""
    sheet = getSampleStyleSheet()
    for name in ("Normal", "Title"):
        sheet[name].fontName = FONT
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, title=report["rule"])
    rows = [
        [Paragraph(escape(label), sheet["Normal"]), Paragraph(escape(str(value)), sheet["Normal"])]
        for label, value in report_rows(complaint, report)
    ]
    table = Table(rows, colWidths=[50 * mm, 125 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    title = f"{complaint['business_key']} · {REPORT_FORMS[report['report_form']][0]}"
    doc.build([Paragraph(escape(title), sheet["Title"]), Spacer(1, 4 * mm), table])
    return buffer.getvalue()
