"""The validation report: requirement → features → tests, with the result of the last test run.

The matrix lives in rules/validation_matrix.json; results come from pytest's JUnit XML (make test
writes instance/test-results.xml). A test id matches every parametrized case of that test; a
requirement passes only when all its tests ran and passed.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from engine.xml_safety import parse_xml


@dataclass(frozen=True)
class Row:
    """One requirement with its features, tests and outcome."""

    id: str
    source: str
    text: str
    features: list
    tests: list
    status: str


def load_results(junit_path):
    """{"tests/x.py::test_name": ["passed"|"failed"|"skipped", ...]} from a JUnit XML file."""
    results = {}
    if not junit_path or not Path(junit_path).exists():
        return results
    tree = parse_xml(Path(junit_path).read_bytes(), str(junit_path))
    for case in tree.iter("testcase"):
        module = case.get("classname", "").replace(".", "/") + ".py"
        name = case.get("name", "").split("[")[0]
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped" and outcome == "passed":
                outcome = "skipped"
        results.setdefault(f"{module}::{name}", []).append(outcome)
    return results


def _status(tests, results):
    if not tests:
        return "not covered"
    outcomes = [o for t in tests for o in results.get(t, ["not run"])]
    if "failed" in outcomes:
        return "failed"
    if "not run" in outcomes or "skipped" in outcomes:
        return "incomplete"
    return "passed"


def build_rows(matrix_path, junit_path):
    """The report rows for the matrix and the last run."""
    matrix = json.loads(Path(matrix_path).read_text(encoding="utf-8"))
    results = load_results(junit_path)
    return [
        Row(
            r["id"],
            r["source"],
            r["text"],
            r["features"],
            [(t, ", ".join(sorted(set(results.get(t, ["not run"]))))) for t in r["tests"]],
            _status(r["tests"], results),
        )
        for r in matrix["requirements"]
    ]


def render_html(rows, generated_at, junit_path):
    """A standalone HTML document (escaped with lxml, no template engine needed)."""
    html = etree.Element("html")
    head = etree.SubElement(html, "head")
    etree.SubElement(head, "meta", charset="utf-8")
    etree.SubElement(head, "title").text = "Traceflow validation report"
    etree.SubElement(head, "style").text = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}"
        ".passed{background:#e7f6ee}.failed{background:#fdecea}.incomplete,.not-covered{background:#fff4ed}"
    )
    body = etree.SubElement(html, "body")
    etree.SubElement(body, "h1").text = "Traceflow — validation report (21 CFR Part 11, GSP)"
    etree.SubElement(body, "p").text = (
        f"Generated {generated_at:%Y-%m-%d %H:%M:%S} UTC from "
        f"rules/validation_matrix.json and the test results in {junit_path}."
    )
    counts = {s: sum(1 for r in rows if r.status == s) for s in ("passed", "failed", "incomplete", "not covered")}
    etree.SubElement(body, "p").text = " · ".join(f"{k}: {v}" for k, v in counts.items())
    table = etree.SubElement(body, "table")
    header = etree.SubElement(table, "tr")
    for title in ("Requirement", "Source", "Text", "Features", "Tests (last result)", "Status"):
        etree.SubElement(header, "th").text = title
    for row in rows:
        tr = etree.SubElement(table, "tr", {"class": row.status.replace(" ", "-")})
        for value in (row.id, row.source, row.text):
            etree.SubElement(tr, "td").text = value
        features = etree.SubElement(etree.SubElement(tr, "td"), "ul")
        for feature in row.features:
            etree.SubElement(features, "li").text = feature
        tests = etree.SubElement(etree.SubElement(tr, "td"), "ul")
        for test, outcome in row.tests:
            etree.SubElement(tests, "li").text = f"{test} — {outcome}"
        etree.SubElement(tr, "td").text = row.status
    return "<!doctype html>\n" + etree.tostring(html, encoding="unicode", method="html")
