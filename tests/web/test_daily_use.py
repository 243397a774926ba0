"""Daily use of the task pages: segregation of duties is told before signing (task page and inbox,
naming who can sign) and a refusal stays on the page in the reader's language with what was typed;
after a completion the next task is offered."""

import re

import pytest

from tests.helpers import DATA_BY_TASK, PASSWORD, Browser, table_snapshot
from tests.web.test_web import form_fields, start_change, task_links


@pytest.fixture
def browsers(app):
    """One logged-in browser per username, made on first use."""
    cache = {}

    def get(username):
        if username not in cache:
            cache[username] = Browser(app, username)
        return cache[username]

    return get


APPROVAL = {"approval_decision": "approve", "approval_comments": "geprüft – typed before the refusal"}


def _to_qa_approval(app, browsers):
    task_id = start_change(browsers)
    browsers("requester").post(f"/tasks/{task_id}", form_fields(DATA_BY_TASK["submit_request"]))
    qa = browsers("qa")
    for step in ("impact_assessment", "qa_review"):
        [task] = task_links(qa.get("/").get_data(as_text=True))
        done = qa.post(f"/tasks/{task}", form_fields(DATA_BY_TASK[step]))
        assert done.status_code == 302, step
    [approval] = task_links(qa.get("/").get_data(as_text=True))
    return approval


def test_segregation_of_duties_is_told_before_and_refused_on_the_page(app, browsers):
    approval = _to_qa_approval(app, browsers)
    qa = browsers("qa")
    inbox = qa.get("/").get_data(as_text=True)
    assert "cannot-sign" in inbox and "您不能签署此步骤" in inbox
    assert "cannot-sign" not in browsers("qa2").get("/").get_data(as_text=True)
    page = qa.get(f"/tasks/{approval}").get_data(as_text=True)
    banner = re.search(r'<p class="flash error segregation" id="segregation"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert "职责分离" in banner and "qa2" in banner and "qa," not in banner
    with app.app_context():
        before = table_snapshot()
    refused = qa.post(
        f"/tasks/{approval}",
        {
            **form_fields(APPROVAL),
            "signature_password": PASSWORD,
            "signature_meaning": "approved",
            "signature_username": "qa",
        },
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 403, re.findall(r'class="(?:flash|error)[^"]*"[^>]*>([^<]*)', body)
    assert "职责分离" in body and "segregation of duties" not in body  # the reader's language, not the service's
    assert "typed before the refusal" in body  # what was typed is still in the form
    with app.app_context():
        after = table_snapshot()
    after.pop("audit_events"), before.pop("audit_events")  # the refusal itself is audited
    assert after == before
    english = qa.post("/locale", {"locale": "en", "next": f"/tasks/{approval}"})
    page = qa.get(english.headers["Location"]).get_data(as_text=True)
    assert "segregation of duties" in page and "It can be signed by: qa2." in page


def test_after_a_completion_the_next_task_is_offered(app, browsers):
    task_id = start_change(browsers)
    done = browsers("requester").post(f"/tasks/{task_id}", form_fields(DATA_BY_TASK["submit_request"]))
    assert done.status_code == 302 and done.headers["Location"].endswith("?done=1")
    second = start_change(browsers)  # another request waits in the requester's inbox
    page = browsers("requester").get(done.headers["Location"]).get_data(as_text=True)
    offer = re.search(r'id="next-task">(.*?)</p>', page, re.S).group(1)
    assert f'href="/tasks/{second}"' in offer and 'href="/"' in offer
    # The next step of the same record, when it is the same user's, is opened directly.
    qa = browsers("qa")
    [assessment] = task_links(qa.get("/").get_data(as_text=True))
    qa.post(f"/tasks/{assessment}/claim")
    moved = qa.post(f"/tasks/{assessment}", form_fields(DATA_BY_TASK["impact_assessment"]))
    assert moved.status_code == 302 and re.search(r"/tasks/[0-9a-f-]{36}$", moved.headers["Location"])
    assert "下一步" in qa.get(moved.headers["Location"]).get_data(as_text=True)


def test_a_start_creates_the_record_only_on_the_first_valid_submit(app, browsers):
    requester = browsers("requester")
    page = requester.get("/processes/change_control/new")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="start-form"' in body and "提交此表单时才创建记录" in body
    with app.app_context():
        before = table_snapshot()
    empty = requester.post("/processes/change_control/new", {})
    text = empty.get_data(as_text=True)
    assert empty.status_code == 400 and text.count('class="error"') >= 5  # every required field at once
    with app.app_context():
        after = table_snapshot()
    after.pop("audit_events"), before.pop("audit_events")
    assert after == before  # no instance, no task row, no business-key number spent
    done = requester.post("/processes/change_control/new", form_fields(DATA_BY_TASK["submit_request"]))
    assert done.status_code == 302 and "/instances/" in done.headers["Location"]
    with app.app_context():
        from webapp.services import queries

        [instance] = queries.recent_instances()
        assert (
            instance.business_key == "CC-2026-0001"
            and instance.data["title"] == DATA_BY_TASK["submit_request"]["title"]
        )
        rows = queries.instance_tasks(instance.id)
        assert rows[0].bpmn_id == "submit_request" and rows[0].completed_at is not None
    # A process whose first step is not the starter's form starts from a button, as before.
    capa = browsers("qa").get("/processes/capa/new").get_data(as_text=True)
    assert 'action="/processes/capa/start"' in capa and 'id="start-form"' not in capa
    assert browsers("qa").get("/processes/nothing/new").status_code == 404
    english = browsers("qa2")
    english.post("/locale", {"locale": "en", "next": "/"})
    assert "leaving the page creates nothing" in english.get("/processes/recall/new").get_data(as_text=True)


def test_the_instance_list_searches_filters_and_pages_beyond_fifty(app, browsers):
    from tests.helpers import user
    from webapp.services import instances

    with app.app_context():
        started = [instances.start_instance(user("requester"), "change_control") for _ in range(53)]
        capa = instances.start_instance(user("qa"), "capa")
        keys = [i.business_key for i in started]
        capa_key = capa.business_key
    qa = browsers("qa")
    first = qa.get("/instances").get_data(as_text=True)
    assert "54 条记录" in first and first.count('href="/instances/') == 50
    older = re.search(r'href="([^"]+)" rel="next" id="older-instances"', first).group(1).replace("&amp;", "&")
    rest = qa.get(older).get_data(as_text=True)
    assert rest.count('href="/instances/') == 4 and keys[0] in rest and keys[-1] not in rest
    only_capa = qa.get("/instances?process=capa").get_data(as_text=True)
    assert "1 条记录" in only_capa and capa_key in only_capa
    found = qa.get(f"/instances?q={keys[7].lower()}").get_data(as_text=True)
    assert "1 条记录" in found and keys[7] in found
    mine = qa.get("/instances?mine=1").get_data(as_text=True)
    assert "1 条记录" in mine and capa_key in mine
