"""Jinja filters and globals the pages share."""

import json

import markdown as md
from markupsafe import Markup, escape

from .models._types import utcnow


def init_app(app):
    """Register the filters and globals."""
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["present"] = present
    app.jinja_env.filters["changes"] = changes
    app.context_processor(lambda: {"now": utcnow()})


def render_markdown(text):
    """Markdown to HTML; raw HTML in the source is escaped first, so instructions cannot inject markup."""
    return Markup(md.markdown(str(escape(text or "")), extensions=["sane_lists"]))


def present(value):
    """A short human-readable rendering of submitted values (lists of rows, booleans, text)."""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return "; ".join(
            ", ".join(f"{k}: {present(v)}" for k, v in row.items()) if isinstance(row, dict) else str(row)
            for row in value
        )
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def changes(event):
    """(field, old, new) rows of an audit event: its before/after values side by side."""
    before, after = event.before or {}, event.after or {}
    before = before.get("data", before) if isinstance(before.get("data"), dict) else before
    after = after.get("data", after) if isinstance(after.get("data"), dict) else after
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k, "—"), after.get(k, "—")) for k in keys]
