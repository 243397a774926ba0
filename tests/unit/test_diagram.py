"""Server-side BPMN → SVG rendering: the real change_control process, modeler-style fixtures, diffs."""

import re
from dataclasses import FrozenInstanceError

import pytest

from engine.diagram import (
    DiagramError,
    ElementInfo,
    diagram_css,
    diagram_elements,
    diff_elements,
    render_diff_svg,
    render_svg,
)
from engine.xml_safety import parse_xml
from tests.conftest import ROOT

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SVG = "http://www.w3.org/2000/svg"
NS = {"bpmn": BPMN, "dc": DC, "di": DI, "svg": SVG}
FIXTURES = ROOT / "tests" / "fixtures" / "diagrams"
CHANGE_CONTROL = (ROOT / "processes" / "change_control" / "change_control.bpmn").read_text(encoding="utf-8")
V1 = (FIXTURES / "purchase_v1.bpmn").read_text(encoding="utf-8")
V2 = (FIXTURES / "purchase_v2.bpmn").read_text(encoding="utf-8")
CAMUNDA = (FIXTURES / "camunda_order.bpmn").read_text(encoding="utf-8")
BPMNIO = (FIXTURES / "bpmnio_complaint.bpmn").read_text(encoding="utf-8")
NOT_FLOW_NODES = {
    "sequenceFlow",
    "laneSet",
    "extensionElements",
    "documentation",
    "textAnnotation",
    "association",
    "dataObject",
}


def svg_root(svg_text):
    """The parsed SVG (it must be well-formed XML)."""
    return parse_xml(svg_text, "diagram.svg").getroot()


def groups(root):
    """Element groups by BPMN id."""
    return {g.get("id")[3:]: g for g in root.iter(f"{{{SVG}}}g") if (g.get("id") or "").startswith("el-")}


def classes(group):
    return set(group.get("class").split())


def shown_text(group):
    """The text a group shows (not its tooltip), whitespace removed since names are wrapped."""
    return "".join("".join(t.itertext()) for t in group.iter(f"{{{SVG}}}text")).replace(" ", "")


def model(text):
    return parse_xml(text, "model.bpmn").getroot()


def local(element):
    return element.tag.rsplit("}", 1)[1]


def flow_nodes(text, process_id):
    process = model(text).find(f"bpmn:process[@id='{process_id}']", NS)
    return [el for el in process if isinstance(el.tag, str) and local(el) not in NOT_FLOW_NODES]


def view_box(root):
    x, y, width, height = (float(v) for v in root.get("viewBox").split())
    return x, y, x + width, y + height


# --- change_control, the real process -----------------------------------------------------------


@pytest.fixture(scope="module")
def change_control_svg():
    return render_svg(CHANGE_CONTROL, "change_control")


def test_change_control_has_a_group_for_every_flow_node_lane_and_flow(change_control_svg):
    drawn = groups(svg_root(change_control_svg))
    root = model(CHANGE_CONTROL)
    expected = (
        [el.get("id") for el in flow_nodes(CHANGE_CONTROL, "change_control")]
        + [lane.get("id") for lane in root.iterfind(".//bpmn:lane", NS)]
        + [flow.get("id") for flow in root.iterfind(".//bpmn:sequenceFlow", NS)]
        + ["Participant_change_control"]
    )
    assert len(expected) > 60
    assert [element_id for element_id in expected if element_id not in drawn] == []
    assert "userTask" in classes(drawn["submit_request"])
    assert {"exclusiveGateway", "gateway"} <= classes(drawn["is_major"])
    assert "businessRuleTask" in classes(drawn["classify_change"])


def test_change_control_view_box_encloses_all_di_bounds_and_waypoints(change_control_svg):
    left, top, right, bottom = view_box(svg_root(change_control_svg))
    root = model(CHANGE_CONTROL)
    boxes = [
        (float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height")))
        for b in root.iterfind(".//dc:Bounds", NS)
    ]
    points = [(float(p.get("x")), float(p.get("y"))) for p in root.iterfind(".//di:waypoint", NS)]
    assert boxes and points
    for x, y, width, height in boxes:
        assert left <= x and x + width <= right and top <= y and y + height <= bottom, (x, y)
    for x, y in points:
        assert left <= x <= right and top <= y <= bottom, (x, y)
    assert left < 150 and right > 2800  # the pool runs from x=150 to 2800


def test_change_control_shows_chinese_names_and_flow_names(change_control_svg):
    drawn = groups(svg_root(change_control_svg))
    named = [el for el in flow_nodes(CHANGE_CONTROL, "change_control") if el.get("name")]
    assert len(named) >= 20
    for element in named:
        assert element.get("name").replace(" ", "") in shown_text(drawn[element.get("id")]), element.get("id")
        assert drawn[element.get("id")].find("svg:title", NS).text == element.get("name")
    assert "清除上轮评审结论" in shown_text(drawn["reset_review_outcomes"])  # wrapped over two lines
    assert "变更控制" in shown_text(drawn["Participant_change_control"])
    assert shown_text(drawn["Lane_ChangeBoard"]) == "ChangeBoard"
    flows = [f for f in model(CHANGE_CONTROL).iterfind(".//bpmn:sequenceFlow", NS) if f.get("name")]
    assert len(flows) >= 10
    for flow in flows:
        assert shown_text(drawn[flow.get("id")]) == flow.get("name").replace(" ", ""), flow.get("id")
    assert shown_text(drawn["Flow_start_to_submit"]) == ""


def test_svg_root_is_accessible_and_styled_by_one_style_element(change_control_svg):
    root = svg_root(change_control_svg)
    assert root.tag == f"{{{SVG}}}svg"
    assert root.get("role") == "img" and root.get("aria-label") == "变更控制 Change Control"
    assert float(root.get("width")) > 2600 and float(root.get("height")) > 900
    [style] = root.iter(f"{{{SVG}}}style")
    assert '"Noto Sans CJK SC"' in style.text and '"Microsoft YaHei"' in style.text
    assert "sans-serif" in style.text
    assert all(el.get("style") is None for el in root.iter())
    assert "<style" not in render_svg(CHANGE_CONTROL, "change_control", embed_style=False)
    assert ".state-completed" in diagram_css()


def test_sequence_flows_have_arrowheads_and_default_flows_a_slash(change_control_svg):
    root = svg_root(change_control_svg)
    markers = {m.get("id") for m in root.iter(f"{{{SVG}}}marker")}
    drawn = groups(root)
    defaults = {el.get("default") for el in model(CHANGE_CONTROL).iter() if el.get("default")}
    for flow in model(CHANGE_CONTROL).iterfind(".//bpmn:sequenceFlow", NS):
        line = drawn[flow.get("id")].find("svg:path[@class='flow-line']", NS)
        assert line.get("marker-end") == "url(#tf-arrow)"
        start = line.get("marker-start")
        assert (start == "url(#tf-default)") == (flow.get("id") in defaults), flow.get("id")
    assert {"tf-arrow", "tf-default"} <= markers
    assert drawn["Flow_major"].find("svg:path[@class='flow-line']", NS).get("d").count("Q") == 1  # rounded bend


def first_line(group):
    tspan = next(group.iter(f"{{{SVG}}}tspan"))
    return float(tspan.get("x")), float(tspan.get("y"))


def test_labels_sit_at_di_label_bounds_or_fall_back_to_below_and_midpoint(change_control_svg):
    x, y = first_line(groups(svg_root(change_control_svg))["is_major"])
    assert x == 1120 and 400 < y <= 414  # BPMNLabel bounds x=1080 y=400 w=80 h=14, above
    x, y = first_line(groups(svg_root(change_control_svg))["Flow_major"])
    assert x == 1158 and 560 < y <= 574
    without_labels = re.sub(r"<bpmndi:BPMNLabel>.*?</bpmndi:BPMNLabel>", "", V1, flags=re.S)
    drawn = groups(svg_root(render_svg(without_labels, "purchase_request")))
    x, y = first_line(drawn["f3"])
    assert x == 540 and y < 120  # middle of the flow from x=500 to 580, above the line
    x, y = first_line(drawn["end"])
    assert x == 760 and y > 138  # centred below the event (x 742..778, bottom 138)


# --- states, path, diff classes ------------------------------------------------------------------


def marked(root, prefix):
    """{bpmn id: the class starting with prefix} for every group carrying such a class."""
    found = {}
    for element_id, group in groups(root).items():
        for css in classes(group):
            if css.startswith(prefix):
                found[element_id] = css
    return found


def test_states_path_and_diff_classes_land_on_exactly_the_right_elements():
    states = {
        "submit_request": "completed",
        "board_review": "active",
        "regulatory_review": "waiting",
        "verification": "failed",
        "qa_review": "cancelled",
        "is_major": "completed",
    }
    path = {"Flow_start_to_submit", "Flow_major"}
    diff = {"qa_approval": "changed", "Flow_minor": "removed", "end_closed": "added"}
    root = svg_root(render_svg(CHANGE_CONTROL, "change_control", states=states, path=path, diff=diff))
    assert marked(root, "state-") == {key: f"state-{value}" for key, value in states.items()}
    assert marked(root, "taken") == dict.fromkeys(path, "taken")
    assert marked(root, "diff-") == {key: f"diff-{value}" for key, value in diff.items()}
    badges = {
        element_id: badge.get("class")
        for element_id, group in groups(root).items()
        for badge in group.iterfind("svg:g", NS)
        if badge.get("class", "").startswith("badge ")
    }
    assert badges == {key: f"badge badge-{value}" for key, value in states.items()}
    taken_line = groups(root)["Flow_major"].find("svg:path[@class='flow-line']", NS)
    assert taken_line.get("marker-end") == "url(#tf-arrow-taken)"


def test_state_aliases_and_unknown_states():
    root = svg_root(render_svg(CHANGE_CONTROL, "change_control", states={"submit_request": "ready"}))
    assert marked(root, "state-") == {"submit_request": "state-active"}
    with pytest.raises(ValueError, match="finished"):
        render_svg(CHANGE_CONTROL, "change_control", states={"submit_request": "finished"})
    with pytest.raises(ValueError):
        render_svg(CHANGE_CONTROL, "change_control", diff={"submit_request": "moved"})


def test_labels_override_names_for_the_english_ui():
    labels = {
        "submit_request": "Submit change request",
        "Flow_minor": "minor",
        "Participant_change_control": "Change Control",
    }
    drawn = groups(svg_root(render_svg(CHANGE_CONTROL, "change_control", labels=labels)))
    assert shown_text(drawn["submit_request"]) == "Submitchangerequest"
    assert drawn["submit_request"].find("svg:title", NS).text == "Submit change request"
    assert shown_text(drawn["Flow_minor"]) == "minor"
    assert shown_text(drawn["Participant_change_control"]) == "ChangeControl"
    assert "影响评估" in shown_text(drawn["impact_assessment"])  # not overridden


# --- hostile input ---------------------------------------------------------------------------------

HOSTILE = "&lt;script&gt;alert(1)&lt;/script&gt; R&amp;D &quot;q&quot; &lt;/text&gt;&lt;svg onload=x&gt;"


def test_hostile_names_are_escaped():
    text = V1.replace('name="提交申请"', f'name="{HOSTILE}"').replace('name="已审核 reviewed"', f'name="{HOSTILE}"')
    svg = render_svg(text, "purchase_request", labels={"review": "<script>bad()</script>"})
    root = svg_root(svg)
    assert "<script" not in svg and "<svg onload" not in svg
    assert [el for el in root.iter() if isinstance(el.tag, str) and local(el) == "script"] == []
    assert [el for el in root.iter() if any(key.startswith("on") for key in el.attrib)] == []
    drawn = groups(root)
    assert drawn["submit"].find("svg:title", NS).text.startswith("<script>alert(1)")
    assert "R&D" in shown_text(drawn["submit"]) and "R&D" in shown_text(drawn["f3"])
    assert "&lt;script&gt;" in svg
    assert drawn["review"].find("svg:title", NS).text == "<script>bad()</script>"


def test_files_with_dtds_are_refused():
    from engine.errors import BundleError

    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + V1.split("?>", 1)[1]
    with pytest.raises(BundleError):
        render_svg(evil)


# --- modeler fixtures ------------------------------------------------------------------------------


def test_camunda_modeler_file_renders_pools_boundary_timer_message_flows_and_annotation():
    root = svg_root(render_svg(CAMUNDA, "Process_Supplier"))
    drawn = groups(root)
    assert {"Participant_Customer", "Participant_Supplier", "Task_send_order", "Event_order_received"} <= set(drawn)
    assert {"boundaryEvent", "event", "intermediate"} <= classes(drawn["Event_check_overdue"])
    assert drawn["Event_check_overdue"].find("svg:circle[@class='shape']", NS) is not None
    assert drawn["Event_check_overdue"].find("svg:g[@class='glyph']", NS) is not None  # the clock
    for flow_id in ("Flow_order_message", "Flow_confirmation_message"):
        assert {"messageFlow", "dashed"} <= classes(drawn[flow_id])
        line = drawn[flow_id].find("svg:path[@class='flow-line']", NS)
        assert line.get("marker-start") == "url(#tf-message-start)"
    assert "订单order" in shown_text(drawn["Flow_order_message"])
    assert shown_text(drawn["TextAnnotation_sla"]) == "48小时内确认Confirmwithin48h"
    assert "dotted" in classes(drawn["Association_sla"])
    assert "collapsed" in classes(drawn["SubProcess_prepare"])
    assert drawn["SubProcess_prepare"].find(".//svg:g[@class='glyph marker-collapsed']", NS) is not None
    assert "Task_pack" not in drawn  # lives on the sub-process's own drill-down plane
    assert drawn["Gateway_in_stock"].find(".//svg:g[@class='glyph']", NS) is not None  # the X
    assert {"endEvent", "event"} <= classes(drawn["Event_rejected"])
    # Boundary events are drawn after (on top of) the task they are attached to.
    order = [g.get("id") for g in root.iter(f"{{{SVG}}}g") if g.get("id")]
    assert order.index("el-Event_check_overdue") > order.index("el-Task_check_stock")


def test_plane_choice_follows_the_process():
    assert "Participant_Supplier" in groups(svg_root(render_svg(CAMUNDA)))  # first plane
    assert "Participant_Customer" in groups(svg_root(render_svg(CAMUNDA, "Process_Customer")))
    other = (
        '<bpmn:process id="other" isExecutable="false"><bpmn:task id="other_task" name="Other" />'
        '</bpmn:process><bpmndi:BPMNDiagram id="D_other"><bpmndi:BPMNPlane id="P_other" bpmnElement="other">'
        '<bpmndi:BPMNShape id="other_task_di" bpmnElement="other_task"><dc:Bounds x="0" y="0" width="100" '
        'height="80" /></bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram>'
    )
    two = V1.replace('<bpmn:process id="purchase_request"', other + '<bpmn:process id="purchase_request"', 1)
    assert set(groups(svg_root(render_svg(two)))) == {"other_task"}
    own = groups(svg_root(render_svg(two, "purchase_request")))
    assert "submit" in own and "other_task" not in own
    with pytest.raises(DiagramError, match="no process"):
        render_svg(CAMUNDA, "missing")
    with pytest.raises(DiagramError, match="no diagram"):
        render_svg((ROOT / "tests" / "fixtures" / "rework_loop.bpmn").read_text(encoding="utf-8"))


def test_bpmn_io_file_renders_data_groups_expanded_subprocess_and_event_kinds():
    drawn = groups(svg_root(render_svg(BPMNIO)))
    assert "expanded" in classes(drawn["SubProcess_investigate"])
    assert {"Event_sub_start", "Task_collect", "Flow_sub_1"} <= set(drawn)  # content of the open sub-process
    assert drawn["Task_collect"].find(".//svg:g[@class='glyph marker-parallel']", NS) is not None
    assert drawn["Task_assess"].find(".//svg:g[@class='glyph marker-loop']", NS) is not None
    assert "non-interrupting" in classes(drawn["Event_more_info"])
    assert "data" in classes(drawn["DataObjectReference_record"]) and "data" in classes(drawn["DataStoreReference_crm"])
    assert shown_text(drawn["Group_investigation"]) == "调查阶段Investigation"
    assert "dotted" in classes(drawn["DataOutputAssociation_record"])
    assert {"eventBasedGateway", "inclusiveGateway"} <= {c for g in drawn.values() for c in classes(g)}
    assert "callActivity" in classes(drawn["Activity_close"])


# --- version diffs ---------------------------------------------------------------------------------

EXPECTED_DIFF = {
    "submit": "changed",
    "review": "changed",
    "end": "changed",
    "approve": "added",
    "f5": "added",
    "f6": "added",
    "archive": "removed",
    "f3": "removed",
    "f4": "removed",
}


def test_diff_elements_finds_added_removed_and_changed():
    assert diff_elements(V1, V2, "purchase_request") == EXPECTED_DIFF
    assert diff_elements(V1, V1, "purchase_request") == {}
    assert diff_elements(CHANGE_CONTROL, CHANGE_CONTROL, "change_control") == {}


def test_moving_shapes_is_not_a_change():
    moved = V1.replace('<dc:Bounds x="240" y="80"', '<dc:Bounds x="260" y="90"')
    assert moved != V1
    assert diff_elements(V1, moved, "purchase_request") == {}


@pytest.mark.parametrize(
    "edits, changed",
    [
        (
            [
                (
                    '<spiffworkflow:property name="dueInDays" value="3" />',
                    '<spiffworkflow:property name="dueInDays" value="5" />',
                )
            ],
            "review",
        ),
        ([("请填写采购内容。", "请填写采购内容和预算。")], "submit"),
        ([("archived = True", "archived = False")], "archive"),
        ([('name="已审核 reviewed"', 'name="已审核"')], "f3"),
        (
            [
                (
                    'targetRef="archive" />',
                    'targetRef="archive"><bpmn:conditionExpression>ok</bpmn:conditionExpression></bpmn:sequenceFlow>',
                )
            ],
            "f3",
        ),
        (
            [
                ('<bpmn:userTask id="review"', '<bpmn:manualTask id="review"'),
                ("</bpmn:userTask>\n    <bpmn:scriptTask", "</bpmn:manualTask>\n    <bpmn:scriptTask"),
            ],
            "review",
        ),
    ],
)
def test_definition_changes_are_changes(edits, changed):
    edited = V1
    for old, new in edits:
        assert old in edited
        edited = edited.replace(old, new)
    assert diff_elements(V1, edited, "purchase_request") == {changed: "changed"}


def test_diagram_elements_describe_the_flow_elements():
    elements = diagram_elements(CHANGE_CONTROL, "change_control")
    assert set(elements) == (
        {el.get("id") for el in flow_nodes(CHANGE_CONTROL, "change_control")}
        | {f.get("id") for f in model(CHANGE_CONTROL).iterfind(".//bpmn:sequenceFlow", NS)}
    )
    classify = elements["classify_change"]
    assert isinstance(classify, ElementInfo)
    assert (classify.type, classify.name, classify.lane) == ("businessRuleTask", "变更分类", "QA")
    assert classify.incoming == ("Flow_impact_to_classify",) and classify.outgoing == ("Flow_classify_to_is_major",)
    assert ("name_en", "Classify change") in classify.properties
    assert elements["Flow_major"].condition == 'classification == "major"'
    assert (elements["Flow_major"].source, elements["Flow_major"].target) == ("is_major", "split_reviews")
    assert elements["reset_review_outcomes"].scripts[0][0] == "script"
    assert elements["submit_request"].instructions.startswith("### 提交变更申请")
    with pytest.raises(FrozenInstanceError):
        classify.name = "x"
    assert set(diagram_elements(V1)) == {"start", "submit", "review", "archive", "end", "f1", "f2", "f3", "f4"}


def test_render_diff_svg_colours_changes_and_ghosts_removed_elements_from_the_old_di():
    svg = render_diff_svg(V1, V2, "purchase_request")
    root = svg_root(svg)
    assert marked(root, "diff-") == {key: f"diff-{value}" for key, value in EXPECTED_DIFF.items()}
    archive = groups(root)["archive"]
    rect = archive.find("svg:rect[@class='shape']", NS)
    assert (rect.get("x"), rect.get("y")) == ("580", "80")  # where v1 placed it
    assert "归档Archive" in shown_text(archive) and "scriptTask" in classes(archive)
    assert "已审核reviewed" in shown_text(groups(root)["f3"])
    line = groups(root)["f4"].find("svg:path[@class='flow-line']", NS)
    assert re.match(r"M 680 120 L 742 120", line.get("d"))
    left, top, right, bottom = view_box(root)
    assert left <= 580 and right >= 778 and top <= 80 and bottom >= 300
