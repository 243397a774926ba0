"""The one stylesheet of a rendered diagram: bpmn.io's look, run states, the taken path and diffs.

Every selector is scoped to `.bpmn-diagram` so an SVG inlined into a page styles only itself.
State and diff colours differ in more than hue (border width, dash pattern, a badge glyph), so
they stay distinguishable without colour vision.
"""

from __future__ import annotations

from .diagram_text import LABEL_FONT, TASK_FONT

FONT_FAMILY = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", "Hiragino Sans GB", "Helvetica Neue", Arial, sans-serif'
)

INK = "#22242a"
STATE_COLOURS = {
    "completed": ("#2e7d32", "#e8f5e9"),
    "active": ("#1565c0", "#e3f0fd"),
    "waiting": ("#a35200", "#fff4dc"),
    "failed": ("#c62828", "#fdecea"),
    "cancelled": ("#616161", "#eeeeee"),
}
DIFF_COLOURS = {
    "added": ("#1b7f3b", "#e3f5e8"),
    "changed": ("#a35200", "#fff1d1"),
    "removed": ("#c62828", "#fdecea"),
}
TAKEN_COLOUR = "#1565c0"
MARKER_COLOURS = {
    "plain": INK,
    "taken": TAKEN_COLOUR,
    **{f"diff-{name}": stroke for name, (stroke, _) in DIFF_COLOURS.items()},
}

_BASE = f"""
.bpmn-diagram {{ background: #fff; }}
.bpmn-diagram text {{ font-family: {FONT_FAMILY}; fill: {INK}; }}
.bpmn-diagram .size-{TASK_FONT} {{ font-size: {TASK_FONT}px; }}
.bpmn-diagram .size-{LABEL_FONT} {{ font-size: {LABEL_FONT}px; }}
.bpmn-diagram .centre {{ text-anchor: middle; }}
.bpmn-diagram .left {{ text-anchor: start; }}
.bpmn-diagram .halo {{ paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }}
.bpmn-diagram .shape {{ fill: #fff; stroke: {INK}; stroke-width: 2px; }}
.bpmn-diagram .participant .shape, .bpmn-diagram .lane .shape {{ fill: none; stroke-width: 1.5px; }}
.bpmn-diagram .band {{ fill: #f5f6f8; stroke: {INK}; stroke-width: 1.5px; }}
.bpmn-diagram .lane .band {{ fill: #fafbfc; stroke: none; }}
.bpmn-diagram .pool-name {{ font-weight: 600; }}
.bpmn-diagram .endEvent .shape {{ stroke-width: 4px; }}
.bpmn-diagram .intermediate .shape {{ stroke-width: 1.5px; }}
.bpmn-diagram .non-interrupting .shape {{ stroke-dasharray: 5 3; }}
.bpmn-diagram .callActivity .shape {{ stroke-width: 4px; }}
.bpmn-diagram .event-subprocess .shape {{ stroke-dasharray: 2 3; }}
.bpmn-diagram .subProcess.expanded .shape, .bpmn-diagram .transaction.expanded .shape {{ fill-opacity: 0.6; }}
.bpmn-diagram .glyph {{ fill: none; stroke: {INK}; stroke-width: 1.5px;
  stroke-linecap: round; stroke-linejoin: round; }}
.bpmn-diagram .glyph .fill {{ fill: {INK}; }}
.bpmn-diagram .glyph .paper {{ fill: #fff; }}
.bpmn-diagram .glyph .cut {{ stroke: #fff; }}
.bpmn-diagram .gateway .glyph {{ stroke-width: 3.5px; stroke-linecap: butt; }}
.bpmn-diagram .annotation-bracket {{ fill: none; stroke: {INK}; stroke-width: 1.5px; }}
.bpmn-diagram .group .shape {{ fill: none; stroke-width: 1.5px; stroke-dasharray: 10 4 2 4; }}
.bpmn-diagram .data .shape {{ stroke-width: 1.5px; }}
.bpmn-diagram .fold {{ fill: none; stroke: {INK}; stroke-width: 1.5px; }}
.bpmn-diagram .flow-line {{ fill: none; stroke: {INK}; stroke-width: 1.5px; stroke-linejoin: round; }}
.bpmn-diagram .dashed .flow-line {{ stroke-dasharray: 10 6; }}
.bpmn-diagram .dotted .flow-line {{ stroke-dasharray: 0.5 5; stroke-linecap: round; }}
.bpmn-diagram .hit {{ fill: none; stroke: #fff; stroke-opacity: 0; stroke-width: 12px; pointer-events: stroke; }}
.bpmn-diagram .mk {{ stroke-width: 1.5px; stroke-linejoin: round; stroke-linecap: round; }}
.bpmn-diagram .mk-open {{ fill: #fff; }}
.bpmn-diagram .mk-line {{ fill: none; }}
.bpmn-diagram .taken .flow-line {{ stroke: {TAKEN_COLOUR}; stroke-width: 3px; }}
.bpmn-diagram .badge-mark {{ fill: none; stroke: #fff; stroke-width: 2px;
  stroke-linecap: round; stroke-linejoin: round; }}
.bpmn-diagram .badge-mark.solid {{ fill: #fff; }}
.bpmn-diagram .badge circle {{ stroke: #fff; stroke-width: 1.5px; }}
.bpmn-diagram .hair {{ stroke-width: 1px; }}
.bpmn-diagram .thin {{ stroke-width: 1.2px; }}
.bpmn-diagram .bold {{ stroke-width: 2.5px; }}
.bpmn-diagram .heavy {{ stroke-width: 3.5px; }}
"""

_STATE_EXTRA = {
    "active": "stroke-width: 4px;",
    "waiting": "stroke-dasharray: 7 4;",
    "failed": "stroke-width: 3px;",
    "cancelled": "stroke-dasharray: 2 3;",
}


def _state_rules(name: str, stroke: str, fill: str) -> str:
    return (
        f".bpmn-diagram .state-{name} .shape {{ fill: {fill}; stroke: {stroke}; {_STATE_EXTRA.get(name, '')} }}\n"
        f".bpmn-diagram .state-{name} .flow-line {{ stroke: {stroke}; }}\n"
        f".bpmn-diagram .state-{name} .badge circle {{ fill: {stroke}; }}\n"
    )


def _diff_rules(name: str, stroke: str, fill: str) -> str:
    return (
        f".bpmn-diagram .diff-{name} .shape {{ fill: {fill}; stroke: {stroke}; stroke-width: 3px; }}\n"
        f".bpmn-diagram .diff-{name} .flow-line {{ stroke: {stroke}; stroke-width: 2.5px; }}\n"
        f".bpmn-diagram .diff-{name} .glyph {{ stroke: {stroke}; }}\n"
    )


def _marker_rules() -> str:
    return "".join(
        f".bpmn-diagram .mk-{variant} {{ stroke: {colour}; }}\n"
        f".bpmn-diagram .mk-{variant}.mk-solid {{ fill: {colour}; }}\n"
        for variant, colour in MARKER_COLOURS.items()
    )


def diagram_css() -> str:
    """The stylesheet text, also usable as a same-origin .css file when the SVG is inlined."""
    return (
        _BASE
        + "".join(_state_rules(n, *c) for n, c in STATE_COLOURS.items())
        + "".join(_diff_rules(n, *c) for n, c in DIFF_COLOURS.items())
        + ".bpmn-diagram .diff-removed { opacity: 0.55; }\n"
        + ".bpmn-diagram .diff-removed .shape, .bpmn-diagram .diff-removed .flow-line"
        + " { stroke-dasharray: 6 4; }\n"
        + ".bpmn-diagram .state-cancelled text { fill: #616161; }\n"
        + _marker_rules()
    )
