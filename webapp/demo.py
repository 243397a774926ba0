"""Demo data for `make run`: one user per role, a few change requests in different states, the ERP
records of DOMAIN.md's demo scenario (webapp/demo_erp.py), its CAPA, recall, supplier and
subcontract instances (webapp/demo_processes.py) and controlled documents with training
(webapp/processes/document_control/demo.py)."""

from sqlalchemy import select

from .demo_erp import load_erp_demo
from .demo_processes import load_process_demo
from .extensions import db
from .models import User
from .processes.document_control.demo import load_demo as load_document_demo
from .services import instances, queries, tasks
from .services.users import create_user

DEMO_USERS = [
    ("requester", "ChangeAsk#2026", ["requester", "employee"], "张伟 Zhang Wei"),
    ("qa", "QualityAssur#2026", ["qa"], "李娜 Li Na"),
    ("qa2", "QualityAppr#2026", ["qa"], "周敏 Zhou Min"),
    ("qamanager", "QualityLead#2026", ["qa_manager"], "孙丽 Sun Li"),
    ("board", "ReviewPanel#2026", ["change_board"], "王强 Wang Qiang"),
    ("regulatory", "NmpaFiling#2026", ["regulatory"], "刘洋 Liu Yang"),
    ("admin", "SysKeeper#2026", ["admin", "process_owner"], "陈静 Chen Jing"),
    ("warehouse", "StockRoom#2026", ["warehouse", "production"], "赵磊 Zhao Lei"),
    ("sales", "OrderDesk#2026", ["sales"], "吴芳 Wu Fang"),
    ("purchasing", "BuyerDesk#2026", ["purchasing"], "郑洁 Zheng Jie"),
    ("production", "ShopFloor#2026", ["production"], "黄勇 Huang Yong"),
    ("mrb", "MatReview#2026", ["mrb"], "何军 He Jun"),
]

SAMPLE_REQUEST = {  # DOMAIN.md's scenario: after the seal complaints, a revised inspection plan (no filing)
    "title": "成品检验增加封口强度测试 Add a seal-strength test to the kit release inspection",
    "description": "在导管套件放行检验中增加包装封口强度测试(每批抽样),修订检验规程 QIP-CK-100。",
    "change_type": "document",
    "affected_products": [{"code": "CK-100", "name": "一次性使用无菌导管套件 Sterile catheter kit"}],
    "affected_documents": [{"doc_no": "QIP-CK-100", "title": "导管套件检验规程 Kit inspection plan", "revision": "D"}],
    "reason": "两起包装封口开裂投诉(CMP-2026-014)的纠正措施。",
    "proposed_effective_date": "2026-12-15",
}


def load_demo():
    """Create demo users and instances unless they exist; return (username, password, roles) rows."""
    for username, password, roles, name in DEMO_USERS:
        if db.session.scalar(select(User).where(User.username == username)) is None:
            create_user(username, password, roles, name)
    requester = db.session.scalar(select(User).where(User.username == "requester"))
    if not queries.recent_instances(limit=1, initiator_id=requester.id):
        instances.start_instance(requester, "change_control")
        submitted = instances.start_instance(requester, "change_control")
        first = queries.open_tasks(requester, process_instance_id=submitted.id)[0]
        tasks.complete_task(requester, first.task_id, SAMPLE_REQUEST)
    load_erp_demo()
    load_process_demo()
    load_document_demo({u: p for u, p, _, _ in DEMO_USERS})
    return [(u, p, r) for u, p, r, _ in DEMO_USERS]
