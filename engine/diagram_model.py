"""Read what one BPMNDI plane of a BPMN file places: shapes and edges with their bounds and names."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field, replace
from typing import Self

from lxml import etree

from .errors import EngineError
from .xml_safety import parse_xml

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"

Point = tuple[float, float]


class DiagramError(EngineError):
    """The file has no diagram (BPMNDI) for the requested process."""


def tag(namespace: str, name: str) -> str:
    """The Clark name `{namespace}name` lxml uses for tags and attributes."""
    return f"{{{namespace}}}{name}"


def local_name(element: etree._Element) -> str:
    """The tag of `element` without its namespace ('userTask')."""
    name: str = etree.QName(element).localname
    return name


def is_model(element: etree._Element) -> bool:
    """True for elements of the BPMN model namespace (not comments, not DI)."""
    return isinstance(element.tag, str) and etree.QName(element).namespace == MODEL


def parse_bpmn(text: str | bytes) -> etree._Element:
    """The root element of a BPMN file, parsed without DTDs or entities."""
    return parse_xml(text, "diagram.bpmn").getroot()


@dataclass(frozen=True)
class Bounds:
    """A rectangle in diagram coordinates (dc:Bounds)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """The x of the right edge."""
        return self.x + self.width

    @property
    def bottom(self) -> float:
        """The y of the bottom edge."""
        return self.y + self.height

    @property
    def cx(self) -> float:
        """The x of the centre."""
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        """The y of the centre."""
        return self.y + self.height / 2

    @classmethod
    def read(cls, element: etree._Element | None) -> Self | None:
        """Bounds from a dc:Bounds element; None when it is missing."""
        if element is None:
            return None
        return cls(*(float(element.get(key, 0)) for key in ("x", "y", "width", "height")))


@dataclass(frozen=True)
class Shape:
    """A BPMNShape: the model element it shows, its kind ('userTask'), name, bounds and label bounds."""

    id: str
    kind: str
    name: str
    bounds: Bounds
    label: Bounds | None
    element: etree._Element = field(compare=False, repr=False)
    di: etree._Element = field(compare=False, repr=False)


@dataclass(frozen=True)
class Edge:
    """A BPMNEdge: the model element it shows, its kind, name, waypoints, label bounds and source."""

    id: str
    kind: str
    name: str
    waypoints: tuple[Point, ...]
    label: Bounds | None
    element: etree._Element = field(compare=False, repr=False)
    di: etree._Element = field(compare=False, repr=False)
    source: etree._Element | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Diagram:
    """Everything one plane places, in document order, and the name of what the plane shows."""

    id: str
    title: str
    shapes: tuple[Shape, ...]
    edges: tuple[Edge, ...]

    def only(self, ids: Container[str]) -> Diagram:
        """The same diagram restricted to the shapes and edges whose model id is in `ids`."""
        return replace(
            self, shapes=tuple(s for s in self.shapes if s.id in ids), edges=tuple(e for e in self.edges if e.id in ids)
        )


def element_name(element: etree._Element) -> str:
    """The name shown for a model element; a text annotation's name is its text."""
    if local_name(element) == "textAnnotation":
        return (element.findtext(tag(MODEL, "text")) or "").strip()
    return (element.get("name") or "").strip()


def model_index(root: etree._Element) -> dict[str, etree._Element]:
    """Every model element with an id, by id (DI elements excluded: their ids are the `_di` ones)."""
    return {el.get("id"): el for el in root.iter() if is_model(el) and el.get("id")}


def find_process(root: etree._Element, process_id: str | None) -> etree._Element:
    """The bpmn:process with `process_id`; with None the first executable process, else the first."""
    processes = root.findall(tag(MODEL, "process"))
    if process_id is not None:
        found = [p for p in processes if p.get("id") == process_id]
        if not found:
            raise DiagramError(f"the file has no process {process_id!r}")
        return found[0]
    executable = [p for p in processes if p.get("isExecutable") == "true"]
    if not (executable or processes):
        raise DiagramError("the file has no process")
    return (executable or processes)[0]


def _plane_shows(plane: etree._Element, process: etree._Element, root: etree._Element) -> bool:
    """True when `plane` shows `process`: itself, a collaboration with its pool, or its elements."""
    process_id = process.get("id")
    wanted = {process_id} | {
        participant.getparent().get("id")
        for participant in root.iter(tag(MODEL, "participant"))
        if participant.get("processRef") == process_id
    }
    if plane.get("bpmnElement") in wanted:
        return True
    # Some tools leave bpmnElement off the plane: recognise the plane by the elements it places.
    if plane.get("bpmnElement"):
        return False
    inside = {el.get("id") for el in process.iter() if is_model(el)}
    return any(di.get("bpmnElement") in inside for di in plane)


def find_plane(root: etree._Element, process_id: str | None) -> etree._Element:
    """The BPMNPlane showing `process_id` (its process or collaboration); the first with None."""
    planes = list(root.iter(tag(BPMNDI, "BPMNPlane")))
    if not planes:
        raise DiagramError("the file has no diagram (BPMNDI)")
    if process_id is None:
        return planes[0]
    process = find_process(root, process_id)
    for plane in planes:
        if _plane_shows(plane, process, root):
            return plane
    raise DiagramError(f"no diagram in the file shows process {process_id!r}")


def _label_bounds(di: etree._Element) -> Bounds | None:
    return Bounds.read(di.find(f"{tag(BPMNDI, 'BPMNLabel')}/{tag(DC, 'Bounds')}"))


def _shape_name(element: etree._Element, index: Mapping[str, etree._Element]) -> str:
    """The element's name; a group is named by the category value it refers to."""
    if local_name(element) == "group" and element.get("categoryValueRef") in index:
        return (index[element.get("categoryValueRef")].get("value") or "").strip()
    return element_name(element)


def _shape(di: etree._Element, element: etree._Element, index: Mapping[str, etree._Element]) -> Shape | None:
    bounds = Bounds.read(di.find(tag(DC, "Bounds")))
    if bounds is None:
        return None
    return Shape(
        element.get("id"), local_name(element), _shape_name(element, index), bounds, _label_bounds(di), element, di
    )


def _edge(di: etree._Element, element: etree._Element, index: Mapping[str, etree._Element]) -> Edge | None:
    points = tuple((float(p.get("x", 0)), float(p.get("y", 0))) for p in di.findall(tag(DI, "waypoint")))
    # Consecutive duplicate waypoints would give zero-length segments and misdirected arrowheads.
    points = tuple(p for i, p in enumerate(points) if i == 0 or p != points[i - 1])
    if len(points) < 2:
        return None
    return Edge(
        element.get("id"),
        local_name(element),
        element_name(element),
        points,
        _label_bounds(di),
        element,
        di,
        index.get(element.get("sourceRef")),
    )


def _title(plane: etree._Element, index: Mapping[str, etree._Element]) -> str:
    shown = index.get(plane.get("bpmnElement"))
    if shown is None:
        return ""
    if local_name(shown) == "collaboration":
        names = [element_name(p) for p in shown.findall(tag(MODEL, "participant"))]
        return element_name(shown) or next((n for n in names if n), "")
    return element_name(shown)


def read_diagram(root: etree._Element, process_id: str | None = None) -> Diagram:
    """The shapes and edges of the plane showing `process_id`, skipping DI of unknown elements."""
    plane = find_plane(root, process_id)
    index = model_index(root)
    shapes: list[Shape | None] = []
    edges: list[Edge | None] = []
    for di in plane:
        element = index.get(di.get("bpmnElement")) if isinstance(di.tag, str) else None
        if element is None:
            continue
        if di.tag == tag(BPMNDI, "BPMNShape"):
            shapes.append(_shape(di, element, index))
        elif di.tag == tag(BPMNDI, "BPMNEdge"):
            edges.append(_edge(di, element, index))
    return Diagram(
        plane.get("bpmnElement") or "",
        _title(plane, index),
        tuple(s for s in shapes if s),
        tuple(e for e in edges if e),
    )
