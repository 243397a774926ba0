"""Process instances of DOMAIN.md's demo scenario, started and advanced through the same services as
the task inbox (so every step is validated, signed where needed and audited like a user's):

- CAPA from the two pouch-seal complaints, contained and waiting for the investigation (qa);
- the kit recall RC-… initiated by QA and waiting for the health hazard evaluation — completing
  it classifies the recall and scopes it by the forward trace (ready to be scoped);
- a recall drill (mock recall) of the BP monitor lot, scoped, its notices waiting for the
  customers' acknowledgements (sales);
- the sterilizer's re-qualification before its ISO 13485 certificate expires (purchasing);
- kit lots at the EO sterilizer: one waiting for the processing record (qa), one with residuals
  over the limit waiting for the MRB (mrb), one assembled and waiting for its order (production);
- a major change for a backup sterilizer, in board and regulatory review;
- the complaints (webapp/processes/complaint/demo.py): a serious injury with China and US report
  deadlines running, a malfunction with no harm, and open-seal complaints crossing the trend threshold.
Each part runs once: it is skipped when its process already has an instance."""

from datetime import timedelta

from sqlalchemy import func, select

from .extensions import db
from .models import ProcessInstance, ProcessVersion, User
from .models._types import utcnow
from .processes.complaint import demo as complaint_demo
from .services import instances, queries, tasks
from .services.erp import ledger, lots
from .services.erp.common import business_date, by_code

COMPLAINT = (
    "两家医院反馈同一批导管套件包装袋封口开裂 Two hospitals report open pouch seals on catheter kit lot K-26110."
)


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _started(process_key):
    return (
        db.session.scalar(
            select(func.count(ProcessInstance.id)).join(ProcessVersion).where(ProcessVersion.key == process_key)
        )
        > 0
    )


def _step(username, instance, bpmn_id, data):
    """Complete `instance`'s open task `bpmn_id` as `username`, as the inbox would."""
    user = _user(username)
    [row] = [t for t in queries.open_tasks(user, process_instance_id=instance.id) if t.bpmn_id == bpmn_id]
    return tasks.complete_task(user, row.task_id, data)


def load_process_demo():
    """Start and advance the demo instances of CAPA, recall, supplier and subcontract processes."""
    if not _started("capa"):
        _capa()
    if not _started("recall"):
        _recall()
        _recall_drill()
    if not _started("supplier_qualification"):
        _requalify_sterilizer()
    if not _started("subcontract_release"):
        _subcontract()
    _major_change()
    if not _started("complaint"):
        complaint_demo.load_demo()


def _capa():
    capa = instances.start_instance(_user("qa"), "capa")
    _step(
        "qa",
        capa,
        "capa_request",
        {
            "source": "complaint",
            "source_ref": "CMP-2026-014",
            "title": "导管套件包装封口开裂 Open pouch seals",
            "description": COMPLAINT,
            "severity": 4,
            "occurrence": 3,
        },
    )
    _step(
        "qa",
        capa,
        "containment",
        {
            "containment_actions": "暂停发货,隔离库存,通知两家医院 Stop shipments, segregate stock, inform both hospitals.",
            "hold_lots": False,
        },
    )


def _recall():
    qa = _user("qa")
    recall = instances.start_instance(qa, "recall")
    _step(
        "qa",
        recall,
        "rc_initiate",
        {
            "source": "capa",
            "source_ref": "CMP-2026-014",
            "title": "导管套件封口不良召回 Catheter kit seal recall",
            "description": "灭菌商缩短了预处理步骤,影响 K-26110 与 K-26111 两批。The sterilizer shortened "
            "pre-conditioning; kit lots K-26110 and K-26111 are affected.",
            "affected_lots": [{"lot": "CK-100/K-26110"}, {"lot": "CK-100/K-26111"}],
            "drill": False,
        },
    )


def _recall_drill():
    recall = instances.start_instance(_user("qa"), "recall")
    _step(
        "qa",
        recall,
        "rc_initiate",
        {
            "source": "regulator_notice",
            "source_ref": "DRILL-2026-Q4",
            "title": "模拟召回演练 Mock recall drill",
            "description": "季度模拟召回:电子血压计批次 B-2611。Quarterly mock recall of BP monitor lot B-2611.",
            "affected_lots": [{"lot": "BPM-200/B-2611"}],
            "drill": True,
        },
    )
    _step(
        "qa",
        recall,
        "rc_health_hazard",
        {
            "hazard_description": "演练:假设袖带压力读数偏高。Drill: cuff pressure assumed to read high.",
            "worst_outcome": "temporary_or_reversible",
            "probability": "remote",
            "affected_population": "家庭及门诊用户 Home and outpatient users",
            "hhe_summary": "演练,按二级处理 Drill, handled as class II.",
        },
    )


def _requalify_sterilizer():
    instance = instances.start_instance(_user("purchasing"), "supplier_qualification")
    _step(
        "purchasing",
        instance,
        "sq_request",
        {
            "supplier": "STERI-EO",
            "supply_category": "sterilization_service",
            "materials": [],
            "services": [{"service": "EO sterilization"}],
            "request_reason": "ISO 13485 证书 21 天后到期,提前重新确认资质 ISO 13485 certificate expires in 21 days.",
        },
    )


STERILIZATION_RECORD = {
    "certificate_number": "STC-26113",
    "cycle_number": "EO-0457",
    "processed_on": "2026-11-20",
    "preconditioning_time_min": 60,
    "preconditioning_temperature_c": 50,
    "preconditioning_humidity_pct": 45,
    "eo_concentration_mg_l": 600,
    "exposure_time_min": 240,
    "exposure_temperature_c": 50,
    "aeration_time_h": 24,
    "aeration_temperature_c": 45,
    "bi_result": "negative",
    "eo_residual_mg": 5.3,
    "ech_residual_mg": 2.0,
}


def _subcontract():
    """Kit lots sent to the EO sterilizer through the process (the only way back to release):
    K-26112 waits for the processing record (qa), K-26113's record shows EO residuals over the
    GB/T 16886.7 limit and waits for the MRB's disposition (mrb), K-26114 is assembled and its
    order is still to be filled in (production)."""
    _sterilize("K-26112")
    order = _sterilize("K-26113")
    _step("qa", order, "sr_processing_record", STERILIZATION_RECORD)
    _assemble("K-26114")
    instances.start_instance(_user("production"), "subcontract_release")


def _assemble(number):
    production = _user("production")
    lots.create_lot(
        production,
        by_code("material", "CK-100"),
        number,
        origin="production",
        manufactured_on=business_date(),
        origin_reference=f"MO-{number}",
    )
    ledger.record_movement(
        production,
        {
            "type": "output",
            "material": "CK-100",
            "lot": number,
            "quantity": 100,
            "to_location": "PROD-1",
            "reference": f"MO-{number}",
            "moved_at": utcnow() - timedelta(hours=2),
        },
    )


def _sterilize(number):
    _assemble(number)
    order = instances.start_instance(_user("production"), "subcontract_release")
    _step(
        "production",
        order,
        "sr_order",
        {
            "lot": f"CK-100/{number}",
            "quantity": 100,
            "subcontractor": "STERI-EO",
            "service": "EO sterilization",
            "from_location": "PROD-1",
            "subcontractor_location": "EO-STERI",
            "return_location": "WH-QUA",
            "subcontract_order_no": f"SC-{number}",
            "order_notes": "按 SOP-STE-004 灭菌 EO cycle per SOP-STE-004",
        },
    )
    return order


BACKUP_STERILIZER = {
    "title": "增加备用环氧乙烷灭菌商 Add a backup EO sterilizer",
    "description": "增加第二家委外灭菌商,需完成灭菌确认并办理注册变更备案。",
    "change_type": "supplier",
    "affected_products": [{"code": "CK-100", "name": "一次性使用无菌导管套件 Sterile catheter kit"}],
    "affected_documents": [{"doc_no": "SOP-STE-004", "title": "EO 灭菌作业指导书", "revision": "D"}],
    "reason": "单一灭菌商是召回的根本原因之一;需要备份能力。",
    "proposed_effective_date": "2027-03-01",
}
MAJOR_IMPACT = {
    "product_impact": True,
    "process_impact": True,
    "validation_required": True,
    "labelling_impact": False,
    "registration_impact": "filing",
    "risk_level": "medium",
    "impact_summary": "新灭菌商需灭菌确认,注册变更需备案 New site: validation and a filing.",
}


def _major_change():
    """A change for a backup sterilizer (filing required), waiting for board and regulatory review."""
    changes = db.session.scalars(
        select(ProcessInstance).join(ProcessVersion).where(ProcessVersion.key == "change_control")
    ).all()
    if any((c.data or {}).get("title") == BACKUP_STERILIZER["title"] for c in changes):
        return
    change = instances.start_instance(_user("requester"), "change_control")
    _step("requester", change, "submit_request", BACKUP_STERILIZER)
    _step("qa", change, "impact_assessment", MAJOR_IMPACT)
