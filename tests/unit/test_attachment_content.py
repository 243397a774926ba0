"""Attachment content checks (webapp/services/attachments/content.py), with no app: the type comes
from the bytes (the allow-list PDF, PNG, JPEG, DOCX, XLSX, CSV, TXT) and must agree with the name's
extension; names are made safe."""

import io
import zipfile

import pytest

from webapp.errors import FileRefused
from webapp.services.attachments.content import ALLOWED, detect, safe_name


def _ooxml(part):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


@pytest.mark.parametrize(
    "name, data, kind",
    [
        ("cert.pdf", PDF, "pdf"),
        ("label.png", PNG, "png"),
        ("photo.JPG", JPEG, "jpeg"),
        ("photo.jpeg", JPEG, "jpeg"),
        ("sop.docx", _ooxml("word/document.xml"), "docx"),
        ("plan.xlsx", _ooxml("xl/workbook.xml"), "xlsx"),
        ("rows.csv", b"lot,qty\nK1,10\n", "csv"),
        ("说明.txt", "中文说明\n".encode(), "txt"),
    ],
)
def test_allowed_types_are_detected_from_their_content(name, data, kind):
    assert detect(name, data) == ALLOWED[kind][0]


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00", "content type not allowed"),
        ("tool.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "content type not allowed"),
        ("bundle.docx", _ooxml("other/file.xml"), "content type not allowed"),  # a plain zip
        ("script.exe", b"echo hello\n", "name does not match the content"),
        ("cert.png", PDF, "name does not match the content"),
        ("noext", b"plain text", "name does not match the content"),
        ("blob.txt", b"\x00\x01\x02\x03", "content type not recognised"),
        ("latin1.txt", b"caf\xe9", "content type not recognised"),
        ("empty.txt", b"", "content type not recognised"),
    ],
)
def test_other_content_is_refused_with_the_reason(name, data, reason):
    with pytest.raises(FileRefused) as refused:
        detect(name, data)
    assert refused.value.errors == {"file": reason}


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\report.pdf", "report.pdf"),
        ('<script>alert("x")</script>.txt', "script_.txt"),  # the last path part only
        ('<img src=x onerror="alert(1)">.txt', "_img src=x onerror=_alert(1)__.txt"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
        ("line\nbreak.csv", "linebreak.csv"),
        ("  ..  ", "file"),
        ("供应商 证书.pdf", "供应商 证书.pdf"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_names_are_made_safe(raw, safe):
    assert safe_name(raw) == safe
