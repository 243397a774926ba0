"""What an upload is: its type detected from its bytes (the `filetype` library's magic numbers)
against the allow-list, checked against the extension its name gives, and a safe file name."""

import re
import unicodedata

import filetype

from ...errors import FileRefused

# Detected kind → (content type, extensions a name of that kind may end in).
ALLOWED = {
    "pdf": ("application/pdf", ("pdf",)),
    "png": ("image/png", ("png",)),
    "jpeg": ("image/jpeg", ("jpg", "jpeg")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
    "csv": ("text/csv", ("csv",)),
    "txt": ("text/plain", ("txt",)),
}
CONTENT_TYPES = tuple(sorted({mime for mime, _ in ALLOWED.values()}))
_BY_MIME = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpeg"}
_BY_MIME[ALLOWED["docx"][0]] = "docx"
_BY_MIME[ALLOWED["xlsx"][0]] = "xlsx"
_UNSAFE = re.compile(r'[<>:"/\\|?*`]')
MAX_NAME = 200


def safe_name(raw):
    """The last path part of `raw`, NFC-normalized, without control/format characters (no bidi
    overrides) or characters unsafe in file systems and markup, at most 200 characters; "file"
    when nothing is left."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", _UNSAFE.sub("_", name)).strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name or "file"


def _is_text(data):
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect(name, data):
    """The content type of `data`, an allowed type whose extensions include `name`'s; FileRefused
    (with the reason under `file`) otherwise."""
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    guess = filetype.guess(data) if data else None
    if guess is not None:
        kind = _BY_MIME.get(guess.mime)
        if kind is None:
            raise FileRefused(
                f"{name}: the content is {guess.mime} ({guess.extension}), which may not be attached; "
                "allowed: PDF, PNG, JPEG, DOCX, XLSX, CSV, TXT",
                {"file": "content type not allowed"},
            )
    elif data and _is_text(data):
        kind = ext if ext in ("csv", "txt") else "txt"
    else:
        raise FileRefused(
            f"{name}: the content is not a recognised document (PDF, PNG, JPEG, DOCX, XLSX, CSV or UTF-8 text)",
            {"file": "content type not recognised"},
        )
    mime, extensions = ALLOWED[kind]
    if ext not in extensions:
        raise FileRefused(
            f"{name}: the content is {kind.upper()} but the name ends in '.{ext}'; name it .{extensions[0]}",
            {"file": "name does not match the content"},
        )
    return mime
