"""Small icons inside shapes: event definitions, task types, gateway kinds, loop markers, state badges.

Each icon is drawn once in its own small coordinate box and placed with a transform, so it scales
with the shape it sits in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from lxml import etree

from .diagram_text import add, num

if TYPE_CHECKING:
    from .diagram_model import Bounds

EVENT_BOX = 18  # event glyphs are drawn for a circle of radius 18, centred at 0,0
GATEWAY_BOX = 25  # gateway glyphs for a diamond of half-width 25, centred at 0,0
ICON_SIZE = 16  # task-type icons are 16x16, 6px in from the task's top-left corner

# An event glyph draws into its placed <g>, filled for throw events; an icon just draws.
EventGlyph = Callable[[etree._Element, bool], None]
Icon = Callable[[etree._Element], None]


def _placed(parent: etree._Element, x: float, y: float, scale: float = 1.0, css: str = "glyph") -> etree._Element:
    transform = f"translate({num(x)} {num(y)})" + (f" scale({num(scale)})" if scale != 1 else "")
    return add(parent, "g", class_=css, transform=transform)


def _message(g: etree._Element, filled: bool) -> None:
    add(g, "rect", x=-8, y=-5.5, width=16, height=11, class_="fill" if filled else "paper")
    add(g, "path", d="M -8 -5.5 L 0 1 L 8 -5.5", class_="cut" if filled else None)


def _timer(g: etree._Element, filled: bool) -> None:
    add(g, "circle", r=10.5, class_="paper")
    for hour in range(12):
        angle = math.radians(hour * 30)
        add(
            g,
            "line",
            x1=8 * math.sin(angle),
            y1=-8 * math.cos(angle),
            x2=10.5 * math.sin(angle),
            y2=-10.5 * math.cos(angle),
            class_="hair",
        )
    add(g, "path", d="M 0 0 L 2.5 -7 M 0 0 L 6 1")


def _polygon(points: str) -> EventGlyph:
    def draw(g: etree._Element, filled: bool) -> None:
        add(g, "polygon", points=points, class_="fill" if filled else None)

    return draw


def _terminate(g: etree._Element, filled: bool) -> None:
    add(g, "circle", r=10, class_="fill")


def _conditional(g: etree._Element, filled: bool) -> None:
    add(g, "rect", x=-6.5, y=-8.5, width=13, height=17, class_="paper")
    add(g, "path", d="M -4 -5 H 4 M -4 -1.7 H 4 M -4 1.7 H 4 M -4 5 H 4", class_="hair")


def _cancel(g: etree._Element, filled: bool) -> None:
    add(g, "path", d="M -7 -7 L 7 7 M 7 -7 L -7 7", class_="heavy")


EVENT_GLYPHS: dict[str, EventGlyph] = {
    "messageEventDefinition": _message,
    "timerEventDefinition": _timer,
    "errorEventDefinition": _polygon("-8,8 -3.5,-7 1.5,2 7,-8 3,7.5 -1.5,-1.5"),
    "signalEventDefinition": _polygon("0,-9.5 8.5,6 -8.5,6"),
    "escalationEventDefinition": _polygon("0,-10 7,8 0,2 -7,8"),
    "terminateEventDefinition": _terminate,
    "conditionalEventDefinition": _conditional,
    "linkEventDefinition": _polygon("-8,-3.5 1.5,-3.5 1.5,-8 9,0 1.5,8 1.5,3.5 -8,3.5"),
    "compensateEventDefinition": _polygon("-1,-6.5 -9.5,0 -1,6.5 -1,0 7.5,6.5 7.5,-6.5 -1,0"),
    "cancelEventDefinition": _cancel,
    "multiple": _polygon("0,-9.5 9,-2.9 5.6,7.7 -5.6,7.7 -9,-2.9"),
}


def event_glyph(
    parent: etree._Element, definitions: Sequence[str], cx: float, cy: float, radius: float, filled: bool
) -> None:
    """Draw the glyph of the event's definitions (a pentagon for several); filled for throw events."""
    if not definitions:
        return
    key = definitions[0] if len(definitions) == 1 else "multiple"
    drawer = EVENT_GLYPHS.get(key)
    if drawer:
        drawer(_placed(parent, cx, cy, radius / EVENT_BOX), filled)


def _gear(g: etree._Element) -> None:
    points: list[str] = []
    for step in range(32):
        radius = 7.5 if step % 4 in (0, 1) else 5.6
        angle = math.radians(step * 360 / 32)
        points.append(f"{num(8 + radius * math.cos(angle))},{num(8 + radius * math.sin(angle))}")
    add(g, "polygon", points=" ".join(points), class_="paper thin")
    add(g, "circle", cx=8, cy=8, r=2.4, class_="paper thin")


def _user(g: etree._Element) -> None:
    add(g, "path", d="M 1.5 16 C 1.5 10.5 4.5 9.2 8 9.2 C 11.5 9.2 14.5 10.5 14.5 16 Z", class_="paper")
    add(g, "circle", cx=8, cy=5, r=3.6, class_="paper")


def _manual(g: etree._Element) -> None:
    add(
        g,
        "path",
        class_="paper thin",
        d="M 1 7 L 6.5 3.5 L 14 3.5 C 15.3 3.5 15.3 5.5 14 5.5 L 9 5.5 L 15 5.5 C 16.3 5.5 16.3 7.5 15 7.5 "
        "L 9.5 7.5 L 14.5 7.5 C 15.8 7.5 15.8 9.5 14.5 9.5 L 9.5 9.5 L 13 9.5 C 14.3 9.5 14.3 11.5 13 11.5 "
        "L 4 11.5 C 2 11.5 1 10.5 1 9 Z",
    )


def _script(g: etree._Element) -> None:
    add(
        g,
        "path",
        class_="paper thin",
        d="M 4 1 H 14.5 C 12 4 15 7.5 12.5 10.5 C 10.5 13 12.5 15 12.5 15 H 2 C 2 15 0 13 2 10.5 C 4.5 7.5 1.5 4 4 1 Z",
    )
    add(g, "path", d="M 4.5 4.5 H 11.5 M 4 7.5 H 11 M 3.5 10.5 H 10", class_="hair")


def _business_rule(g: etree._Element) -> None:
    add(g, "rect", x=0.5, y=2, width=15, height=12, class_="paper thin")
    add(g, "rect", x=0.5, y=2, width=15, height=3.5, class_="fill thin")
    add(g, "path", d="M 0.5 9.5 H 15.5 M 5 5.5 V 14", class_="hair")


def _envelope(filled: bool) -> Icon:
    def draw(g: etree._Element) -> None:
        add(g, "rect", x=0.5, y=3, width=15, height=10.5, class_="fill thin" if filled else "paper thin")
        add(g, "path", d="M 0.5 3 L 8 9 L 15.5 3", class_="cut thin" if filled else "thin")

    return draw


TASK_MARKERS: dict[str, Icon] = {
    "userTask": _user,
    "manualTask": _manual,
    "serviceTask": _gear,
    "scriptTask": _script,
    "businessRuleTask": _business_rule,
    "sendTask": _envelope(True),
    "receiveTask": _envelope(False),
}


def task_marker(parent: etree._Element, kind: str, bounds: Bounds) -> None:
    """The task-type icon in the top-left corner of a task (none for plain tasks)."""
    drawer = TASK_MARKERS.get(kind)
    if drawer:
        drawer(_placed(parent, bounds.x + 6, bounds.y + 6))


def _loop_marks(kind: str, g: etree._Element) -> None:
    if kind == "collapsed":
        add(g, "rect", x=0, y=0, width=14, height=14, class_="paper thin")
        add(g, "path", d="M 7 3 V 11 M 3 7 H 11")
    elif kind == "parallel":
        add(g, "path", d="M 3 1 V 13 M 7 1 V 13 M 11 1 V 13", class_="bold")
    elif kind == "sequential":
        add(g, "path", d="M 1 3 H 13 M 1 7 H 13 M 1 11 H 13", class_="bold")
    elif kind == "loop":
        add(g, "path", d="M 4.2 11.6 A 5.5 5.5 0 1 1 9.8 11.6 M 9.8 11.6 L 12.8 10.8 M 9.8 11.6 L 10.2 8.6")
    elif kind == "adhoc":
        add(g, "path", d="M 1 8.5 C 3.5 4 5.5 4 7 7 C 8.5 10 10.5 10 13 5.5")
    elif kind == "compensation":
        add(g, "polygon", points="7,3 1,7 7,11 7,7 13,11 13,3 7,7", class_="thin")


def bottom_markers(parent: etree._Element, kinds: Sequence[str], bounds: Bounds) -> None:
    """Loop, multi-instance, collapsed '+', ad-hoc and compensation markers centred at the bottom."""
    width = 14 * len(kinds) + 3 * (len(kinds) - 1)
    x = bounds.cx - width / 2
    for kind in kinds:
        _loop_marks(kind, _placed(parent, x, bounds.bottom - 18, css=f"glyph marker-{kind}"))
        x += 17


def _exclusive(g: etree._Element) -> None:
    add(g, "path", d="M -7.5 -9.5 L 7.5 9.5 M 7.5 -9.5 L -7.5 9.5")


def _parallel(g: etree._Element) -> None:
    add(g, "path", d="M 0 -12 V 12 M -12 0 H 12")


def _inclusive(g: etree._Element) -> None:
    add(g, "circle", r=9, class_="bold")


def _complex(g: etree._Element) -> None:
    add(g, "path", d="M 0 -12 V 12 M -12 0 H 12 M -8.5 -8.5 L 8.5 8.5 M 8.5 -8.5 L -8.5 8.5", class_="heavy")


def _event_based(g: etree._Element) -> None:
    add(g, "circle", r=12, class_="thin")
    add(g, "circle", r=9.5, class_="thin")
    add(g, "polygon", points="0,-6 5.7,-1.9 3.5,4.9 -3.5,4.9 -5.7,-1.9", class_="thin")


GATEWAY_GLYPHS: dict[str, Icon] = {
    "exclusiveGateway": _exclusive,
    "parallelGateway": _parallel,
    "inclusiveGateway": _inclusive,
    "complexGateway": _complex,
    "eventBasedGateway": _event_based,
}


def gateway_glyph(parent: etree._Element, kind: str, bounds: Bounds) -> None:
    """The kind mark inside a gateway diamond: X, +, O, * or the event-based circle and pentagon."""
    drawer = GATEWAY_GLYPHS.get(kind)
    if drawer:
        drawer(_placed(parent, bounds.cx, bounds.cy, min(bounds.width, bounds.height) / 2 / GATEWAY_BOX))


def _badge_mark(g: etree._Element, state: str) -> None:
    if state == "completed":
        add(g, "path", d="M -4 0.3 L -1.3 3 L 4 -2.8", class_="badge-mark")
    elif state == "active":
        add(g, "polygon", points="-2.5,-4 4,0 -2.5,4", class_="badge-mark solid hair")
    elif state == "waiting":
        add(g, "path", d="M 0 -4.5 V 0 L 3 2", class_="badge-mark")
    elif state == "failed":
        add(g, "path", d="M 0 -4.5 V 1 M 0 4 V 4.2", class_="badge-mark bold")
    elif state == "cancelled":
        add(g, "path", d="M -3.3 -3.3 L 3.3 3.3 M 3.3 -3.3 L -3.3 3.3", class_="badge-mark")


def state_badge(parent: etree._Element, state: str, x: float, y: float) -> None:
    """A round badge with a state glyph (tick, play, clock, !, ×) so states do not rely on colour."""
    g = _placed(parent, x, y, css=f"badge badge-{state}")
    add(g, "circle", r=8)
    _badge_mark(g, state)
