"""The HTTP answer carrying an attachment's bytes, for the API and the pages alike: always a
download (Content-Disposition: attachment with an ASCII fallback name and the UTF-8 name), the
type as detected at upload, never sniffed (nosniff), sandboxed, and the SHA-256 as Repr-Digest."""

import base64
from urllib.parse import quote

from flask import Response


def _ascii_name(name):
    text = name.encode("ascii", "replace").decode("ascii")
    return "".join(ch if ch.isalnum() or ch in "._- ()" else "_" for ch in text) or "file"


def file_response(row, data):
    """The response for attachment `row` with its bytes `data`."""
    digest = base64.b64encode(bytes.fromhex(row.sha256)).decode("ascii")
    disposition = f"attachment; filename=\"{_ascii_name(row.name)}\"; filename*=UTF-8''{quote(row.name, safe='')}"
    return Response(
        data,
        status=200,
        content_type=row.content_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Repr-Digest": f"sha-256=:{digest}:",
            "Cache-Control": "private, no-store",
        },
    )
