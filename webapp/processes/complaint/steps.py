"""The state changes of a complaint, one per service task of processes/complaint/complaint.bpmn, each
inside the transaction that drives the instance and audited (records.py holds the reads)."""

from datetime import timedelta

from sqlalchemy import select

from ...errors import Conflict, InvalidInput
from ...extensions import db
from ...models import Signature
from ...models._types import utcnow
from ...services import audit, notifications
from ...services.erp import trace
from ...services.erp.common import by_code
from ...services.uow import transaction
from . import checks, records
from .models import Complaint, ComplaintReport
from .records import MARKETS, REPORT_FORMS, UNITS, _as_date, _iso, _local, awareness_moment, deadline


def register(actor, instance, intake):
    """Create the complaint record from the intake; the markets from the lot's forward trace."""
    day = _as_date(intake.get("awareness_date"))
    if day is None:
        raise InvalidInput("the awareness date is missing", {"awareness_date": "required"})
    (product, number, serial), _udi = checks.device_from(intake)
    intake = {**intake, "product": product, "lot": number, "serial": serial}
    material = by_code("material", product)
    found = trace.trace(material.code, number, "forward").as_dict()
    markets = sorted({records.market_of(row["customer"]) for row in found["shipments"]})
    shipped = sum(
        row["quantity"] for row in found["shipments"] if (row["material"], row["lot"]) == (material.code, intake["lot"])
    )
    with transaction() as session:
        complaint = Complaint(
            instance_id=instance.id,
            business_key=instance.business_key,
            channel=intake["channel"],
            received_by=actor.username,
            awareness_at=awareness_moment(day, intake.get("awareness_time")),
            customer_code=intake["customer"],
            material_code=material.code,
            lot_number=intake["lot"],
            serial=intake.get("serial") or "",
            udi=intake.get("udi") or "",
            description=intake["event_description"],
            patient_involved=bool(intake.get("patient_involved")),
            outcome=intake["outcome"],
            device_available=bool(intake.get("device_available")),
            attachment_ref=intake.get("attachment_ref") or "",
            related_complaint=intake.get("related_complaint") or "",
            markets=markets,
        )
        session.add(complaint)
        session.flush()
        audit.record(
            actor,
            "complaint.register",
            "complaint",
            complaint.business_key,
            after={"lot": f"{material.code}/{intake['lot']}", "outcome": complaint.outcome, "markets": markets},
        )
    return {
        "business_key": complaint.business_key,
        "material": material.code,
        "lot": complaint.lot_number,
        "markets": markets,
        "markets_text": ", ".join(markets) or "-",
        "awareness_at": _iso(complaint.awareness_at),
        "prefill": {
            "manufacturer": records.rules()["manufacturer"],
            "device": material.name,
            "udi_di": material.gtin or "",
            "lot": complaint.lot_number + (f" / {complaint.serial}" if complaint.serial else ""),
            "quantity_shipped": shipped,
        },
    }


def assess(actor, instance, assessment):
    """Record QA's initial assessment."""
    complaint = records.complaint_of(instance)
    with transaction():
        complaint.is_complaint = bool(assessment.get("is_complaint"))
        complaint.failure_code = str(assessment.get("failure_code") or "")
        complaint.assessment = dict(assessment)
        audit.record(actor, "complaint.assess", "complaint", complaint.business_key, after=dict(assessment))
    return {"is_complaint": complaint.is_complaint, "failure_code": complaint.failure_code}


def _report_item(report, complaint):
    """What one report task sees (its timers read the three instants)."""
    zh, en = UNITS[report.unit]
    return {
        "id": report.id,
        "market": report.market,
        "rule": report.rule,
        "report_form": report.report_form,
        "market_name_zh": MARKETS[report.market][0],
        "market_name_en": MARKETS[report.market][1],
        "report_form_name_zh": REPORT_FORMS[report.report_form][0],
        "report_form_name_en": REPORT_FORMS[report.report_form][1],
        "period_text_zh": f"{report.period} {zh}",
        "period_text_en": f"{report.period} {en}",
        "awareness_at_local": _local(complaint.awareness_at),
        "due_at": _iso(report.due_at),
        "due_at_local": _local(report.due_at),
        "due_date": report.due_at.astimezone(records._zone()).date().isoformat(),
        "escalate_50_at": _iso(report.escalate_50_at),
        "escalate_80_at": _iso(report.escalate_80_at),
    }


def plan_reports(actor, instance, decisions, revised=False):
    """One report per market the lot reached whose table requires it, unless the complaint already has
    a report of that market under that rule; the new reports' items (a re-assessment only adds)."""
    complaint = records.complaint_of(instance)
    existing = {(r.market, r.rule) for r in complaint.reports}
    added = []
    with transaction() as session:
        now = utcnow()
        for market in complaint.markets or []:
            decision = (decisions or {}).get(market) or {}
            if not decision.get("reportable") or (market, decision["rule"]) in existing:
                continue
            due = deadline(complaint.awareness_at, int(decision["period"]), decision["unit"])
            span = due - complaint.awareness_at
            report = ComplaintReport(
                complaint_id=complaint.id,
                market=market,
                rule=decision["rule"],
                report_form=decision["report_form"],
                period=int(decision["period"]),
                unit=decision["unit"],
                planned_at=now,
                due_at=due,
                escalate_50_at=complaint.awareness_at + span * 0.5,
                escalate_80_at=complaint.awareness_at + span * 0.8,
                content={},
            )
            session.add(report)
            session.flush()
            complaint.reports.append(report)
            added.append(report)
        complaint.reportable = complaint.reportable or bool(added)
        audit.record(
            actor,
            "complaint.plan_reports",
            "complaint",
            complaint.business_key,
            after={
                "revised": bool(revised),
                "decisions": decisions,
                "added": [{"market": r.market, "rule": r.rule, "due_at": _iso(r.due_at)} for r in added],
                "kept": sorted(f"{m} {r}" for m, r in existing),
            },
        )
    return [_report_item(r, complaint) for r in added]


def check_trend(actor, instance):
    """Complaints on the same product with the same failure code over the last 30 and 90 days against
    the thresholds of rules/complaint.json; crossed (a trend task opens) at most once per product and
    failure code in 30 days."""
    complaint = records.complaint_of(instance)
    limits = records.rules()["trend"]
    now = utcnow()
    peers = db.session.scalars(
        select(Complaint).where(
            Complaint.material_code == complaint.material_code,
            Complaint.failure_code == complaint.failure_code,
            Complaint.is_complaint.is_not(False),
            Complaint.awareness_at >= now - timedelta(days=90),
        )
    ).all()
    count_30 = sum(1 for c in peers if c.awareness_at >= now - timedelta(days=30))
    count_90 = len(peers)
    reached = count_30 >= limits["threshold_30"] or count_90 >= limits["threshold_90"]
    recent = any(
        (c.trend or {}).get("crossed") and c.id != complaint.id and c.created_at >= now - timedelta(days=30)
        for c in peers
    )
    result = {
        "material": complaint.material_code,
        "failure_code": complaint.failure_code,
        "count_30": count_30,
        "count_90": count_90,
        "threshold_30": limits["threshold_30"],
        "threshold_90": limits["threshold_90"],
        "complaints": sorted(c.business_key for c in peers),
        "crossed": bool(reached and not recent),
        "checked_at": _iso(now),
    }
    with transaction():
        complaint.trend = result
        audit.record(actor, "complaint.trend", "complaint", complaint.business_key, after=result)
    return result


def record_trend(actor, instance, assessment):
    """QA's assessment of the trend."""
    complaint = records.complaint_of(instance)
    with transaction():
        complaint.trend = {**(complaint.trend or {}), "assessment": dict(assessment), "assessed_by": actor.username}
        audit.record(actor, "complaint.trend_assessed", "complaint", complaint.business_key, after=dict(assessment))
    return dict(assessment)


def _report(report_id):
    report = db.session.get(ComplaintReport, report_id)
    if report is None:
        raise InvalidInput(f"no report {report_id}", {"report": "unknown"})
    return report


def open_report(actor, report_id):
    """The report task is open (once)."""
    report = _report(report_id)
    with transaction():
        report.started_at = report.started_at or utcnow()
    return {"report": report.id, "started_at": _iso(report.started_at)}


STAGES = {"50": "escalated_50_at", "80": "escalated_80_at", "overdue": "overdue_at"}


def escalate_report(actor, report_id, stage):
    """The 50% or 80% reminder, or the overdue mark, of one report: set once; the QA manager and
    Regulatory are told."""
    report = _report(report_id)
    column = STAGES[stage]
    if getattr(report, column) is not None:
        return {"report": report.id, "stage": stage, "at": _iso(getattr(report, column)), "repeated": True}
    key = report.complaint.business_key
    with transaction():
        setattr(report, column, utcnow())
        msg = notifications.message(
            "Regulator report %(key)s %(market)s %(rule)s: overdue"
            if stage == "overdue"
            else "Regulator report %(key)s %(market)s %(rule)s: %(stage)s%% of the deadline",
            "%(key)s: the %(market)s report (%(rule)s) is due %(due)s.",
            key=key,
            market=report.market,
            rule=report.rule,
            stage=str(stage),
            due=notifications.when(report.due_at),
        )
        users = notifications.recipients(role="qa_manager") + notifications.recipients(role="regulatory")
        notifications.queue(users, "escalated", *notifications.english(msg), message=msg)
        audit.record(
            actor,
            "complaint.report_overdue" if stage == "overdue" else "complaint.report_escalated",
            "complaint_report",
            report.id,
            after={"complaint": key, "market": report.market, "rule": report.rule, "stage": stage},
        )
    return {"report": report.id, "stage": stage, "at": _iso(getattr(report, column))}


def submit_report(actor, instance, report_id, submission):
    """Record the signed submission: report number, date, who; late (with the reason) after the deadline."""
    report = _report(report_id)
    if report.complaint.instance_id != instance.id:
        raise Conflict(f"report {report_id} belongs to another complaint")
    now = utcnow()
    with transaction():
        report.submitted_at, report.submitted_by = now, actor.username
        report.report_number = str(submission.get("report_number") or "")
        report.report_date = str(submission.get("report_date") or "")
        report.late = now > report.due_at
        report.lateness_reason = str(submission.get("lateness_reason") or "") if report.late else ""
        report.content = {
            **{k: v for k, v in submission.items() if k not in ("report_number", "report_date")},
            "signature": _signature_of(instance, actor),
        }
        audit.record(
            actor,
            "complaint.report_submitted",
            "complaint_report",
            report.id,
            after={
                "complaint": report.complaint.business_key,
                "market": report.market,
                "rule": report.rule,
                "report_number": report.report_number,
                "late": report.late,
                "lateness_reason": report.lateness_reason,
            },
        )
    return {"report": report.id, "market": report.market, "late": report.late, "submitted_at": _iso(now)}


REPORT_TASKS = ("regulator_reports_task", "added_reports_sub_task")


def _signature_of(instance, actor):
    """The signature `actor` just gave the report task (11.50: printed name, time, meaning, hash)."""
    signature = db.session.scalar(
        select(Signature)
        .where(
            Signature.instance_id == instance.id,
            Signature.signer_id == actor.id,
            Signature.bpmn_id.in_(REPORT_TASKS),
        )
        .order_by(Signature.id.desc())
        .limit(1)
    )
    if signature is None:
        return None
    return {
        "printed_name": signature.printed_name,
        "username": actor.username,
        "signed_at": _iso(signature.signed_at),
        "meaning": signature.meaning,
        "content_hash": signature.content_hash,
    }


def investigate(actor, instance, investigation):
    """Record the investigation (a revised outcome becomes the complaint's outcome)."""
    complaint = records.complaint_of(instance)
    with transaction():
        before = complaint.outcome
        complaint.investigation = dict(investigation)
        revised = investigation.get("revised_outcome")
        if revised and revised != "unchanged":
            complaint.outcome = revised
        audit.record(
            actor,
            "complaint.investigate",
            "complaint",
            complaint.business_key,
            before={"outcome": before},
            after={**investigation, "outcome": complaint.outcome},
        )
    return {
        "outcome": complaint.outcome,
        "open_capa": investigation.get("open_capa"),
        "open_recall": investigation.get("open_recall"),
    }


def respond(actor, instance, response):
    """Record the response to the customer."""
    complaint = records.complaint_of(instance)
    with transaction():
        complaint.response = {**response, "by": actor.username}
        audit.record(actor, "complaint.respond", "complaint", complaint.business_key, after=dict(response))
    return {"responded": True}


def close(actor, instance, reason):
    """Close the complaint (after the QA-signed closure, or as not a complaint)."""
    complaint = records.complaint_of(instance)
    with transaction():
        complaint.status = "closed" if complaint.is_complaint is not False else "not_a_complaint"
        complaint.closed_at, complaint.closed_by, complaint.closure_reason = utcnow(), actor.username, reason or ""
        audit.record(
            actor,
            "complaint.close",
            "complaint",
            complaint.business_key,
            after={"status": complaint.status, "reason": reason},
        )
    return {"status": complaint.status, "closed_at": _iso(complaint.closed_at)}
