"""Draw BPMNEdges: sequence flows, message flows, associations, and the arrowhead markers they use.

Markers do not take the colour of the line that uses them (context-stroke is not everywhere yet),
so each highlight variant gets its own coloured copy and only the copies used are written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from lxml import etree

from .diagram_model import MODEL, Bounds, Edge, Point, tag
from .diagram_shapes import external_label
from .diagram_text import EXTERNAL_LABEL_WIDTH, LABEL_FONT, LINE_HEIGHT, add, num, text_block, wrap

CORNER = 5  # radius of the rounded bends, as bpmn.io draws connections

# name: (path, refX, refY, fill style, marker size); all drawn in a 20x20 box like bpmn.io's.
MARKERS: dict[str, tuple[str, float, float, str, int]] = {
    "arrow": ("M 1 5 L 11 10 L 1 15 Z", 11, 10, "solid", 15),
    "default": ("M 6 4 L 10 16", 0, 10, "line", 15),
    "conditional": ("M 0 10 L 8 6 L 16 10 L 8 14 Z", -1, 10, "open", 15),
    "message-start": ("M 6 2.5 A 3.5 3.5 0 1 1 6 9.5 A 3.5 3.5 0 1 1 6 2.5 Z", 6, 6, "open", 24),
    "message-end": ("M 1 5 L 1 2 L 8 5 L 1 8 Z", 8.5, 5, "open", 28),
    "open-arrow": ("M 1 5 L 11 10 L 1 15", 11, 10, "line", 15),
}


def marker_id(name: str, variant: str) -> str:
    """The id of the `variant` ('plain', 'taken', 'diff-added', …) copy of a marker."""
    return f"tf-{name}" if variant == "plain" else f"tf-{name}-{variant}"


def write_markers(defs: etree._Element, used: Iterable[tuple[str, str]]) -> None:
    """One <marker> per (name, variant) pair in `used`, into <defs>."""
    for name, variant in sorted(used):
        path, ref_x, ref_y, fill, size = MARKERS[name]
        marker = add(
            defs,
            "marker",
            id=marker_id(name, variant),
            viewBox="0 0 20 20",
            refX=ref_x,
            refY=ref_y,
            markerWidth=size,
            markerHeight=size,
            markerUnits="userSpaceOnUse",
            orient="auto",
        )
        add(marker, "path", d=path, class_=f"mk mk-{variant} mk-{fill}")


def _is_default(edge: Edge) -> bool:
    return edge.source is not None and edge.source.get("default") == edge.id


def _is_conditional(edge: Edge) -> bool:
    """A condition on a flow leaving an activity (not a gateway) gets the diamond marker."""
    if edge.element.find(tag(MODEL, "conditionExpression")) is None or edge.source is None:
        return False
    return not edge.source.tag.endswith("Gateway")


def edge_markers(edge: Edge) -> tuple[str | None, str | None, str | None]:
    """(start marker, end marker, line style class) for an edge of this kind."""
    if edge.kind == "sequenceFlow":
        start = "default" if _is_default(edge) else "conditional" if _is_conditional(edge) else None
        return start, "arrow", None
    if edge.kind == "messageFlow":
        return "message-start", "message-end", "dashed"
    if edge.kind == "association":
        direction = edge.element.get("associationDirection", "None")
        start = "open-arrow" if direction == "Both" else None
        return start, "open-arrow" if direction in ("One", "Both") else None, "dotted"
    return None, "open-arrow", "dotted"  # data input/output associations


def _towards(point: Point, target: Point, distance: float) -> Point:
    length = math.dist(point, target)
    if length == 0:
        return point
    ratio = distance / length
    return point[0] + (target[0] - point[0]) * ratio, point[1] + (target[1] - point[1]) * ratio


def path_data(points: Sequence[Point]) -> str:
    """SVG path data through `points`, bends rounded like bpmn.io's connections."""
    parts = [f"M {num(points[0][0])} {num(points[0][1])}"]
    for before, corner, after in zip(points, points[1:], points[2:]):
        radius = min(CORNER, math.dist(before, corner) / 2, math.dist(corner, after) / 2)
        enter, leave = _towards(corner, before, radius), _towards(corner, after, radius)
        parts.append(
            f"L {num(enter[0])} {num(enter[1])} Q {num(corner[0])} {num(corner[1])} {num(leave[0])} {num(leave[1])}"
        )
    parts.append(f"L {num(points[-1][0])} {num(points[-1][1])}")
    return " ".join(parts)


def midpoint(points: Sequence[Point]) -> tuple[Point, bool]:
    """The point halfway along the polyline, and whether the segment there is horizontal."""
    lengths = [math.dist(a, b) for a, b in zip(points, points[1:])]
    remaining = sum(lengths) / 2
    for (a, b), length in zip(zip(points, points[1:]), lengths):
        if remaining <= length and length > 0:
            point = _towards(a, b, remaining)
            return point, abs(b[0] - a[0]) >= abs(b[1] - a[1])
        remaining -= length
    return points[0], True


def _flow_label(g: etree._Element, edge: Edge, name: str) -> Bounds | None:
    """A flow's name: at its DI label bounds, else beside the middle of the line."""
    if not name:
        return None
    if edge.label is not None and edge.label.width > 0:
        return external_label(g, edge, name, None)
    (x, y), horizontal = midpoint(edge.waypoints)
    lines = wrap(name, EXTERNAL_LABEL_WIDTH, LABEL_FONT, max_lines=3)
    height = LINE_HEIGHT[LABEL_FONT] * len(lines)
    if horizontal:
        return text_block(g, lines, x, y - height - 2, LABEL_FONT, css="label halo")
    return text_block(g, lines, x + 6, y - height / 2, LABEL_FONT, anchor="start", css="label halo")


def draw_edge(
    g: etree._Element, edge: Edge, name: str, variant: str, used_markers: set[tuple[str, str]]
) -> list[Bounds]:
    """Draw the line, its markers (recorded in `used_markers`) and its name; returns boxes covered."""
    start, end, style = edge_markers(edge)
    if style:
        g.set("class", f"{g.get('class')} {style}")
    data = path_data(edge.waypoints)
    add(g, "path", d=data, class_="hit")
    line = add(g, "path", d=data, class_="flow-line")
    for attribute, marker in (("marker-start", start), ("marker-end", end)):
        if marker:
            used_markers.add((marker, variant))
            line.set(attribute, f"url(#{marker_id(marker, variant)})")
    xs, ys = [p[0] for p in edge.waypoints], [p[1] for p in edge.waypoints]
    line_box = Bounds(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    return [box for box in (line_box, _flow_label(g, edge, name)) if box is not None]
