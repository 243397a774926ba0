"""The validation report: every referenced test exists, and results from JUnit XML decide each row."""

import ast
import json

from tests.conftest import ROOT
from webapp.reports.validation import build_rows

MATRIX = ROOT / "rules" / "validation_matrix.json"


def _defined_tests():
    found = set()
    for path in (ROOT / "tests").glob("**/test_*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.add(f"{path.relative_to(ROOT).as_posix()}::{node.name}")
    return found


def test_matrix_names_only_existing_tests():
    defined = _defined_tests()
    requirements = json.loads(MATRIX.read_text())["requirements"]
    missing = [t for r in requirements for t in r["tests"] if t not in defined]
    assert missing == []
    assert {"11.10(e)", "11.50", "11.70", "11.200", "11.300"} <= {r["id"] for r in requirements}


def _junit(tmp_path, cases):
    body = "".join(f'<testcase classname="{c}" name="{n}">{extra}</testcase>' for c, n, extra in cases)
    path = tmp_path / "results.xml"
    path.write_text(f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{body}</testsuite></testsuites>')
    return path


def test_rows_pass_fail_or_stay_incomplete_from_the_last_run(tmp_path):
    results = _junit(
        tmp_path,
        [
            ("tests.integration.test_signatures", "test_signature_breaks_when_the_signed_content_changes[sqlite]", ""),
            (
                "tests.integration.test_signatures",
                "test_signature_breaks_when_the_signed_content_changes[postgresql]",
                "",
            ),
            ("tests.integration.test_audit_trail", "test_edited_event_is_found[sqlite]", '<failure message="x"/>'),
        ],
    )
    rows = {r.id: r for r in build_rows(MATRIX, results)}
    assert rows["11.70"].status == "passed"
    assert rows["11.10(e)"].status == "failed"
    assert rows["11.50"].status == "incomplete"
    assert rows["GSP-scope"].status == "incomplete"
    uncovered = tmp_path / "matrix.json"
    uncovered.write_text(
        json.dumps({"requirements": [{"id": "X", "source": "s", "text": "t", "features": [], "tests": []}]})
    )
    assert build_rows(uncovered, results)[0].status == "not covered"


def test_cli_writes_the_html_report(app, tmp_path):
    results = _junit(tmp_path, [])
    output = tmp_path / "report.html"
    outcome = app.test_cli_runner().invoke(
        args=["validation-report", "--output", str(output), "--results", str(results)]
    )
    assert outcome.exit_code == 0, outcome.output
    html = output.read_text()
    assert "11.300" in html and "test_lockout_after_five_failures_is_audited_and_admin_unlocks" in html
