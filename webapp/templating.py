"""Jinja filters and globals the pages share."""

import json
from datetime import UTC, datetime

import markdown as md
import nh3
from markupsafe import Markup, escape

from .models._types import utcnow


def _add_package_templates(app):
    """Each process package's templates/ folder, after the app's own."""
    from jinja2 import ChoiceLoader, FileSystemLoader

    from .processes import template_folders

    app.jinja_loader = ChoiceLoader([app.jinja_loader, *(FileSystemLoader(str(f)) for f in template_folders())])


def init_app(app):
    """Register the filters and globals."""
    _add_package_templates(app)
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["present"] = present
    app.jinja_env.filters["changes"] = changes
    app.jinja_env.filters["localtime"] = localtime
    app.context_processor(lambda: {"now": utcnow(), "time_zone": time_zone_label()})


def time_zone_label():
    """The zone pages show times in, with its offset now: "Asia/Shanghai (UTC+08:00)"."""
    from flask_babel import get_timezone

    zone = get_timezone()
    offset = datetime.now(zone).strftime("%z") or "+0000"
    return f"{zone} (UTC{offset[:3]}:{offset[3:]})"


def localtime(value, fmt="yyyy-MM-dd HH:mm"):
    """A stored UTC time (datetime or ISO text) in the site's zone, as a <time> element whose title
    names the zone; the one way pages print a time (flask-babel's format_datetime, BABEL_DEFAULT_TIMEZONE)."""
    from flask_babel import format_datetime

    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not isinstance(value, datetime):  # a date: no zone to convert
        return value.isoformat()
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        value.astimezone(UTC).isoformat(), time_zone_label(), format_datetime(value, fmt)
    )


# What rendered Markdown may contain: the tags Markdown makes, links to http(s), mailto and relative
# URLs only (no javascript:, data:, vbscript: …), no images, styles, classes or event handlers.
MARKDOWN_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p", "pre",
    "strong", "ul",
}  # fmt: skip
MARKDOWN_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text):
    """Markdown to HTML. Raw HTML in the source is escaped first, so instructions cannot inject markup;
    the result is then sanitized (nh3: MARKDOWN_TAGS, MARKDOWN_ATTRIBUTES, URL_SCHEMES), because data
    interpolated into instructions can still make a Markdown link to `javascript:`."""
    html = md.markdown(str(escape(text or "")), extensions=["sane_lists"])
    return Markup(nh3.clean(html, tags=MARKDOWN_TAGS, attributes=MARKDOWN_ATTRIBUTES, url_schemes=URL_SCHEMES))


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
