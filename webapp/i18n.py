"""Language selection (zh-CN by default, English switchable) and localized labels from forms."""

from flask import has_request_context, session
from flask_babel import get_locale

SUPPORTED = {"zh_CN": "中文", "en": "English"}


def init_app(app):
    """Attach Flask-Babel with the session's language choice."""
    from .extensions import babel

    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        supported_locales=SUPPORTED,
        current_locale=current_language,
        label=label,
        enum_labels=enum_labels,
        task_title=task_title,
        meaning_label=meaning_label,
        may=_may,
        notification_text=_notification_text,
    )


def _notification_text(note):
    from .services.notifications import text

    return text(note)


def _may(permission):
    from .permissions import may

    return may(permission)


def select_locale():
    """The language chosen in the session, else the configured default (also outside a request: the CLI)."""
    if not has_request_context():
        return None
    choice = session.get("locale")
    return choice if choice in SUPPORTED else None


def current_language():
    """'en' or 'zh'."""
    return "en" if str(get_locale()).startswith("en") else "zh"


def label(node, key="title", fallback=""):
    """A schema node's `title`/`description` in the current language (`x-title-en` for English)."""
    node = node or {}
    if current_language() == "en" and node.get(f"x-{key}-en"):
        return node[f"x-{key}-en"]
    return node.get(key) or fallback


def enum_labels(node):
    """(value, label) pairs for an enum node, labelled from x-enum-titles[-en] when present."""
    values = node.get("enum") or []
    titles = (node.get("x-enum-titles-en") if current_language() == "en" else None) or node.get("x-enum-titles")
    if not titles or len(titles) != len(values):
        titles = [str(v) for v in values]
    return list(zip(values, titles))


def task_title(task):
    """A task's title (row or HumanTask): the BPMN name, or its English name in English."""
    english = getattr(task, "title_en", None) or (getattr(task, "properties", None) or {}).get("name_en")
    return english if current_language() == "en" and english else task.title


def meaning_label(meaning):
    """The signature meaning in the current language (11.50: shown with every signature)."""
    from flask_babel import gettext as _

    labels = {
        "approved": _("Approved"),
        "reviewed": _("Reviewed"),
        "released": _("Released"),
        "rejected": _("Rejected"),
        "authored": _("Authored"),
    }
    return labels.get(meaning, meaning)
