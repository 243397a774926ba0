"""Draw BPMNShapes: pools, lanes, events, activities, gateways, data, annotations and groups.

Each drawer writes into the element's <g> and returns the boxes it covered (shape and labels), so
the caller can size the viewBox to what is really drawn.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from .diagram_glyphs import ICON_SIZE, TASK_MARKERS, bottom_markers, event_glyph, gateway_glyph, task_marker
from .diagram_model import MODEL, Bounds, Edge, Point, Shape, is_model, local_name, tag
from .diagram_text import (
    EXTERNAL_LABEL_WIDTH,
    LABEL_FONT,
    LINE_HEIGHT,
    TASK_FONT,
    add,
    centred_block,
    num,
    text_block,
    text_width,
    wrap,
)

TASKS = {"task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask"}
CONTAINERS = {"subProcess", "transaction", "adHocSubProcess", "callActivity"}
DATA = {"dataObjectReference", "dataObject", "dataInput", "dataOutput", "dataStoreReference"}
TASK_RADIUS = 10
NAME_BAND = 30  # width of the name band of pools and lanes, as bpmn.io draws it
INTERMEDIATE = {"intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}

# A drawer writes one shape into its <g> (with its display name) and returns the boxes it covered;
# None stands for a label that was not drawn.
Drawer = Callable[[etree._Element, Shape, str], list[Bounds | None]]


def category(kind: str) -> str:
    """The drawing family of a model element kind: event, gateway, activity, data or the kind itself."""
    if kind.endswith("Event"):
        return "event"
    if kind.endswith("Gateway"):
        return "gateway"
    if kind in TASKS or kind in CONTAINERS:
        return "activity"
    if kind in DATA:
        return "data"
    return kind


def is_expanded(shape: Shape) -> bool:
    """True for a sub-process drawn open with its content (BPMNShape isExpanded)."""
    return shape.kind in CONTAINERS and shape.di.get("isExpanded") == "true"


def is_horizontal(shape: Shape) -> bool:
    """Pools and lanes are horizontal unless the DI says otherwise."""
    value: str | None = shape.di.get("isHorizontal")
    return value != "false"


def _interrupting(shape: Shape) -> bool:
    value: str | None = shape.element.get("cancelActivity" if shape.kind == "boundaryEvent" else "isInterrupting")
    return value != "false"


def shape_classes(shape: Shape) -> list[str]:
    """CSS classes describing how the shape is drawn, beyond its kind."""
    classes = [category(shape.kind)]
    if shape.kind in INTERMEDIATE:
        classes.append("intermediate")
    if classes[0] == "event" and not _interrupting(shape):
        classes.append("non-interrupting")
    if shape.kind in CONTAINERS and shape.kind != "callActivity":
        classes.append("expanded" if is_expanded(shape) else "collapsed")
    if shape.element.get("triggeredByEvent") == "true":
        classes.append("event-subprocess")
    return classes


def external_label(
    g: etree._Element, shape_or_edge: Shape | Edge, name: str, default_centre: Point | None
) -> Bounds | None:
    """A name outside its shape: at the DI label bounds, else centred below `default_centre`."""
    if not name:
        return None
    lines = wrap(name, EXTERNAL_LABEL_WIDTH, LABEL_FONT, max_lines=4)
    label = shape_or_edge.label
    if label is not None and label.width > 0:
        return text_block(g, lines, label.cx, label.y, LABEL_FONT, css="label halo")
    assert default_centre is not None, "only a shape or edge with label bounds comes without a default centre"
    x, top = default_centre
    return text_block(g, lines, x, top, LABEL_FONT, css="label halo")


def _below(bounds: Bounds) -> Point:
    return bounds.cx, bounds.bottom + 5


def _event_definitions(element: etree._Element) -> list[str]:
    return [local_name(child) for child in element if is_model(child) and local_name(child).endswith("EventDefinition")]


def draw_event(g: etree._Element, shape: Shape, name: str) -> list[Bounds | None]:
    """A circle: thin for start, double for intermediate/boundary, thick for end; glyph inside."""
    b = shape.bounds
    radius = min(b.width, b.height) / 2
    add(g, "circle", cx=b.cx, cy=b.cy, r=radius, class_="shape")
    if shape.kind in INTERMEDIATE:
        add(g, "circle", cx=b.cx, cy=b.cy, r=radius - 3, class_="shape inner")
    throws = shape.kind in ("intermediateThrowEvent", "endEvent")
    event_glyph(g, _event_definitions(shape.element), b.cx, b.cy, radius, filled=throws)
    return [b, external_label(g, shape, name, _below(b))]


def _loop_kinds(shape: Shape) -> list[str]:
    kinds: list[str] = []
    for child in shape.element:
        if child.tag == tag(MODEL, "standardLoopCharacteristics"):
            kinds.append("loop")
        elif child.tag == tag(MODEL, "multiInstanceLoopCharacteristics"):
            kinds.append("sequential" if child.get("isSequential") == "true" else "parallel")
    return kinds


def _bottom_kinds(shape: Shape) -> list[str]:
    kinds = _loop_kinds(shape)
    if shape.kind in CONTAINERS and not is_expanded(shape):
        kinds.append("collapsed")
    if shape.kind == "adHocSubProcess":
        kinds.append("adhoc")
    if shape.element.get("isForCompensation") == "true":
        kinds.append("compensation")
    return kinds


def _activity_name(g: etree._Element, shape: Shape, name: str) -> Bounds | None:
    b = shape.bounds
    if not name:
        return None
    if is_expanded(shape):
        lines = wrap(name, b.width - 20, TASK_FONT, max_lines=2)
        return text_block(g, lines, b.x + 10, b.y + 5, TASK_FONT, anchor="start")
    max_lines = max(int((b.height - 8) // LINE_HEIGHT[TASK_FONT]), 1)
    lines = wrap(name, b.width - 12, TASK_FONT, max_lines=max_lines)
    return text_block(g, lines, b.cx, _name_top(shape, lines), TASK_FONT)


def _name_top(shape: Shape, lines: list[str]) -> float:
    """Centred, unless a long first line would run into the type icon: then just below the icon."""
    b = shape.bounds
    height = LINE_HEIGHT[TASK_FONT] * len(lines)
    top = b.cy - height / 2
    icon_bottom = b.y + 6 + ICON_SIZE
    if shape.kind not in TASK_MARKERS or top >= icon_bottom:
        return top
    if text_width(lines[0], TASK_FONT) / 2 <= b.width / 2 - (6 + ICON_SIZE):
        return top
    lowest = b.bottom - (18 if _bottom_kinds(shape) else 4) - height
    return max(top, min(icon_bottom, lowest))


def draw_activity(g: etree._Element, shape: Shape, name: str) -> list[Bounds | None]:
    """A rounded rectangle with the type icon, the name inside and loop/collapsed markers below."""
    b = shape.bounds
    add(g, "rect", x=b.x, y=b.y, width=b.width, height=b.height, rx=TASK_RADIUS, class_="shape")
    if shape.kind == "transaction":
        add(
            g,
            "rect",
            x=b.x + 3,
            y=b.y + 3,
            width=b.width - 6,
            height=b.height - 6,
            rx=TASK_RADIUS - 2,
            class_="shape inner",
        )
    task_marker(g, shape.kind, b)
    bottom_markers(g, _bottom_kinds(shape), b)
    return [b, _activity_name(g, shape, name)]


def draw_gateway(g: etree._Element, shape: Shape, name: str) -> list[Bounds | None]:
    """A diamond with its kind mark; an exclusive gateway's X unless the DI hides it."""
    b = shape.bounds
    points = [(b.cx, b.y), (b.right, b.cy), (b.cx, b.bottom), (b.x, b.cy)]
    add(g, "polygon", points=" ".join(f"{num(x)},{num(y)}" for x, y in points), class_="shape")
    if not (shape.kind == "exclusiveGateway" and shape.di.get("isMarkerVisible") == "false"):
        gateway_glyph(g, shape.kind, b)
    return [b, external_label(g, shape, name, _below(b))]


def _page(g: etree._Element, b: Bounds) -> None:
    fold = min(12, b.width * 0.3)
    add(
        g,
        "path",
        class_="shape",
        d=(
            f"M {num(b.x)} {num(b.y)} H {num(b.right - fold)} "
            f"L {num(b.right)} {num(b.y + fold)} V {num(b.bottom)} H {num(b.x)} Z"
        ),
    )
    add(g, "path", class_="fold", d=(f"M {num(b.right - fold)} {num(b.y)} V {num(b.y + fold)} H {num(b.right)}"))


def _cylinder(g: etree._Element, b: Bounds) -> None:
    ry = min(8, b.height * 0.15)
    rx = b.width / 2
    body = (
        f"M {num(b.x)} {num(b.y + ry)} V {num(b.bottom - ry)} "
        f"A {num(rx)} {num(ry)} 0 0 0 {num(b.right)} {num(b.bottom - ry)} V {num(b.y + ry)}"
    )
    add(g, "path", class_="shape", d=body)
    add(g, "ellipse", cx=b.cx, cy=b.y + ry, rx=rx, ry=ry, class_="shape")
    for step in (1, 2):
        y = b.y + ry + step * 4
        add(g, "path", class_="fold", d=f"M {num(b.x)} {num(y)} A {num(rx)} {num(ry)} 0 0 0 {num(b.right)} {num(y)}")


def draw_data(g: etree._Element, shape: Shape, name: str) -> list[Bounds | None]:
    """A page with a folded corner for data objects, a cylinder for data stores; name below."""
    b = shape.bounds
    if shape.kind == "dataStoreReference":
        _cylinder(g, b)
    else:
        _page(g, b)
    return [b, external_label(g, shape, name, _below(b))]


def draw_annotation(g: etree._Element, shape: Shape, name: str) -> list[Bounds | None]:
    """An open bracket on the left with the annotation text beside it."""
    b = shape.bounds
    arm = min(15, b.width)
    add(
        g,
        "path",
        class_="annotation-bracket",
        d=f"M {num(b.x + arm)} {num(b.y)} H {num(b.x)} V {num(b.bottom)} H {num(b.x + arm)}",
    )
    lines = wrap(name, max(b.width - 10, 20), TASK_FONT)
    return [b, text_block(g, lines, b.x + 5, b.y + 5, TASK_FONT, anchor="start") if lines else None]


def draw_group(g: etree._Element, shape: Shape, name: str) -> list[Bounds | None]:
    """A dash-dotted rounded frame with its name at the label bounds or inside the top edge."""
    b = shape.bounds
    add(g, "rect", x=b.x, y=b.y, width=b.width, height=b.height, rx=TASK_RADIUS, class_="shape")
    return [b, external_label(g, shape, name, (b.cx, b.y + 5))]


def _band_name(g: etree._Element, band: Bounds, name: str, horizontal: bool, css: str) -> None:
    """The name of a pool or lane inside its band, turned to read upwards in horizontal ones."""
    if not name:
        return
    length = band.height if horizontal else band.width
    lines = wrap(name, max(length - 20, 20), TASK_FONT, max_lines=2)
    holder = g
    if horizontal:
        holder = add(g, "g", transform=f"rotate(-90 {num(band.cx)} {num(band.cy)})")
    centred_block(holder, lines, band, TASK_FONT, css=f"label {css}")


def _band(b: Bounds, horizontal: bool) -> Bounds:
    if horizontal:
        return Bounds(b.x, b.y, min(NAME_BAND, b.width), b.height)
    return Bounds(b.x, b.y, b.width, min(NAME_BAND, b.height))


def draw_swimlane(g: etree._Element, shape: Shape, name: str) -> list[Bounds | None]:
    """A pool or lane: its frame, a name band along the left (top when vertical) and the name."""
    b = shape.bounds
    horizontal = is_horizontal(shape)
    band = _band(b, horizontal)
    add(g, "rect", x=band.x, y=band.y, width=band.width, height=band.height, class_="band")
    add(g, "rect", x=b.x, y=b.y, width=b.width, height=b.height, class_="shape")
    css = "pool-name" if shape.kind == "participant" else "lane-name"
    _band_name(g, band, name, horizontal, css)
    return [b]


DRAWERS: dict[str, Drawer] = {
    "event": draw_event,
    "activity": draw_activity,
    "gateway": draw_gateway,
    "data": draw_data,
    "textAnnotation": draw_annotation,
    "group": draw_group,
    "participant": draw_swimlane,
    "lane": draw_swimlane,
}


def draw_shape(g: etree._Element, shape: Shape, name: str) -> list[Bounds]:
    """Draw `shape` into `g`; unknown kinds become plain rectangles. Returns the boxes covered."""
    drawer = DRAWERS.get(category(shape.kind))
    if drawer is None:
        b = shape.bounds
        add(g, "rect", x=b.x, y=b.y, width=b.width, height=b.height, class_="shape")
        return [b]
    return [box for box in drawer(g, shape, name) if box is not None]


def badge_anchor(shape: Shape) -> Point | None:
    """Where a state badge sits: the top-right of the shape's outline; None for non-flow shapes."""
    b = shape.bounds
    family = category(shape.kind)
    if family == "activity":
        return b.right - 3, b.y + 3
    if family == "event":
        return b.cx + b.width * 0.36, b.cy - b.height * 0.36
    if family == "gateway":
        return b.cx + b.width / 4, b.cy - b.height / 4
    return None
