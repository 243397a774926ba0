"""Jinja filters and globals the pages share."""

import json

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
    app.context_processor(lambda: {"now": utcnow()})


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
