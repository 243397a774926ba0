"""Compile a bundle of BPMN/DMN/form files into deployable processes.

Every executable BPMN process becomes one `CompiledProcess`: its parsed spec serialized once (the
spec is stored per deployed version, never per instance), the exact files it depends on and their
content hash, so that the same content is recognised as the same version.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .bundle import ProcessBundle, SourceFile, content_hash
from .errors import BundleError, Problem
from .messages import start_names
from .operations import Operation
from .roles import lane_to_role
from .serializer import spec_serializer
from .validation import Findings, check_bpmn, check_dmn
from .xml_safety import parse_xml

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")
START_ROLES_PROPERTY = "startRoles"


@dataclass(frozen=True)
class CompiledProcess:
    """A parsed, serialized process ready to be stored as a version."""

    key: str
    name: str
    content_hash: str
    files: tuple[SourceFile, ...] = field(repr=False)
    spec_json: str = field(repr=False)
    roles: tuple[str, ...] = ()
    start_roles: tuple[str, ...] = ()
    business_key_prefix: str = ""
    start_messages: tuple[str, ...] = ()


def _problem(exc: Exception, default_file: str) -> Problem:
    """Turn a SpiffWorkflow validation exception into a report row."""
    line = str(getattr(exc, "line_number", None) or "")
    return {
        "file": getattr(exc, "file_name", None) or default_file,
        "line": int(line) if line.isdigit() else None,
        "element": getattr(exc, "id", None) or None,
        "message": str(getattr(exc, "error_msg", None) or exc),
    }


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating a bundle: compiled processes (only when there are no errors),
    errors that block a deployment and warnings that do not."""

    processes: tuple[CompiledProcess, ...] = ()
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()


Trees = dict[str, etree._ElementTree]  # parsed source files by file name


def _load_parser(bundle: ProcessBundle, library: ProcessBundle | None) -> tuple[SpiffBpmnParser, Trees, Trees]:
    """Feed every BPMN and DMN file of the bundle into a validating Spiff parser, then the files of
    `library` (already deployed) that the bundle does not replace, so references can resolve."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    trees: Trees = {}
    dmn_trees: Trees = {}
    problems: list[Problem] = []
    for source in bundle.of_kind("dmn") + bundle.of_kind("bpmn"):
        try:
            tree = parse_xml(source.text, source.name)
            if source.kind == "dmn":
                parser.add_dmn_xml(tree.getroot(), filename=source.name)
                dmn_trees[source.name] = tree
            else:
                parser.add_bpmn_xml(tree, filename=source.name)
                trees[source.name] = tree
        except BundleError as exc:
            problems.extend(exc.problems)
        except (ValidationException, SpiffWorkflowException) as exc:
            problems.append(_problem(exc, source.name))
    if problems:
        raise BundleError(problems)
    _add_library(parser, bundle, library)
    return parser, trees, dmn_trees


def _add_library(parser: SpiffBpmnParser, bundle: ProcessBundle, library: ProcessBundle | None) -> None:
    """Deployed DMN and BPMN files the bundle lacks; skipped where they would redefine its ids."""
    if library is None:
        return
    known = set(parser.get_process_ids())
    for source in library.of_kind("dmn") + library.of_kind("bpmn"):
        if bundle.get(source.name) is not None:
            continue
        tree = parse_xml(source.text, source.name)
        if source.kind == "dmn":
            ids = {d.get("id") for d in tree.iter("{*}decision")}
            if not ids & set(parser.dmn_parsers):
                parser.add_dmn_xml(tree.getroot(), filename=source.name)
        else:
            ids = {p.get("id") for p in tree.xpath("//bpmn:process", namespaces=NS)}
            if not ids & known:
                parser.add_bpmn_xml(tree, filename=source.name)
                known |= ids


def _process_node(tree: etree._ElementTree, process_id: str) -> etree._Element | None:
    nodes = tree.xpath(f"//bpmn:process[@id='{process_id}']", namespaces=NS)
    return nodes[0] if nodes else None


def _properties(node: etree._Element) -> dict[str | None, str | None]:
    """The spiffworkflow:properties directly on `node`, as a dict."""
    return {
        p.get("name"): p.get("value")
        for p in node.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
    }


def _referenced_forms(node: etree._Element) -> list[str]:
    return sorted(
        {
            p.get("value")
            for p in node.xpath(".//spiffworkflow:property", namespaces=NS)
            if p.get("name") in FORM_PROPERTIES and p.get("value")
        }
    )


def _referenced_decisions(node: etree._Element) -> list[str]:
    return sorted(
        {(e.text or "").strip() for e in node.xpath(".//spiffworkflow:calledDecisionId", namespaces=NS)} - {""}
    )


def _dependencies(
    parser: SpiffBpmnParser, trees: Trees, bundle: ProcessBundle, process_id: str
) -> tuple[dict[str, BpmnProcessSpec], list[str], list[str]]:
    """The source files process `process_id` needs: its BPMN, called processes, DMN and forms."""
    specs = {process_id: parser.get_spec(process_id)}
    specs.update(parser.get_subprocess_specs(process_id))
    names: set[str] = set()
    problems: list[Problem] = []
    roles: set[str] = set()
    for pid in specs:
        pparser = parser.get_process_parser(pid)
        names.add(pparser.filename)
        node = _process_node(pparser.node.getroottree(), pid)
        if node is None:  # an embedded sub-process: its lanes, forms and decisions are in its process
            continue
        roles.update(
            filter(None, (lane_to_role(lane.get("name")) for lane in node.xpath(".//bpmn:lane", namespaces=NS)))
        )
        for form in _referenced_forms(node):
            if bundle.get(form) is None:
                problems.append(
                    {
                        "file": pparser.filename,
                        "line": None,
                        "element": pid,
                        "message": f"form file {form} is not in the bundle",
                    }
                )
            names.add(form)
        for decision in _referenced_decisions(node):
            dmn = parser.dmn_parsers.get(decision)
            if dmn is None:
                problems.append(
                    {
                        "file": pparser.filename,
                        "line": None,
                        "element": pid,
                        "message": f"decision {decision} is not in the bundle",
                    }
                )
            else:
                names.add(dmn.filename)
    if problems:
        raise BundleError(problems)
    return specs, sorted(names - {None}), sorted(roles)


def _check_forms(bundle: ProcessBundle, names: Iterable[str]) -> None:
    problems: list[Problem] = []
    for name in names:
        if name.endswith(".json"):
            try:
                json.loads(bundle.files[name].text)
            except ValueError as exc:
                problems.append(
                    {
                        "file": name,
                        "line": getattr(exc, "lineno", None),
                        "element": None,
                        "message": f"invalid JSON: {exc}",
                    }
                )
    if problems:
        raise BundleError(problems)


def validate_bundle(
    bundle: ProcessBundle,
    library: ProcessBundle | None = None,
    operations: Mapping[str, Operation] | None = None,
    known_roles: Container[str] | None = None,
) -> ValidationReport:
    """Validate `bundle` completely and compile its executable processes; never raises for content."""
    from .bundle import ProcessBundle

    merged = ProcessBundle(list((library.files if library else {}).values()) + list(bundle.files.values()))
    try:
        parser, trees, dmn_trees = _load_parser(bundle, library)
    except BundleError as exc:
        return ValidationReport(errors=tuple(exc.problems))
    findings = Findings()
    for name, tree in trees.items():
        check_bpmn(name, tree, findings, operations, known_roles)
    for name, tree in dmn_trees.items():
        check_dmn(name, tree, findings)
    compiled: list[CompiledProcess] = []
    for process_id in sorted(parser.get_process_ids()):
        pparser = parser.get_process_parser(process_id)
        if not pparser.process_executable or pparser.filename not in trees:
            continue
        try:
            compiled.append(_compile_process(parser, trees, merged, process_id))
        except BundleError as exc:
            findings.errors.extend(exc.problems)
        except (ValidationException, SpiffWorkflowException) as exc:
            findings.errors.append(_problem(exc, pparser.filename))
    if not compiled and not findings.errors:
        findings.errors.append(
            {"file": None, "line": None, "element": None, "message": "the bundle holds no executable process"}
        )
    return ValidationReport(
        tuple(compiled) if not findings.errors else (), tuple(findings.errors), tuple(findings.warnings)
    )


def compile_bundle(
    bundle: ProcessBundle, library: ProcessBundle | None = None, operations: Mapping[str, Operation] | None = None
) -> list[CompiledProcess]:
    """Parse and validate `bundle`; return one CompiledProcess per executable process or raise
    BundleError with every problem found."""
    report = validate_bundle(bundle, library, operations)
    if report.errors:
        raise BundleError(report.errors)
    return list(report.processes)


def _compile_process(parser: SpiffBpmnParser, trees: Trees, bundle: ProcessBundle, process_id: str) -> CompiledProcess:
    """One executable process: its specs, dependency files and properties."""
    pparser = parser.get_process_parser(process_id)
    specs, names, roles = _dependencies(parser, trees, bundle, process_id)
    _check_forms(bundle, names)
    files = tuple(bundle.files[n] for n in names)  # _dependencies found every one of them
    props = _properties(_process_node(trees[pparser.filename], process_id))
    start_roles = tuple(r.strip() for r in (props.get(START_ROLES_PROPERTY) or "").split(",") if r.strip())
    spec = specs.pop(process_id)
    return CompiledProcess(
        key=process_id,
        name=pparser.get_name(),
        content_hash=content_hash(files),
        files=files,
        spec_json=spec_serializer.dumps(spec, specs),
        roles=tuple(roles),
        start_roles=start_roles,
        business_key_prefix=props.get("businessKeyPrefix") or "",
        start_messages=tuple(start_names(spec)),
    )
