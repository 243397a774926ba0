"""The global audit trail page: newest first, "older events" pages go back in time without
overlap, and the filters are dropdowns of the actions and users that exist."""

import re

from tests.helpers import Browser
from webapp.services import audit_queries
from webapp.services.audit_queries import EventFilter, find_events


def _seqs(html):
    return [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", html)]


def test_newest_first_and_older_pages_go_back_in_time(app, monkeypatch):
    from webapp.audit_views import routes

    monkeypatch.setattr(routes, "PAGE_SIZE", 5)  # a page of 5 instead of 200: the same paging, fewer events
    qa = Browser(app, "qa")
    for _ in range(4):  # more events: logins and page views are audited where they change something
        Browser(app, "qa2")
    first = qa.get("/audit/").get_data(as_text=True)
    seqs = _seqs(first)
    assert len(seqs) == 5 and seqs == sorted(seqs, reverse=True)
    with app.app_context():
        newest = find_events(EventFilter(), newest_first=True, limit=1)[0].seq
    assert seqs[0] == newest
    link = re.search(r'href="([^"]+)" rel="next" id="older-events"', first).group(1).replace("&amp;", "&")
    second = qa.get(link).get_data(as_text=True)
    older = _seqs(second)
    assert older and max(older) < min(seqs) and older == sorted(older, reverse=True)
    assert 'rel="first"' in second


def test_filters_are_dropdowns_of_real_actions_and_users(app):
    qa = Browser(app, "qa")
    Browser(app, "qa2")
    page = qa.get("/audit/").get_data(as_text=True)
    with app.app_context():
        choices = audit_queries.filter_choices()
    assert choices["actions"] and "qa2" in choices["users"]
    for action in choices["actions"]:
        assert f"<option >{action}</option>" in page or f"<option>{action}</option>" in page
    assert "<option >qa2</option>" in page or "<option>qa2</option>" in page
    action = choices["actions"][0]
    group = action.split(".")[0] + "."
    exact = qa.get(f"/audit/?action={action}").get_data(as_text=True)
    assert f"<option selected>{action}</option>" in exact
    with app.app_context():
        exact_rows = find_events(EventFilter(action=action))
        grouped_rows = find_events(EventFilter(action=group))
    assert {e.action for e in exact_rows} == {action}
    assert {e.action for e in grouped_rows} >= {action} and all(e.action.startswith(group) for e in grouped_rows)
