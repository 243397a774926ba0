"""Structured logs: one JSON object per line, carrying the request id of the request being served
(the same id the audit trail records and the X-Request-Id response header returns), so a log
line, an audit event and a client's report can be joined."""

import json
import logging
import sys
from datetime import UTC, datetime

from ..services.request_facts import request_facts

FIELDS = ("method", "path", "status", "duration_ms", "user", "endpoint")


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time, level, logger, message, request id and any FIELDS."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_facts().request_id,
        }
        line.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(fmt: str = "json", level: str = "INFO") -> None:
    """Log to stderr as JSON lines (fmt "json") or as plain text (fmt "text")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per sweep says nothing
