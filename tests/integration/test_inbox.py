"""The inbox at scale: keyset pages that cover every open task once, counts, filters and search, in
the service, the API (a bounded JSON array plus paging headers) and the HTML page."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import Api, Browser, user
from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import NO_DUE_DATE, HumanTaskRow
from webapp.services import inbox, instances

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _instance(username="requester", key="change_control"):
    return instances.start_instance(user(username), key)


def _add_tasks(instance, n, role="qa", due=None, title="Review", assignee=None, completed=False):
    """Open task rows as workflow_state writes them (the listing reads nothing else)."""
    rows = []
    for i in range(n):
        due_at = due(i) if callable(due) else due
        rows.append(
            HumanTaskRow(
                instance_id=instance.id,
                task_id=str(uuid.uuid4()),
                bpmn_id="qa_review",
                title=f"{title} {i}",
                type="userTask",
                lane="QA",
                candidate_role=role,
                assignee_id=assignee.id if assignee else None,
                due_at=due_at,
                due_key=due_at or NO_DUE_DATE,
                process_key=instance.version.key,
                business_key=instance.business_key,
                created_at=NOW,
                completed_at=NOW if completed else None,
            )
        )
    db.session.add_all(rows)
    db.session.commit()
    return rows


def _walk(qa, query, limit):
    """Every page of the inbox; the rows' ids in order."""
    seen, cursor = [], None
    while True:
        found = inbox.page(qa, query, limit=limit, cursor=cursor, now=NOW)
        seen.extend(r.id for r in found.rows)
        if found.next_cursor is None:
            return seen, found.total
        cursor = found.next_cursor


def test_pages_cover_every_open_task_once_in_due_order(app):
    with app.app_context():
        cc = _instance()
        dated = _add_tasks(cc, 23, due=lambda i: NOW + timedelta(hours=(i * 7) % 23))
        undated = _add_tasks(cc, 5)
        mine = _add_tasks(cc, 4, assignee=user("qa"), due=lambda i: NOW + timedelta(hours=i))
        _add_tasks(cc, 6, completed=True)  # history: never listed, never counted
        _add_tasks(cc, 3, assignee=user("qa2"))  # claimed by someone else
        _add_tasks(cc, 3, role="warehouse")  # another role's queue
        qa = user("qa")
        ids, total = _walk(qa, inbox.InboxQuery(), limit=5)
        expected = sorted(dated + mine, key=lambda r: (r.due_at, r.id)) + sorted(undated, key=lambda r: r.id)
        assert ids == [r.id for r in expected]
        assert total == 32 and len(set(ids)) == 32
        first = inbox.page(qa, inbox.InboxQuery(), limit=5, now=NOW)
        assert first.counts == {"mine": 4, "qa": 28, "initiator": 0}
        newest, _ = _walk(qa, inbox.InboxQuery(sort="newest"), limit=7)
        assert newest == sorted(ids, reverse=True)
        oldest, _ = _walk(qa, inbox.InboxQuery(sort="oldest"), limit=7)
        assert oldest == sorted(ids)


def test_a_page_neither_skips_nor_repeats_when_tasks_close_or_arrive_between_pages(app):
    with app.app_context():
        cc = _instance()
        rows = _add_tasks(cc, 10, due=lambda i: NOW + timedelta(days=i))
        qa = user("qa")
        first = inbox.page(qa, inbox.InboxQuery(), limit=4, now=NOW)
        assert [r.id for r in first.rows] == [r.id for r in rows[:4]]
        rows[1].completed_at = NOW  # one on the page we saw closes, one arrives before it
        db.session.commit()
        early = _add_tasks(cc, 1, due=NOW - timedelta(days=1))
        second = inbox.page(qa, inbox.InboxQuery(), limit=4, cursor=first.next_cursor, now=NOW)
        assert [r.id for r in second.rows] == [r.id for r in rows[4:8]]
        assert second.total == 10  # 10 - 1 closed + 1 new
        assert early[0].id not in [r.id for r in second.rows]


def test_filters_and_search_narrow_rows_and_counts(app):
    with app.app_context():
        cc = _instance()
        capa = _instance("qa", "capa")
        qa = user("qa")

        def total(**kw):
            found = inbox.page(qa, inbox.InboxQuery(**kw), now=NOW)
            return found.total, len(found.rows)

        queries = [
            {},
            {"due": "overdue"},
            {"due": "soon"},
            {"process": "capa"},
            {"q": capa.business_key.lower()},
            {"q": "soon rev"},
            {"q": "100%_"},
            {"role": "warehouse"},
            {"mine": True},
        ]
        before = [total(**kw)[0] for kw in queries]  # what the two real instances hold already
        _add_tasks(cc, 3, due=NOW - timedelta(hours=2), title="Overdue review")
        _add_tasks(cc, 2, due=NOW + timedelta(hours=3), title="Soon review")
        _add_tasks(cc, 4, due=NOW + timedelta(days=5), title="Later review")
        _add_tasks(capa, 2, title="CAPA check")
        added = [total(**kw)[0] - b for kw, b in zip(queries, before, strict=True)]
        # all, overdue, due soon, one process, its business key (any case), part of a title (any
        # case), LIKE wildcards taken literally, a role qa does not hold, claimed by me
        assert added == [11, 3, 2, 2, 2, 2, 0, 0, 0]
        assert total(q="soon rev") == (2, 2)


def test_bad_paging_arguments_are_refused_by_name(app):
    with app.app_context():
        qa = user("qa")
        for kwargs, field in (
            ({"limit": 0}, "limit"),
            ({"limit": inbox.MAX_PAGE + 1}, "limit"),
            ({"cursor": "not-a-cursor"}, "cursor"),
        ):
            with pytest.raises(InvalidInput) as refused:
                inbox.page(qa, inbox.InboxQuery(), **kwargs)
            assert field in refused.value.errors
        with pytest.raises(InvalidInput) as refused:
            inbox.page(qa, inbox.InboxQuery(sort="sideways", due="someday"))
        assert set(refused.value.errors) == {"sort", "due"}


def test_api_answers_a_bounded_page_with_total_and_next_link(app):
    with app.app_context():
        cc = _instance()
        _add_tasks(cc, inbox.DEFAULT_PAGE + 7, due=lambda i: NOW + timedelta(minutes=i))
    qa = Api(app, "qa")
    first = qa.get("/api/v1/tasks")
    assert first.status_code == 200
    assert len(first.get_json()) == inbox.DEFAULT_PAGE  # bounded by default, still a JSON array
    total = int(first.headers["X-Total-Count"])
    assert total >= inbox.DEFAULT_PAGE + 7
    link = first.headers["Link"]
    assert link.startswith("</api/v1/tasks?") and link.endswith('>; rel="next"')
    second = qa.get(link[1 : link.index(">")])
    ids = [t["id"] for t in first.get_json()] + [t["id"] for t in second.get_json()]
    assert len(ids) == len(set(ids)) == total and "Link" not in second.headers
    small = qa.get("/api/v1/tasks?limit=3&q=" + "Review%201")
    assert [t["title"] for t in small.get_json()] == ["Review 1", "Review 10", "Review 11"]
    for bad in ("limit=0", "limit=201", "cursor=%%%", "due=someday", "sort=up"):
        refused = qa.get(f"/api/v1/tasks?{bad}")
        assert refused.status_code == 400, bad
        assert bad.split("=")[0] in refused.get_json()["errors"], refused.get_json()


def test_inbox_page_filters_in_the_url_and_pages(app):
    with app.app_context():
        cc = _instance()
        _add_tasks(cc, 55, due=lambda i: NOW + timedelta(days=1 + i))
        _add_tasks(cc, 2, due=NOW - timedelta(days=1), title="Late check")
    qa = Browser(app, "qa")
    page = qa.get("/").get_data(as_text=True)
    assert 'id="next-page"' in page and page.count('class="task-link"') == 50
    assert page.count('class="badge overdue"') >= 2
    nxt = page[page.index('href="/?cursor=') + 6 :].split('"')[0].replace("&amp;", "&")
    rest = qa.get(nxt).get_data(as_text=True)
    assert 'id="next-page"' not in rest and 'rel="first"' in rest
    late = qa.get("/?due=overdue&q=Late").get_data(as_text=True)
    assert late.count('class="task-link"') == 2 and 'value="Late"' in late
    assert '<option value="overdue" selected>' in late
    assert qa.get("/?cursor=garbage&sort=bogus").status_code == 200  # a stale URL shows the first page


def test_counting_stops_at_the_cap_and_says_so(app, monkeypatch):
    monkeypatch.setattr(inbox, "COUNT_CAP", 6)  # the cap is a constant; 10,000 rows would only be slower
    with app.app_context():
        cc = _instance()
        _add_tasks(cc, 9)
        found = inbox.page(user("qa"), inbox.InboxQuery(), limit=4)
        assert (found.total, found.capped) == (6, True)
        assert inbox.page(user("qa"), inbox.InboxQuery(), limit=4, cursor=found.next_cursor).rows
    qa = Api(app, "qa")
    answer = qa.get("/api/v1/tasks")
    assert answer.headers["X-Total-Count"] == "6" and answer.headers["X-Total-Count-Capped"] == "true"
    assert ">6+</span>" in Browser(app, "qa").get("/").get_data(as_text=True)
