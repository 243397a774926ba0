"""The record PDF reads as a record, not a data dump (issue 13 point 12): headings in the reader's language,
field labels from the task forms, plain values (enums by their titles), complete values and Chinese text."""

import io

from pypdf import PdfReader

from tests.helpers import CHANGE_REQUEST, Api, Browser

LONG = "Extend EO pre-conditioning from 60 to 75 minutes. " * 20 + "END-OF-DESCRIPTION"


def _pdf_text(data):
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _flat(text):
    return "".join(text.split())


def _record(app):
    api = Api(app, "requester")
    instance = api.post("/api/v1/process-instances", {"process_key": "change_control"}).get_json()
    data = {**CHANGE_REQUEST, "description": LONG, "title": "灭菌预处理变更"}
    done = api.post(f"/api/v1/tasks/{instance['ready_tasks'][0]['id']}/complete", {"data": data})
    assert done.status_code == 200, done.get_json()
    return instance["id"]


def test_record_pdf_in_chinese_labels_plain_values_complete(app):
    instance_id = _record(app)
    qa = Browser(app, "qa")  # zh-CN, the default language
    pdf = qa.get(f"/audit/instances/{instance_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = _pdf_text(pdf.data)
    flat = _flat(text)
    assert "记录数据" in text and "审计追踪" in text and "电子签名" in text  # headings in Chinese
    assert "Record data" not in text and "Audit trail" not in text
    assert "变更类型" in text and "工艺/过程变更" in text  # the form's label, the enum's title
    assert "change_type" not in text and '"process"' not in text  # no JSON key, no JSON quoting
    assert "灭菌预处理变更" in text  # the CJK font renders Chinese values
    assert '"灭菌预处理变更"' not in text
    # complete values: the long description is printed whole (data table and audit trail), never cut
    assert flat.count(_flat(LONG)) >= 2
    assert "审计检查点：序号" in text


def test_record_pdf_in_english(app):
    instance_id = _record(app)
    qa = Browser(app, "qa")
    qa.post("/locale", {"locale": "en", "next": "/"})
    text = _pdf_text(qa.get(f"/audit/instances/{instance_id}.pdf").data)
    assert "Record data" in text and "Audit trail" in text and "记录数据" not in text
    assert "Change type" in text and "Process" in text and "Proposed effective date" in text
    assert "proposed_effective_date" not in text
    assert "Audit checkpoint: seq" in text
