"""Every interface string in the templates and views has a Chinese translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent


def test_every_message_is_translated_to_chinese():
    method_map = [
        ("webapp/**.py", "python"),
        ("webapp/templates/**.html", "jinja2"),
        ("webapp/processes/**/templates/**.html", "jinja2"),
    ]
    found = {msg for _, _, msg, _, _ in extract_from_dir(str(ROOT), method_map) if isinstance(msg, str)}
    with open(ROOT / "webapp/translations/zh/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    assert found, "no messages extracted"
    assert sorted(found - translated) == []
