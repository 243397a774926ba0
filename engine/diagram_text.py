"""SVG building blocks and text layout for diagrams: estimated widths, line wrapping, <text> lines.

There are no font metrics on the server, so widths are estimated: a CJK character is one em wide,
Latin letters about half. Wrapping breaks between CJK characters and between Latin words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal

from lxml import etree

from .diagram_model import Bounds

SVG_NS = "http://www.w3.org/2000/svg"

TASK_FONT, LABEL_FONT = 12, 11  # px; diagram_style writes the same sizes into the CSS
LINE_HEIGHT = {TASK_FONT: 14, LABEL_FONT: 13}
EXTERNAL_LABEL_WIDTH = 90  # bpmn.io wraps labels below events and gateways at 90px

_WIDE = re.compile(r"[\u1100-\u11ff\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_TOKEN = re.compile(
    r"[\u1100-\u11ff\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
    r"|[^\s\u1100-\u11ff\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+\s*"
    r"|\s+"
)


# How a text block sits on its x: centred on it, or starting at it.
Anchor = Literal["middle", "start"]


def num(value: float) -> str:
    """A coordinate as compact text: at most two decimals, no trailing zeros."""
    return f"{round(value, 2):g}"


def add(parent: etree._Element, name: str, text: str | None = None, **attrs: str | float | None) -> etree._Element:
    """Append an SVG element; `class_` sets class, other underscores become hyphens, numbers compact."""
    element = etree.SubElement(parent, f"{{{SVG_NS}}}{name}")
    for key, value in attrs.items():
        if value is None:
            continue
        key = "class" if key == "class_" else key.replace("_", "-")
        element.set(key, num(value) if isinstance(value, (int, float)) else str(value))
    if text is not None:
        element.text = text
    return element


def _char_width(char: str, size: int) -> float:
    if _WIDE.match(char):
        return size
    if char.isspace():
        return size * 0.28
    if char.isupper() or char.isdigit() or char in "mwMW@%&":
        return size * 0.66
    if char in "iljtfr.,;:'!|()[]":
        return size * 0.32
    return size * 0.54


def text_width(text: str, size: int) -> float:
    """The estimated width of `text` at font size `size`, in px."""
    return sum(_char_width(char, size) for char in text)


def _split_long(token: str, width: float, size: int) -> list[str]:
    """Break a token wider than a line into pieces that fit."""
    pieces: list[str] = []
    current = ""
    for char in token:
        if current and text_width(current + char, size) > width:
            pieces.append(current)
            current = ""
        current += char
    return pieces + [current]


def _wrap_tokens(tokens: Iterable[str], width: float, size: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = current + token
        if not current or text_width(candidate.rstrip(), size) <= width:
            current = candidate
            continue
        lines.append(current.rstrip())
        current = token.lstrip()
    if current.strip():
        lines.append(current.rstrip())
    return [piece for line in lines for piece in _split_long(line, width, size)]


def _tokens(paragraph: str, width: float, size: int) -> list[str]:
    """Words when every word fits and that costs no extra line ('关闭变更 Close change'), else CJK characters."""
    by_char = _TOKEN.findall(paragraph)
    words = re.findall(r"\S+\s*", paragraph)
    if all(text_width(word.rstrip(), size) <= width for word in words) and len(_wrap_tokens(words, width, size)) <= len(
        _wrap_tokens(by_char, width, size)
    ):
        return words
    return by_char


def _balanced(paragraph: str, width: float, size: int) -> list[str]:
    """Greedy lines, then narrowed as far as the line count allows, so no last line is a lone word."""
    tokens = _tokens(paragraph, width, size)
    lines = _wrap_tokens(tokens, width, size)
    if len(lines) < 2:
        return lines
    low, high = width / len(lines), width
    while high - low > 1:
        middle = (low + high) / 2
        if len(_wrap_tokens(tokens, middle, size)) == len(lines):
            high = middle
        else:
            low = middle
    return _wrap_tokens(tokens, high, size)


def wrap(text: str, width: float, size: int, max_lines: int | None = None) -> list[str]:
    """`text` broken into balanced lines no wider than `width`; extra lines are cut, marked '…'."""
    lines = [line for paragraph in text.splitlines() for line in _balanced(paragraph.strip(), width, size)]
    if max_lines is None or len(lines) <= max_lines:
        return lines
    kept = lines[: max(max_lines, 1)]
    last = kept[-1]
    while last and text_width(last + "…", size) > width:
        last = last[:-1]
    return kept[:-1] + [last.rstrip() + "…"]


def text_block(
    parent: etree._Element,
    lines: Sequence[str],
    x: float,
    top: float,
    size: int,
    anchor: Anchor = "middle",
    css: str = "label",
) -> Bounds:
    """Write `lines` as one <text>, first line box at `top`; returns the estimated Bounds covered."""
    line_height = LINE_HEIGHT.get(size, round(size * 1.2))
    anchor_class = {"middle": "centre", "start": "left"}[anchor]
    text = add(parent, "text", class_=f"{css} size-{size} {anchor_class}")
    for i, line in enumerate(lines):
        # Place each baseline explicitly: dominant-baseline is not honoured by every SVG renderer.
        baseline = top + line_height * i + line_height / 2 + size * 0.35
        add(text, "tspan", line, x=x, y=baseline)
    width = max((text_width(line, size) for line in lines), default=0)
    left = x - width / 2 if anchor == "middle" else x
    return Bounds(left, top, width, line_height * len(lines))


def centred_block(parent: etree._Element, lines: Sequence[str], box: Bounds, size: int, css: str = "label") -> Bounds:
    """Write `lines` centred in `box` (horizontally and vertically)."""
    height = LINE_HEIGHT[size] * len(lines)
    return text_block(parent, lines, box.cx, box.cy - height / 2, size, css=css)
