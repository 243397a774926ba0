"""Diagrams of versions and instances as SVG (engine.diagram), from the stored BPMN files."""

import re

from engine import diagram

from .deployments import version_ref
from .engine_access import engine


def process_bpmn(version):
    """The BPMN text of the file that defines the version's process."""
    pattern = re.compile(rf'<(?:\w+:)?process\b[^>]*\bid="{re.escape(version.key)}"')
    for name, text in sorted(version.file_texts.items()):
        if name.endswith(".bpmn") and pattern.search(text):
            return text
    raise LookupError(f"no BPMN file defines {version.key}")


PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="60" role="img" '
    'aria-label="no diagram"><text x="10" y="35" font-family="sans-serif" font-size="14">'
    "This file has no diagram layout (BPMNDI).</text></svg>"
)


def _or_placeholder(render):
    """Render, or show a placeholder for files without a diagram layout (e.g. hand-written BPMN)."""
    try:
        return render()
    except diagram.DiagramError:
        return PLACEHOLDER


def version_svg(version, labels=None):
    """The version's diagram."""
    return _or_placeholder(lambda: diagram.render_svg(process_bpmn(version), version.key, labels=labels))


def instance_svg(instance, labels=None):
    """The instance's diagram: completed, active, waiting and failed elements and the path taken."""
    ref = version_ref(instance.version)
    workflow = engine().load(ref, instance.state_json)
    states, pairs = engine().element_states(workflow)
    text = process_bpmn(instance.version)
    known = diagram.diagram_elements(text, instance.version.key)
    return _or_placeholder(
        lambda: diagram.render_svg(
            text,
            instance.version.key,
            states={k: v for k, v in states.items() if k in known},
            path=diagram.flows_between(text, pairs, instance.version.key),
            labels=labels,
        )
    )


def diff(old_version, new_version):
    """({id: added|removed|changed}, SVG of the new version with the differences coloured)."""
    old, new = process_bpmn(old_version), process_bpmn(new_version)
    return (
        diagram.diff_elements(old, new, new_version.key),
        _or_placeholder(lambda: diagram.render_diff_svg(old, new, new_version.key)),
    )
