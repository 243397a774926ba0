"""The flow elements of a process as plain values, and what changed between two versions of a file.

Only what changes behaviour or what people read counts: type, name, lane, connections, conditions,
scripts, instructions, SpiffWorkflow properties and other definitions. Moving a shape does not.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from lxml import etree

from .diagram_model import MODEL, SPIFF, element_name, find_process, is_model, local_name, tag

CONTAINERS = {"subProcess", "transaction", "adHocSubProcess"}
DATA_REFERENCES = {"dataObjectReference", "dataStoreReference"}
# Children compared on their own (or as fields of ElementInfo), not as part of `details`.
_SEPARATE = {
    "incoming",
    "outgoing",
    "conditionExpression",
    "script",
    "extensionElements",
    "laneSet",
    "sequenceFlow",
    "textAnnotation",
    "association",
    "group",
}
_SEPARATE_EXTENSIONS = {"properties", "instructionsForEndUser", "preScript", "postScript"}

# An element subtree as a comparable value: tag, sorted attributes, trimmed text, children.
Normalised: TypeAlias = tuple[str, tuple[tuple[str, str], ...], str, tuple["Normalised", ...]]
# What else defines an element: its other attributes, then normalised children and extensions.
Detail: TypeAlias = tuple[str, str] | Normalised


@dataclass(frozen=True)
class ElementInfo:
    """One flow element (node or sequence flow) of a process, as far as a version diff cares."""

    id: str
    type: str
    name: str
    lane: str | None = None
    incoming: tuple[str, ...] = ()
    outgoing: tuple[str, ...] = ()
    source: str | None = None
    target: str | None = None
    condition: str | None = None
    properties: tuple[tuple[str, str], ...] = ()
    scripts: tuple[tuple[str, str], ...] = ()
    instructions: str | None = None
    details: tuple[Detail, ...] = ()


def is_flow_element(element: etree._Element) -> bool:
    """True for flow nodes, sequence flows and data references: what a process diff compares."""
    if not is_model(element):
        return False
    kind = local_name(element)
    return (
        kind == "sequenceFlow"
        or kind in DATA_REFERENCES
        or kind in CONTAINERS
        or kind.endswith(("Task", "Event", "Gateway"))
        or kind in ("task", "callActivity")
    )


def _flow_elements(container: etree._Element) -> Iterator[etree._Element]:
    """Flow elements of a process or sub-process, including those nested in sub-processes."""
    for child in container:
        if is_flow_element(child):
            yield child
            if local_name(child) in CONTAINERS:
                yield from _flow_elements(child)


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    text: str = element.text
    return text.replace("\r\n", "\n").strip()


def _normalised(element: etree._Element) -> Normalised:
    """A comparable value for an element subtree: tag, attributes, trimmed text, children."""
    attributes = tuple(sorted((key, value) for key, value in element.attrib.items()))
    children = tuple(_normalised(child) for child in element if isinstance(child.tag, str))
    return element.tag, attributes, _text(element) or "", children


def _extensions(element: etree._Element) -> list[etree._Element]:
    found = element.find(tag(MODEL, "extensionElements"))
    return [] if found is None else [child for child in found if isinstance(child.tag, str)]


def _properties(element: etree._Element) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (prop.get("name", ""), prop.get("value", ""))
            for ext in _extensions(element)
            if ext.tag == tag(SPIFF, "properties")
            for prop in ext.iter(tag(SPIFF, "property"))
        )
    )


def _scripts(element: etree._Element) -> tuple[tuple[str, str], ...]:
    found = [("script", _text(element.find(tag(MODEL, "script"))))]
    found += [
        (local_name(ext), _text(ext))
        for ext in _extensions(element)
        if ext.tag in (tag(SPIFF, "preScript"), tag(SPIFF, "postScript"))
    ]
    return tuple((kind, text) for kind, text in found if text)


def _instructions(element: etree._Element) -> str | None:
    return next((_text(ext) for ext in _extensions(element) if ext.tag == tag(SPIFF, "instructionsForEndUser")), None)


def _details(element: etree._Element) -> tuple[Detail, ...]:
    """Everything else that defines the element: attributes, event definitions, other extensions."""
    attributes = tuple(
        sorted(
            (key, value) for key, value in element.attrib.items() if key not in ("id", "name", "sourceRef", "targetRef")
        )
    )
    children = tuple(
        _normalised(child)
        for child in element
        if is_model(child) and local_name(child) not in _SEPARATE and not is_flow_element(child)
    )
    extensions = tuple(
        _normalised(ext)
        for ext in _extensions(element)
        if not (ext.tag.startswith(f"{{{SPIFF}}}") and local_name(ext) in _SEPARATE_EXTENSIONS)
    )
    return attributes + children + extensions


def _lanes(process: etree._Element) -> dict[str, str]:
    """The name of the innermost lane each flow node is in, by node id."""
    lanes: dict[str, str] = {}
    for lane in process.iter(tag(MODEL, "lane")):  # document order: nested lanes come later
        for ref in lane.findall(tag(MODEL, "flowNodeRef")):
            lanes[(ref.text or "").strip()] = element_name(lane)
    return lanes


def _info(element: etree._Element, flows: list[etree._Element], lanes: Mapping[str, str]) -> ElementInfo:
    element_id = element.get("id")
    return ElementInfo(
        id=element_id,
        type=local_name(element),
        name=element_name(element),
        lane=lanes.get(element_id),
        incoming=tuple(sorted(f.get("id") for f in flows if f.get("targetRef") == element_id)),
        outgoing=tuple(sorted(f.get("id") for f in flows if f.get("sourceRef") == element_id)),
        source=element.get("sourceRef"),
        target=element.get("targetRef"),
        condition=_text(element.find(tag(MODEL, "conditionExpression"))),
        properties=_properties(element),
        scripts=_scripts(element),
        instructions=_instructions(element),
        details=_details(element),
    )


def elements_of(root: etree._Element, process_id: str | None = None) -> dict[str, ElementInfo]:
    """ElementInfo of every flow element of the process, by id, in document order."""
    process = find_process(root, process_id)
    elements = [el for el in _flow_elements(process) if el.get("id")]
    flows = [el for el in elements if local_name(el) == "sequenceFlow"]
    lanes = _lanes(process)
    return {el.get("id"): _info(el, flows, lanes) for el in elements}


def compare(old: Mapping[str, ElementInfo], new: Mapping[str, ElementInfo]) -> dict[str, str]:
    """{id: 'added' | 'removed' | 'changed'} between two ElementInfo mappings; equal ones left out."""
    changes: dict[str, str] = {}
    for element_id, info in new.items():
        if element_id not in old:
            changes[element_id] = "added"
        elif old[element_id] != info:
            changes[element_id] = "changed"
    changes.update({element_id: "removed" for element_id in old if element_id not in new})
    return changes
