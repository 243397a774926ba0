"""Render BPMN diagrams to SVG on the server, from the file's BPMNDI: no JavaScript, no JS build.

`render_svg` draws one plane (pools, lanes, flow nodes, flows, data, annotations) in the look of
bpmn.io and marks run states, the taken path and version changes with CSS classes styled by one
<style> element. `diff_elements` and `render_diff_svg` compare two versions of a process file.
Every element is a `<g id="el-<bpmn id>">` with a <title>, so pages and tests can find it.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Self

from lxml import etree

from .diagram_diff import ElementInfo, compare, elements_of
from .diagram_edges import draw_edge, write_markers
from .diagram_glyphs import state_badge
from .diagram_model import Bounds, Diagram, DiagramError, Edge, Shape, parse_bpmn, read_diagram
from .diagram_shapes import badge_anchor, draw_shape, is_expanded, shape_classes
from .diagram_style import diagram_css
from .diagram_text import SVG_NS, add, num

__all__ = [
    "DIFF_KINDS",
    "STATES",
    "DiagramError",
    "ElementInfo",
    "diagram_css",
    "diagram_elements",
    "diff_elements",
    "render_diff_svg",
    "render_svg",
]

STATES = ("completed", "active", "waiting", "failed", "cancelled")
STATE_ALIASES = {"ready": "active", "started": "active"}
DIFF_KINDS = ("added", "removed", "changed")
MARGIN = 20
# Drawing order, back to front: flows run over pools and open sub-processes, under the nodes
# they connect; boundary events sit on top of the activity they are attached to.
LAYERS = ("swimlanes", "containers", "edges", "nodes", "boundary")


def _checked(
    mapping: Mapping[str, str] | None, allowed: tuple[str, ...], what: str, aliases: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`mapping` as a dict, refusing values outside `allowed` (a typo would silently draw nothing)."""
    result: dict[str, str] = {}
    for key, value in (mapping or {}).items():
        value = (aliases or {}).get(value, value)
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r} for {key!r}; expected one of {', '.join(allowed)}")
        result[key] = value
    return result


@dataclass(frozen=True)
class Highlights:
    """What to mark on a diagram: run states, the taken path, version changes and display names."""

    states: dict[str, str] = field(default_factory=dict)  # element id → state
    path: frozenset[str] = frozenset()  # ids of the sequence flows taken
    diff: dict[str, str] = field(default_factory=dict)  # element id → diff kind
    labels: dict[str, str] = field(default_factory=dict)  # element id → display name

    @classmethod
    def of(
        cls,
        states: Mapping[str, str] | None = None,
        path: Iterable[str] | None = None,
        diff: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Self:
        """Highlights from the plain arguments of render_svg, validated."""
        return cls(
            _checked(states, STATES, "state", STATE_ALIASES),
            frozenset(path or ()),
            _checked(diff, DIFF_KINDS, "diff kind"),
            dict(labels or {}),
        )

    def name(self, item: Shape | Edge) -> str:
        """The display name of a shape or edge: the override from `labels`, else its BPMN name."""
        return self.labels.get(item.id) or item.name

    def classes(self, item_id: str) -> list[str]:
        """The state, path and diff classes of the element with this id."""
        classes = [f"state-{self.states[item_id]}"] if item_id in self.states else []
        if item_id in self.path:
            classes.append("taken")
        if item_id in self.diff:
            classes.append(f"diff-{self.diff[item_id]}")
        return classes

    def marker_variant(self, item_id: str) -> str:
        """Which coloured copy of the arrowheads an edge uses."""
        if item_id in self.diff:
            return f"diff-{self.diff[item_id]}"
        return "taken" if item_id in self.path else "plain"


def _layer(shape: Shape) -> str:
    if shape.kind in ("participant", "lane"):
        return "swimlanes"
    if shape.kind == "group" or is_expanded(shape):
        return "containers"
    return "boundary" if shape.kind == "boundaryEvent" else "nodes"


def _back_to_front(shapes: Iterable[Shape]) -> list[Shape]:
    """Pools before their lanes, and larger open sub-processes before the ones nested in them."""

    def key(shape: Shape) -> tuple[bool, float]:
        area = shape.bounds.width * shape.bounds.height
        return (shape.kind != "participant", -area if _layer(shape) == "containers" else 0)

    return sorted(shapes, key=key)


def _element_group(layer: etree._Element, item: Shape | Edge, name: str, classes: Sequence[str]) -> etree._Element:
    """The <g id="el-…"> of one BPMN element, with its name as a <title> tooltip."""
    g = add(layer, "g", id=f"el-{item.id}", class_=" ".join(["bpmn-element", item.kind, *classes]))
    add(g, "title", name or item.id)
    return g


def _draw_shapes(layers: Mapping[str, etree._Element], shapes: Iterable[Shape], marks: Highlights) -> list[Bounds]:
    boxes: list[Bounds] = []
    for shape in _back_to_front(shapes):
        name = marks.name(shape)
        g = _element_group(layers[_layer(shape)], shape, name, shape_classes(shape) + marks.classes(shape.id))
        boxes += draw_shape(g, shape, name)
        anchor = badge_anchor(shape)
        if shape.id in marks.states and anchor:
            state_badge(g, marks.states[shape.id], *anchor)
    return boxes


def _draw_edges(
    layer: etree._Element, edges: Iterable[Edge], marks: Highlights, used_markers: set[tuple[str, str]]
) -> list[Bounds]:
    boxes: list[Bounds] = []
    for edge in edges:
        name = marks.name(edge)
        g = _element_group(layer, edge, name, ["connection", *marks.classes(edge.id)])
        boxes += draw_edge(g, edge, name, marks.marker_variant(edge.id), used_markers)
    return boxes


def _size(svg: etree._Element, boxes: list[Bounds]) -> None:
    """viewBox, width and height enclosing everything drawn, plus a margin."""
    boxes = boxes or [Bounds(0, 0, 0, 0)]
    left, top = min(b.x for b in boxes) - MARGIN, min(b.y for b in boxes) - MARGIN
    width = max(b.right for b in boxes) + MARGIN - left
    height = max(b.bottom for b in boxes) + MARGIN - top
    svg.set("viewBox", " ".join(num(v) for v in (left, top, width, height)))
    svg.set("width", num(width))
    svg.set("height", num(height))


def _render(diagram: Diagram, marks: Highlights, extra: Diagram | None = None, embed_style: bool = True) -> str:
    """The SVG text of `diagram` (plus `extra`, e.g. removed elements from an older version)."""
    shapes = diagram.shapes + (extra.shapes if extra else ())
    edges = diagram.edges + (extra.edges if extra else ())
    title = marks.labels.get(diagram.id) or diagram.title or "BPMN diagram"
    svg = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS})
    svg.set("class", "bpmn-diagram")
    svg.set("role", "img")
    svg.set("aria-label", title)
    add(svg, "title", title)
    if embed_style:
        add(svg, "style", diagram_css())
    defs = add(svg, "defs")
    layers = {name: add(svg, "g", class_=f"layer layer-{name}") for name in LAYERS}
    used_markers: set[tuple[str, str]] = set()
    boxes = _draw_shapes(layers, shapes, marks) + _draw_edges(layers["edges"], edges, marks, used_markers)
    write_markers(defs, used_markers)
    _size(svg, boxes)
    text: str = etree.tostring(svg, encoding="unicode")
    return text


def render_svg(
    bpmn_text: str | bytes,
    process_id: str | None = None,
    states: Mapping[str, str] | None = None,
    path: Iterable[str] | None = None,
    diff: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    *,
    embed_style: bool = True,
) -> str:
    """SVG of the plane showing `process_id` (the first plane with None), with states/path/diff marked.

    `states` maps element ids to completed/active/waiting/failed/cancelled, `path` holds the ids of
    sequence flows taken, `diff` maps ids to added/removed/changed, `labels` overrides names.
    With embed_style=False the <style> element is left out, for pages that link diagram_css().
    """
    diagram = read_diagram(parse_bpmn(bpmn_text), process_id)
    return _render(diagram, Highlights.of(states, path, diff, labels), embed_style=embed_style)


def diagram_elements(bpmn_text: str | bytes, process_id: str | None = None) -> dict[str, ElementInfo]:
    """ElementInfo of every flow element of the process (first executable one with None), by id."""
    return elements_of(parse_bpmn(bpmn_text), process_id)


def diff_elements(old_text: str | bytes, new_text: str | bytes, process_id: str | None) -> dict[str, str]:
    """{id: 'added' | 'removed' | 'changed'} for the process's flow elements; unchanged ones left out."""
    return compare(diagram_elements(old_text, process_id), diagram_elements(new_text, process_id))


def render_diff_svg(
    old_text: str | bytes,
    new_text: str | bytes,
    process_id: str | None,
    labels: Mapping[str, str] | None = None,
    *,
    embed_style: bool = True,
) -> str:
    """The new version's diagram with additions and changes coloured and removals ghosted from the old DI."""
    old_root, new_root = parse_bpmn(old_text), parse_bpmn(new_text)
    changes = compare(elements_of(old_root, process_id), elements_of(new_root, process_id))
    removed = {element_id for element_id, kind in changes.items() if kind == "removed"}
    ghosts = read_diagram(old_root, process_id).only(removed) if removed else None
    marks = Highlights.of(diff=changes, labels=labels)
    return _render(read_diagram(new_root, process_id), marks, extra=ghosts, embed_style=embed_style)


def flows_between(bpmn_text: str | bytes, pairs: Container[tuple[str, str]], process_id: str | None = None) -> set[str]:
    """The ids of sequence flows whose (source, target) BPMN ids are in `pairs` (the path taken)."""
    elements = diagram_elements(bpmn_text, process_id)
    return {e.id for e in elements.values() if e.type == "sequenceFlow" and (e.source, e.target) in pairs}
