"""Engine tests: the real files in processes/, rules/ and forms/, no app, no database."""

import json

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import (
    BundleError,
    Engine,
    EngineError,
    ProcessBundle,
    ScriptError,
    SourceFile,
    TaskNotReady,
    VersionRef,
    check_consistent,
    compile_bundle,
    lane_to_role,
)
from engine.sandbox import script_engine
from engine.serializer import full_serializer, spec_serializer
from tests.conftest import ROOT
from tests.helpers import DATA_BY_TASK, MAJOR_IMPACT, loop_form, shipped_paths

FIXTURES = ROOT / "tests" / "fixtures"


def _operations():
    """The app's service-task operations (processes/ holds service tasks; parameters are checked at compile)."""
    from engine import OperationRegistry
    from webapp.operations import register

    registry = OperationRegistry()
    register(registry)
    return registry.definitions()


def _ref(compiled):
    return VersionRef(compiled.content_hash, compiled.spec_json, {f.name: f.text for f in compiled.files})


def _operations():
    """The app's service-task operations (processes/ holds processes that call them)."""
    from engine import OperationRegistry
    from webapp.operations import register

    registry = OperationRegistry()
    register(registry)
    return registry.definitions()


@pytest.fixture(scope="module")
def change_control():
    bundle = ProcessBundle.from_paths(*shipped_paths())
    [compiled] = [c for c in compile_bundle(bundle, operations=_operations()) if c.key == "change_control"]
    return _ref(compiled)


@pytest.fixture(scope="module")
def loop_process():
    [compiled] = compile_bundle(
        ProcessBundle.from_paths(FIXTURES / "rework_loop.bpmn", FIXTURES / "rework_loop-schema.json")
    )
    return _ref(compiled)


def drive(engine, workflow, ref, overrides=None, stop_at=None):
    """Complete ready tasks with DATA_BY_TASK (+ overrides by bpmn id) until done or `stop_at` is ready."""
    overrides = overrides or {}
    seen = []
    while engine.status(workflow) == "running":
        ready = engine.ready_human_tasks(workflow, ref)
        assert ready, "running workflow without ready human tasks"
        task = ready[0]
        if task.bpmn_id == stop_at:
            break
        data = overrides.get(task.bpmn_id)
        data = data.pop(0) if isinstance(data, list) else data
        seen.append(task.bpmn_id)
        engine.complete_task(workflow, task.id, data or DATA_BY_TASK[task.bpmn_id])
        workflow = engine.load(ref, engine.dump(workflow))
    return workflow, seen


@pytest.mark.parametrize(
    "lane, role",
    [
        ("Change Board", "change_board"),
        ("QA", "qa"),
        ("  Regulatory ", "regulatory"),
        ("R&D / Design", "r_d_design"),
        ("", None),
    ],
)
def test_lane_names_map_to_roles(lane, role):
    assert lane_to_role(lane) == role


def test_change_control_declares_its_lanes_and_files(change_control):
    bundle = ProcessBundle.from_paths(*shipped_paths())
    compiled = next(c for c in compile_bundle(bundle, operations=_operations()) if c.key == "change_control")
    assert set(compiled.roles) == {"requester", "qa", "change_board", "regulatory"}
    names = {f.name for f in compiled.files}
    assert {"change_control.bpmn", "change_classification.dmn", "change_request-schema.json"} <= names


def test_minor_change_goes_through_qa_review(change_control):
    engine = Engine()
    workflow, seen = drive(engine, engine.start(change_control), change_control)
    assert seen == [
        "submit_request",
        "impact_assessment",
        "qa_review",
        "qa_approval",
        "implementation",
        "verification",
        "make_effective",
    ]
    data = engine.data(workflow)
    assert data["classification"] == "minor" and data["closed"] is True


def test_major_change_needs_board_and_regulatory_review(change_control):
    engine = Engine()
    workflow, seen = drive(engine, engine.start(change_control), change_control, {"impact_assessment": MAJOR_IMPACT})
    assert {"board_review", "regulatory_review"} <= set(seen) and "qa_review" not in seen
    assert engine.data(workflow)["classification"] == "major"
    assert engine.data(workflow)["regulatory_action"] == "filing"


def test_rejection_loops_back_to_the_requester(change_control):
    engine = Engine()
    reject = {"qa_review_decision": "reject", "qa_review_comments": "Add the validation reference."}
    workflow, seen = drive(
        engine, engine.start(change_control), change_control, {"qa_review": [reject, DATA_BY_TASK["qa_review"]]}
    )
    assert seen[:5] == ["submit_request", "impact_assessment", "qa_review", "revise_request", "impact_assessment"]
    assert engine.status(workflow) == "completed"


def test_ready_tasks_carry_lane_form_and_rendered_instructions(change_control):
    engine = Engine()
    workflow, _ = drive(engine, engine.start(change_control), change_control, stop_at="impact_assessment")
    [task] = engine.ready_human_tasks(workflow, change_control)
    assert (task.bpmn_id, task.type, task.lane, task.role) == ("impact_assessment", "userTask", "QA", "qa")
    assert task.form["schema"]["properties"]["risk_level"]["enum"] == ["low", "medium", "high"]
    assert DATA_BY_TASK["submit_request"]["title"] in task.instructions
    assert "{{" not in task.instructions


def test_bad_jinja_in_instructions_shows_the_raw_text():
    from engine.tasks import render_instructions

    assert render_instructions("Hello {{ name", {"name": "x"}) == "Hello {{ name"
    assert render_instructions("{{ x.__class__ }}", {"x": 1}) in ("", "{{ x.__class__ }}")


def test_state_is_serialized_without_the_spec(change_control):
    engine = Engine()
    workflow = engine.start(change_control)
    lean = engine.dump(workflow)
    full = full_serializer.serialize_json(workflow)
    assert '"spec"' not in lean and "subprocess_specs" not in lean
    assert '"spec"' in full and len(lean) < len(full) / 2
    restored = engine.load(change_control, lean)
    assert [t.bpmn_id for t in engine.ready_human_tasks(restored, change_control)] == ["submit_request"]


def test_script_environment_is_reattached_on_load(change_control):
    engine = Engine()
    workflow = engine.load(change_control, engine.dump(engine.start(change_control)))
    assert workflow.script_engine.environment.__class__.__name__ == "SandboxedEnvironment"


def test_completing_a_task_twice_is_refused(change_control):
    engine = Engine()
    workflow = engine.start(change_control)
    [task] = engine.ready_human_tasks(workflow, change_control)
    engine.complete_task(workflow, task.id, DATA_BY_TASK["submit_request"])
    with pytest.raises(TaskNotReady):
        engine.complete_task(workflow, task.id, DATA_BY_TASK["submit_request"])


def test_rework_loop_past_400_passes_keeps_running(loop_process):
    engine = Engine()
    workflow = engine.start(loop_process)
    for n in range(450):
        [task] = engine.ready_human_tasks(workflow, loop_process)
        engine.complete_task(workflow, task.id, {"again": True})
        if n % 150 == 149:
            workflow = engine.load(loop_process, engine.dump(workflow))
        assert engine.status(workflow) == "running"
    [task] = engine.ready_human_tasks(workflow, loop_process)
    engine.complete_task(workflow, task.id, {"again": False})
    assert engine.status(workflow) == "completed" and engine.data(workflow)["finished"] is True


def test_change_control_rejection_loop_past_400_passes(change_control):
    engine = Engine()
    workflow, _ = drive(engine, engine.start(change_control), change_control, stop_at="qa_review")
    reject = {"qa_review_decision": "reject", "qa_review_comments": "again"}
    for n in range(405):
        for bpmn_id, data in (
            ("qa_review", reject),
            ("revise_request", DATA_BY_TASK["revise_request"]),
            ("impact_assessment", DATA_BY_TASK["impact_assessment"]),
        ):
            [task] = engine.ready_human_tasks(workflow, change_control)
            assert task.bpmn_id == bpmn_id, f"pass {n}"
            engine.complete_task(workflow, task.id, data)
        if n % 200 == 199:
            workflow = engine.load(change_control, engine.dump(workflow))
    workflow, _ = drive(engine, workflow, change_control)
    assert engine.status(workflow) == "completed" and engine.data(workflow)["closed"] is True


def test_guard_turns_spiffs_false_completion_into_an_engine_error(loop_process):
    """Plain SpiffWorkflow loses sight of READY tasks past depth 1000 and reports completion."""
    spec, subprocess_specs = spec_serializer.loads(loop_process.spec_json)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine())
    workflow.do_engine_steps()
    passes = 0
    while passes < 700:
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        ready[0].data["again"] = True
        ready[0].run()
        workflow.do_engine_steps()
        passes += 1
    assert passes > 400 and workflow.is_completed(), "SpiffWorkflow no longer shows the depth problem"
    with pytest.raises(EngineError, match="still pending"):
        check_consistent(workflow)


def test_sandbox_refuses_imports_and_dunders():
    engine = script_engine()
    env = engine.environment
    with pytest.raises(ScriptError):
        env.execute("import os", {})
    with pytest.raises(ScriptError):
        env.evaluate("().__class__.__bases__", {})
    with pytest.raises(NameError):
        env.evaluate("open('/etc/passwd')", {})
    context = {"a": 2}
    env.execute("b = a * 3", context)
    assert context["b"] == 6


def test_script_errors_surface_as_script_error():
    bpmn = (FIXTURES / "rework_loop.bpmn").read_text().replace("finished = True", "finished = 1 / 0")
    [compiled] = compile_bundle(ProcessBundle([SourceFile("rework_loop.bpmn", bpmn), loop_form()]))
    ref = _ref(compiled)
    engine = Engine()
    workflow = engine.start(ref)
    [task] = engine.ready_human_tasks(workflow, ref)
    with pytest.raises(ScriptError):
        engine.complete_task(workflow, task.id, {"again": False})


@pytest.mark.parametrize(
    "text, message",
    [
        ("<bpmn:definitions", "not well-formed"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "DOCTYPE"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "DOCTYPE"),
    ],
)
def test_unsafe_or_broken_xml_is_refused(text, message):
    with pytest.raises(BundleError) as info:
        compile_bundle(ProcessBundle([SourceFile("bad.bpmn", text)]))
    assert message in info.value.problems[0]["message"]
    assert "root:" not in json.dumps(info.value.problems)


def test_missing_form_is_reported():
    bpmn = (ROOT / "processes" / "change_control" / "change_control.bpmn").read_text()
    bundle = ProcessBundle(
        [
            SourceFile("change_control.bpmn", bpmn),
            SourceFile(
                "change_classification.dmn",
                (ROOT / "processes" / "change_control" / "change_classification.dmn").read_text(),
            ),
        ]
    )
    with pytest.raises(BundleError) as info:
        compile_bundle(bundle)
    assert any("form file" in p["message"] for p in info.value.problems)


def test_same_content_gives_the_same_hash():
    a = compile_bundle(ProcessBundle.from_paths(FIXTURES / "rework_loop.bpmn", FIXTURES / "rework_loop-schema.json"))[0]
    b = compile_bundle(ProcessBundle.from_paths(FIXTURES / "rework_loop.bpmn", FIXTURES / "rework_loop-schema.json"))[0]
    assert a.content_hash == b.content_hash


@pytest.mark.parametrize("prop, prefix", [('value="RW"', "RW"), ("", "")])
def test_business_key_prefix_is_text_even_without_a_value(prop, prefix):
    """A businessKeyPrefix property without a value gives no prefix, not None (a NOT NULL column)."""
    properties = (
        "<bpmn:extensionElements><spiffworkflow:properties>"
        f'<spiffworkflow:property name="businessKeyPrefix" {prop} />'
        "</spiffworkflow:properties></bpmn:extensionElements>"
    )
    bpmn = (FIXTURES / "rework_loop.bpmn").read_text()
    bpmn = bpmn.replace('isExecutable="true">', 'isExecutable="true">' + properties, 1)
    [compiled] = compile_bundle(ProcessBundle([SourceFile("rework_loop.bpmn", bpmn), loop_form()]))
    assert compiled.business_key_prefix == prefix


def test_call_activity_resolves_by_process_id_and_survives_a_reload():
    compiled = {c.key: c for c in compile_bundle(ProcessBundle.from_paths(FIXTURES / "call"))}
    assert {f.name for f in compiled["call_parent"].files} == {"parent.bpmn", "child.bpmn"}
    assert {f.name for f in compiled["call_child"].files} == {"child.bpmn"}
    ref = _ref(compiled["call_parent"])
    engine = Engine()
    workflow = engine.load(ref, engine.dump(engine.start(ref, {"sample": "S-17"})))
    [task] = engine.ready_human_tasks(workflow, ref)
    assert (task.bpmn_id, task.type, task.lane, task.instructions) == (
        "inspect",
        "manualTask",
        None,
        "Inspect sample S-17",
    )
    engine.complete_task(workflow, task.id, {})
    workflow = engine.load(ref, engine.dump(workflow))
    [after] = engine.ready_human_tasks(workflow, ref)
    assert after.bpmn_id == "after"
    engine.complete_task(workflow, after.id, {})
    assert engine.status(workflow) == "completed" and engine.data(workflow)["shown"] == "yes"


def _service_process(operator_xml):
    bpmn = (
        (FIXTURES / "rework_loop.bpmn")
        .read_text()
        .replace(
            '<bpmn:scriptTask id="count" name="Count">',
            f'<bpmn:serviceTask id="count" name="Count"><bpmn:extensionElements>{operator_xml}</bpmn:extensionElements>',
        )
        .replace("<bpmn:script>finished = True</bpmn:script></bpmn:scriptTask>", "</bpmn:serviceTask>")
    )
    return bpmn


def test_service_tasks_call_registered_operations_with_evaluated_parameters():
    from engine import OperationRegistry, ServiceError

    registry = OperationRegistry()
    registry.register("test.double", lambda p: {"value": p["n"] * 2}, required=("n",))
    registry.register("test.fail", lambda p: 1 / 0)
    operator = (
        '<spiffworkflow:serviceTaskOperator id="{op}" resultVariable="doubled"><spiffworkflow:parameters>'
        '<spiffworkflow:parameter id="n" type="int" value="amount + 1" /></spiffworkflow:parameters>'
        "</spiffworkflow:serviceTaskOperator>"
    )
    [ok] = compile_bundle(
        ProcessBundle([SourceFile("s.bpmn", _service_process(operator.format(op="test.double"))), loop_form()]),
        operations=registry.definitions(),
    )
    engine = Engine(operations=registry)
    ref = _ref(ok)
    workflow = engine.start(ref, {"amount": 20})
    [task] = engine.ready_human_tasks(workflow, ref)
    engine.complete_task(workflow, task.id, {"again": False})
    assert engine.data(workflow)["doubled"] == {"value": 42}
    failing = _service_process(operator.format(op="test.fail")).replace(
        'id="n" type="int" value="amount + 1" ', 'id="n" type="int" value="1" '
    )
    registry.register("test.fail", lambda p: 1 / 0, optional=("n",))
    [bad] = compile_bundle(
        ProcessBundle([SourceFile("f.bpmn", failing), loop_form()]), operations=registry.definitions()
    )
    workflow = engine.start(_ref(bad), {})
    [task] = engine.ready_human_tasks(workflow, _ref(bad))
    with pytest.raises(ServiceError, match=r"test\.fail failed: division by zero"):
        engine.complete_task(workflow, task.id, {"again": False})
