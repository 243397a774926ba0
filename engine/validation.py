"""Checks a bundle must pass beyond SpiffWorkflow's parse: every script, condition, timer and DMN
expression compiles in the sandbox, every signature step names a valid meaning, every service task
names a registered operation with its parameters. Each problem names file, line and element.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, field

from lxml import etree

from .errors import Problem, ScriptError
from .operations import Operation
from .sandbox import check_source

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
SIGNATURE_MEANINGS = ("approved", "reviewed", "released", "rejected", "authored")
_QUESTION_MARK = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')

# (XPath, compile mode, what it is)
BPMN_EXPRESSIONS = (
    (".//bpmn:scriptTask/bpmn:script", "exec", "script"),
    (".//spiffworkflow:preScript", "exec", "pre-script"),
    (".//spiffworkflow:postScript", "exec", "post-script"),
    (".//bpmn:conditionExpression", "eval", "condition"),
    (".//bpmn:timeDuration", "eval", "timer expression"),
    (".//bpmn:timeDate", "eval", "timer expression"),
    (".//bpmn:timeCycle", "eval", "timer expression"),
    (".//bpmn:loopCardinality", "eval", "loop cardinality"),
    (".//bpmn:completionCondition", "eval", "completion condition"),
)


@dataclass
class Findings:
    """Errors (block the deployment) and warnings (reported only)."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _row(filename: str, element: etree._Element, message: str) -> Problem:
    owner = element
    while owner is not None and owner.get("id") is None:
        owner = owner.getparent()
    return {
        "file": filename,
        "line": element.sourceline,
        "element": owner.get("id") if owner is not None else None,
        "message": message,
    }


def _compile(text: str, mode: str, what: str, filename: str, element: etree._Element, findings: Findings) -> None:
    try:
        check_source(text.strip(), mode)
    except ScriptError as exc:
        findings.errors.append(_row(filename, element, f"{what} does not compile in the sandbox: {exc}"))


def check_bpmn(
    filename: str,
    tree: etree._ElementTree,
    findings: Findings,
    operations: Mapping[str, Operation] | None = None,
    known_roles: Container[str] | None = None,
) -> None:
    """Expressions, signature meanings, service operations and lane roles of one BPMN file."""
    from .roles import lane_to_role

    for xpath, mode, what in BPMN_EXPRESSIONS:
        for element in tree.xpath(xpath, namespaces=NS):
            if (element.text or "").strip():
                _compile(element.text, mode, what, filename, element, findings)
    for prop in tree.xpath(".//spiffworkflow:property[@name='signature']", namespaces=NS):
        if prop.get("value") not in SIGNATURE_MEANINGS:
            findings.errors.append(
                _row(
                    filename,
                    prop,
                    f"signature meaning '{prop.get('value')}' is not one of {', '.join(SIGNATURE_MEANINGS)}",
                )
            )
    for operator in tree.xpath(".//spiffworkflow:serviceTaskOperator", namespaces=NS):
        _check_operation(operator, operations or {}, filename, findings)
    for prop in tree.xpath(".//spiffworkflow:property[@name='escalateTo']", namespaces=NS):
        role = (prop.get("value") or "").strip()
        if known_roles is not None and role not in known_roles:
            findings.warnings.append(
                _row(
                    filename,
                    prop,
                    f"escalateTo names role '{role}', which does not exist: nobody is told when the task is overdue",
                )
            )
    _check_event_names(filename, tree, findings)
    for lane in tree.xpath(".//bpmn:lane", namespaces=NS):
        role = lane_to_role(lane.get("name"))
        if role and known_roles is not None and role not in known_roles:
            findings.warnings.append(
                _row(
                    filename,
                    lane,
                    f"lane '{lane.get('name')}' names role '{role}', which does not exist yet; it is created on deploy",
                )
            )


def _check_event_names(filename: str, tree: etree._ElementTree, findings: Findings) -> None:
    """A message or signal event without a name (no messageRef/signalRef, or a message with no name)
    cannot reach or be reached from another instance: it works only inside its own instance (a
    boundary event a user triggers, SpiffArena's signal buttons), which deserves a warning."""
    named = {
        kind: {m.get("id"): (m.get("name") or "").strip() for m in tree.xpath(f"//bpmn:{kind}", namespaces=NS)}
        for kind in ("message", "signal")
    }
    for kind, ref in (("message", "messageRef"), ("signal", "signalRef")):
        for definition in tree.xpath(f".//bpmn:{kind}EventDefinition", namespaces=NS):
            if not named[kind].get(definition.get(ref) or ""):
                findings.warnings.append(
                    _row(
                        filename,
                        definition,
                        f"{kind} event without a name: no other process instance can send or receive it",
                    )
                )


def _check_operation(
    operator: etree._Element, operations: Mapping[str, Operation], filename: str, findings: Findings
) -> None:
    name = operator.get("id")
    operation = operations.get(name)
    if operation is None:
        findings.errors.append(_row(filename, operator, f"service operation '{name}' is not registered"))
        return
    params = {
        p.get("id"): p for p in operator.xpath("./spiffworkflow:parameters/spiffworkflow:parameter", namespaces=NS)
    }
    for missing in sorted(set(operation.required) - set(params)):
        findings.errors.append(_row(filename, operator, f"service operation '{name}' needs parameter '{missing}'"))
    for unknown in sorted(set(params) - set(operation.required) - set(operation.optional)):
        findings.errors.append(_row(filename, operator, f"service operation '{name}' has no parameter '{unknown}'"))
    declared = dict(operation.types)
    for param_id, param in sorted(params.items()):
        wanted, given = declared.get(param_id), param.get("type")
        if wanted and given and given != wanted:
            findings.errors.append(
                _row(
                    filename, param, f"service operation '{name}' takes parameter '{param_id}' as {wanted}, not {given}"
                )
            )
    for param in params.values():
        if param.get("value"):
            _compile(param.get("value"), "eval", f"parameter '{param.get('id')}'", filename, param, findings)


def check_dmn(filename: str, tree: etree._ElementTree, findings: Findings) -> None:
    """Input expressions, input cells (SpiffWorkflow's `?` and implicit `==` forms) and output cells."""
    for element in tree.iter("{*}inputExpression"):
        for text_el in element.iter("{*}text"):
            if (text_el.text or "").strip():
                _compile(text_el.text, "eval", "DMN input expression", filename, text_el, findings)
    for entry in tree.iter("{*}inputEntry"):
        for text_el in entry.iter("{*}text"):
            _check_input_cell(text_el, filename, findings)
    for entry in tree.iter("{*}outputEntry"):
        for text_el in entry.iter("{*}text"):
            if (text_el.text or "").strip():
                _compile(text_el.text, "eval", "DMN output cell", filename, text_el, findings)


def _check_input_cell(text_el: etree._Element, filename: str, findings: Findings) -> None:
    text = (text_el.text or "").strip()
    if not text or text == "-":
        return
    if "?" in text:
        _compile(_QUESTION_MARK.sub("dmninputexpr", text), "eval", "DMN input cell", filename, text_el, findings)
        return
    try:
        check_source(text, "eval")
    except ScriptError:
        _compile(f"v {text}", "eval", "DMN input cell", filename, text_el, findings)
