"""Messages between instances: thrown into the outbox with the state, delivered to a waiting
instance or used to start a process, in their own transactions, audited."""
import pytest
from sqlalchemy import select

from engine import ProcessBundle
from webapp.extensions import db
from webapp.models import AuditEvent, OutboxMessage
from webapp.services import instances, queries, tasks
from webapp.services.messages import deliver_pending
from tests.conftest import ROOT
from tests.helpers import user


@pytest.fixture
def ctx(app):
    with app.app_context():
        from webapp.services.deployments import deploy_bundle
        deploy_bundle(ProcessBundle.from_paths(ROOT / "tests" / "fixtures" / "messages"))
        yield app


def _open(instance_id):
    return [r for r in queries.instance_tasks(instance_id) if r.completed_at is None]


def test_a_message_starts_a_process_and_its_answer_reaches_the_waiting_sender(ctx):
    complaint = instances.start_instance(user("qa"), "complaint", {"summary": "seal open"})
    [assess] = _open(complaint.id)
    tasks.complete_task(user("qa"), assess.task_id, {})
    capa = db.session.scalars(select(instances.ProcessInstance).where(instances.ProcessInstance.id != complaint.id)).one()
    assert capa.version.key == "capa_intake" and capa.initiator.username == "qa"
    assert [r.bpmn_id for r in _open(capa.id)] == ["investigate"]
    assert capa.data["request"] == {"source": "complaint", "summary": "seal open"}
    db.session.expire_all()
    assert [r.bpmn_id for r in _open(complaint.id)] == ["close"]
    assert instances.get_instance(complaint.id).data["capa"] == {"number": "CAPA for seal open"}
    sent = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.name, m.delivered_to) for m in sent] == [("open_capa", [capa.id]), ("capa_opened", [complaint.id])]
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions.count("message.delivered") == 2


def test_a_message_nobody_waits_for_stays_pending(ctx):
    from webapp.models import ProcessVersion
    for version in db.session.scalars(select(ProcessVersion).where(ProcessVersion.key == "capa_intake")):
        version.status = "rejected"
    db.session.commit()
    complaint = instances.start_instance(user("qa"), "complaint", {"summary": "x"})
    tasks.complete_task(user("qa"), _open(complaint.id)[0].task_id, {})
    [pending] = db.session.scalars(select(OutboxMessage)).all()
    assert pending.delivered_at is None and _open(complaint.id) == []
    assert deliver_pending() == []
