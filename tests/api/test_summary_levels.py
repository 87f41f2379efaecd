"""The summary by organisation one level at a time, the whole summary paged, and the scorecard
paged: each level's counts equal what the whole-tree summary says of the same units (computed
apart from the level's code: sums of the whole summary's own counts over each subtree), as of today
(from the maintained tallies) and as of a past day (counted); a transition shows in the very next
level; pages walk every row once with the exact total; ranks do not depend on the page; scope and
bad input answer problem+json; and a fixed number of statements whatever the size."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import bearer_headers
from tests.helpers import assert_problem, counting, descendants, row_counts
from tracker.models import Membership, Organization, User
from tracker.services import reports, tallies

SUMMARY = "/api/v1/reports/summary"
SCORECARD = "/api/v1/reports/scorecard"
CLASSES = ("completed_on_time", "completed_late", "in_progress_on_time", "overdue", "no_deadline")
PAST = dt.date(2026, 6, 30)
TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK")


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()  # the app's TRACKER_TIMEZONE


def done(on: dt.date) -> dict:
    return {"status": "completed", "completed_on": on, "submitted_on": on, "progress": 100}


@pytest.fixture
def commune(session, make_assignment):
    """Under the commune DB-LUONGBANG: its party committee (with a cell under it) and its people's
    committee, each holding work of every class as of today and as of PAST; and a leader of the
    people's committee."""
    parent = session.scalar(select(Organization).where(Organization.code == "DB-LUONGBANG"))
    party = Organization(code="LB-DU", name="Đảng ủy xã thử", kind="party_committee", parent=parent, search_key="lb-du")
    cell = Organization(code="LB-CB", name="Chi bộ thôn thử", kind="party_cell", parent=party, search_key="lb-cb")
    people = Organization(code="LB-UB", name="Ủy ban nhân dân xã thử", kind="peoples_committee", parent=parent, search_key="lb-ub")
    leader = User(username="test.levels.ub", password_hash="x", full_name="Lãnh đạo xã thử", search_key="")
    session.add_all([party, cell, people, leader, Membership(user=leader, organization=people, role="leader")])
    session.commit()
    now, d = today(), dt.timedelta
    made = {}
    for code in ("LB-DU", "LB-CB", "LB-UB", "DB-LUONGBANG"):
        made[code] = [
            make_assignment(code, now - d(40), **done(now - d(45))),                 # on time
            make_assignment(code, now - d(60), **done(now - d(2))),                  # late
            make_assignment(code, now - d(10), status="in_progress"),                # overdue
            make_assignment(code, now + d(3), status="submitted", submitted_on=now),  # due soon
            make_assignment(code, now + d(90)),                                      # in progress
            make_assignment(code, None),                                             # no deadline
            make_assignment(code, now + d(5), status="cancelled"),                   # not counted
        ]
    return {"id": parent.id, "party": party.id, "cell": cell.id, "people": people.id, "leader": leader.id, "assignments": made}


def get(client, headers, url: str, **query):
    response = client.get(url, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def level(client, headers, **query) -> dict:
    return get(client, headers, SUMMARY, by="organization", **query).get_json()


def whole(client, headers, **query) -> dict:
    return get(client, headers, SUMMARY, by="organization", **query).get_json()


def expected_rows(body: dict, parents: dict[int, int | None]) -> dict[int, dict]:
    """From the whole-tree summary, apart from the level's code: each unit's own counts, its
    subtree's (the sum of the own counts of the rows in its subtree) and its due-soon count."""
    own = {row["key"]["organization_id"]: row["own"] for row in body["rows"]}
    by_id = {row["key"]["organization_id"]: row for row in body["rows"]}
    expected = {}
    for org_id in parents:
        below = descendants(parents, org_id)
        expected[org_id] = {
            "own": own.get(org_id, dict.fromkeys(CLASSES, 0)),
            "counts": {c: sum(own[o][c] for o in below if o in own) for c in CLASSES},
            "due_soon": by_id[org_id]["due_soon"] if org_id in by_id else 0,
        }
    return expected


@pytest.fixture
def sign_in(app):
    """Bearer headers for a user made by a test."""

    def headers(user_id: int) -> dict[str, str]:
        with app.app_context():
            return bearer_headers(user_id)

    return headers


@pytest.fixture
def spy(monkeypatch):
    """The calls of tallies.class_counts and what each answered."""
    calls = []
    original = tallies.class_counts

    def class_counts(node_ids, as_of):
        answer = original(node_ids, as_of)
        calls.append((sorted(node_ids), as_of, answer is not None))
        return answer

    monkeypatch.setattr(tallies, "class_counts", class_counts)
    return calls


# --- one level equals the whole tree -----------------------------------------------------------


@pytest.mark.parametrize("when", ["today", "past"])
@pytest.mark.parametrize("parent_code", ["HU-KD", "DB-LUONGBANG", "LB-DU"])
def test_a_level_equals_the_sums_of_the_whole_summary(client, auth, session, commune, spy, when, parent_code):
    as_of = today() if when == "today" else PAST
    admin = auth("admin")
    parents = dict(session.execute(select(Organization.id, Organization.parent_id)).all())
    codes = dict(session.execute(select(Organization.id, Organization.code)).all())
    parent_id = next(o for o, code in codes.items() if code == parent_code)
    expected = expected_rows(whole(client, admin, as_of=as_of.isoformat()), parents)
    spy.clear()

    body = level(client, admin, parent_id=parent_id, as_of=as_of.isoformat())
    # From the tallies as of today (no filter, no reorganisation); counted as of a past day.
    assert [answered for _, _, answered in spy] == ([True] if when == "today" else [])
    children = {o for o, p in parents.items() if p == parent_id}
    assert [row["key"]["organization_id"] for row in body["rows"]] == sorted(children, key=codes.get)
    assert body["level"] == "children" and body["as_of"] == as_of.isoformat()
    for row in body["rows"]:
        org_id = row["key"]["organization_id"]
        assert row["key"] == {"organization_id": org_id, "organization_code": codes[org_id], "parent_id": parent_id}
        assert row["counts"] == expected[org_id]["counts"], codes[org_id]
        assert row["own"] == expected[org_id]["own"], codes[org_id]
        assert row["due_soon"] == expected[org_id]["due_soon"], codes[org_id]
        assert row["total"] == sum(row["counts"].values())
        assert row["has_children"] == any(p == org_id for p in parents.values())
    parent = body["parent"]
    assert parent["key"]["organization_id"] == parent_id and parent["key"]["parent_id"] == parents[parent_id]
    assert parent["counts"] == expected[parent_id]["counts"] == body["totals"]["counts"]
    assert parent["own"] == expected[parent_id]["own"]
    assert parent["due_soon"] == expected[parent_id]["due_soon"] == body["totals"]["due_soon"]
    if parent_code == "LB-DU":  # six live assignments in each of its two units
        assert parent["total"] == 12 and sum(parent["own"].values()) == 6
        assert parent["due_soon"] == (2 if when == "today" else 0)


def test_the_top_of_each_scope(client, auth, session, commune, sign_in):
    parents = dict(session.execute(select(Organization.id, Organization.parent_id)).all())
    admin = level(client, auth("admin"), level="children")
    everything = whole(client, auth("admin"))
    assert [(r["key"]["organization_code"], r["key"]["parent_id"]) for r in admin["rows"]] == [("TU-HY", None)]
    assert admin["parent"] is None and admin["rows"][0]["counts"] == admin["totals"]["counts"] == everything["totals"]["counts"]
    # A leader's top is their unit; an officer's, their own unit (whose children they do not see).
    leader = sign_in(commune["leader"])
    top = level(client, leader, level="children")
    assert [r["key"]["organization_id"] for r in top["rows"]] == [commune["people"]]
    assert top["rows"][0]["key"]["parent_id"] == commune["id"] and top["totals"]["total"] == 6
    officer = level(client, auth("canbo.noivu"), level="children")
    assert [(r["key"]["organization_code"], r["has_children"]) for r in officer["rows"]] == [("PNV-KD", False)]
    assert officer["totals"]["counts"] == whole(client, auth("canbo.noivu"))["totals"]["counts"]
    ubnd = level(client, auth("lanhdao.ubnd"), level="children")
    assert [r["key"]["organization_code"] for r in ubnd["rows"]] == ["UBND-KD"]
    ubnd_id = ubnd["rows"][0]["key"]["organization_id"]
    assert ubnd["rows"][0]["counts"] == expected_rows(whole(client, auth("admin")), parents)[ubnd_id]["counts"]


def test_tallies_and_counting_give_the_same_level(client, auth, commune, org, monkeypatch, sign_in):
    """As of today, the level from the tallies equals the level counted from the assignments, with
    the subtrees' units listed or (over LISTED_HOLDERS_UP_TO) picked out of the whole scope."""
    queries = [(auth("admin"), {"parent_id": org["HU-KD"]}), (auth("admin"), {"parent_id": commune["id"]}),
               (auth("admin"), {"level": "children"}), (sign_in(commune["leader"]), {"level": "children"}),
               (auth("lanhdao.ubnd"), {"parent_id": org["UBND-KD"]})]
    tallied = [level(client, headers, **query) for headers, query in queries]
    monkeypatch.setattr(reports, "_tallies_answer", lambda *args: False)
    assert [level(client, headers, **query) for headers, query in queries] == tallied
    monkeypatch.setattr(reports, "LISTED_HOLDERS_UP_TO", 1)
    assert [level(client, headers, **query) for headers, query in queries] == tallied


def test_filters_count_from_the_assignments(client, auth, commune, spy):
    body = level(client, auth("admin"), parent_id=commune["id"], classification="overdue")
    assert spy == []
    assert {row["key"]["organization_id"]: row["total"] for row in body["rows"]} == {commune["party"]: 2, commune["people"]: 1}
    assert body["totals"]["counts"]["overdue"] == body["totals"]["total"] == body["parent"]["own"]["overdue"] + 3


def test_a_transition_shows_in_the_very_next_level(client, auth, commune, spy):
    admin = auth("admin")
    before = {row["key"]["organization_id"]: row for row in level(client, admin, parent_id=commune["id"])["rows"]}
    target = commune["assignments"]["LB-CB"][3]  # submitted, due in three days
    response = client.post(f"/api/v1/assignments/{target}/transitions", headers=admin, json={"to": "completed", "note": "Đồng ý"})
    assert response.status_code == 200, response.get_json()
    after = {row["key"]["organization_id"]: row for row in level(client, admin, parent_id=commune["id"])["rows"]}
    assert spy[-1][2] is True  # from the tallies, kept in the same transaction as the change
    party = commune["party"]
    assert after[party]["counts"]["completed_on_time"] == before[party]["counts"]["completed_on_time"] + 1
    assert after[party]["counts"]["in_progress_on_time"] == before[party]["counts"]["in_progress_on_time"] - 1
    assert after[party]["due_soon"] == before[party]["due_soon"] - 1
    assert after[party]["own"] == before[party]["own"]  # the cell's work, not the committee's own
    assert after[commune["people"]] == before[commune["people"]]


def test_after_a_merger_the_level_is_counted_and_still_adds_up(client, auth, session, commune, spy):
    response = client.post("/api/v1/organizations/reorganizations", headers=auth("admin"), json={
        "kind": "merge", "effective_on": today().isoformat(), "predecessor_ids": [commune["cell"]],
        "new_successor": {"code": "LB-CB2", "name": "Chi bộ hợp nhất thử", "kind": "party_cell", "parent_id": commune["party"]}})
    assert response.status_code == 201, response.get_json()
    spy.clear()
    admin = auth("admin")
    body = level(client, admin, parent_id=commune["party"])
    assert spy == []  # the tallies' scopes take in predecessors: counted instead
    rows = {row["key"]["organization_code"]: row for row in body["rows"]}
    assert set(rows) == {"LB-CB", "LB-CB2"}  # the closed cell keeps what it completed
    assert sum(rows["LB-CB"]["counts"].values()) == 2 and rows["LB-CB2"]["total"] == 4
    full = {row["key"]["organization_code"]: row for row in whole(client, admin)["rows"]}
    assert body["parent"]["counts"] == full["LB-DU"]["counts"]
    assert rows["LB-CB2"]["counts"] == full["LB-CB2"]["counts"]


# --- paging ------------------------------------------------------------------------------------


def walk(client, headers, url: str, page_size: int, **query) -> tuple[list[dict], list[dict]]:
    """Every page's rows in order, and the X-Pagination of each."""
    rows, metas, page = [], [], 1
    while True:
        response = get(client, headers, url, page=page, page_size=page_size, **query)
        meta = json.loads(response.headers["X-Pagination"])
        rows += response.get_json()["rows"]
        metas.append(meta)
        if "next_page" not in meta:
            return rows, metas
        assert 'rel="next"' in response.headers["Link"]
        page = meta["next_page"]


@pytest.mark.parametrize("username", ["admin", "lanhdao.ubnd"])
def test_the_paged_summary_walks_every_unit_once(client, auth, commune, username):
    headers = auth(username)
    everything = whole(client, headers)
    rows, metas = walk(client, headers, SUMMARY, 7, by="organization")
    assert rows == everything["rows"] and len({r["key"]["organization_id"] for r in rows}) == len(rows)
    assert {m["total"] for m in metas} == {len(everything["rows"])} and metas[-1]["page"] == len(metas)
    page = get(client, headers, SUMMARY, by="organization", page=2, page_size=7).get_json()
    assert page["totals"] == everything["totals"]  # the totals count everything, on every page
    groups, _ = walk(client, headers, SUMMARY, 2, by="group")
    assert groups == get(client, headers, SUMMARY, by="group").get_json()["rows"]
    assert "X-Pagination" not in get(client, headers, SUMMARY, by="organization").headers  # unpaged as before


@pytest.mark.parametrize("username", ["admin", "lanhdao.ubnd", "test.levels.ub"])
def test_summary_pages_from_the_tallies_equal_the_whole_counted(client, auth, commune, spy, sign_in, monkeypatch, username):
    """As of today without filters, a page of the flat summary reads the page's units from the
    tallies (never the whole tree), and holds the rows, totals and row count of the whole summary
    counted from the assignments; after a transition too."""
    headers = sign_in(commune["leader"]) if username == "test.levels.ub" else auth(username)

    def pages_and_whole():
        spy.clear()
        rows, metas = walk(client, headers, SUMMARY, 3, by="organization")
        answered = [answer for *_, answer in spy]
        page = get(client, headers, SUMMARY, by="organization", page=1, page_size=3).get_json()
        return rows, metas, answered, page["totals"], whole(client, headers)

    for _ in range(2):
        rows, metas, answered, totals, everything = pages_and_whole()
        assert answered and all(answered)  # every page from the tallies
        assert rows == everything["rows"] and totals == everything["totals"]
        assert {m["total"] for m in metas} == {len(everything["rows"])}
        # An overdue assignment completed today moves a class in the very next page.
        moved = commune["assignments"]["LB-UB"][2]
        admin = auth("admin")
        etag = client.get(f"/api/v1/assignments/{moved}", headers=admin).headers["ETag"]
        if client.get(f"/api/v1/assignments/{moved}", headers=admin).get_json()["status"] == "in_progress":
            for to in ("submitted", "completed"):
                response = client.post(f"/api/v1/assignments/{moved}/transitions", headers={**admin, "If-Match": etag},
                                       json={"to": to, "note": "Xong"})
                assert response.status_code == 200, response.get_json()
                etag = response.headers["ETag"]
    # The same pages counted from the assignments.
    monkeypatch.setattr(reports, "_tallies_answer", lambda *args: False)
    spy.clear()
    assert walk(client, headers, SUMMARY, 3, by="organization")[0] == rows and spy == []


def test_a_level_pages_too(client, auth, org):
    admin = auth("admin")
    everything = level(client, admin, parent_id=org["HU-KD"])
    rows, metas = walk(client, admin, SUMMARY, 3, by="organization", parent_id=org["HU-KD"])
    assert rows == everything["rows"] and metas[0]["total"] == len(rows)


@pytest.mark.parametrize("username", ["admin", "lanhdao.huyen", "canbo.noivu"])
def test_paged_scorecard_ranks_equal_the_whole_scorecards(client, auth, commune, username):
    headers = auth(username)
    for year, as_of in ((2026, None), (2025, "2025-12-31")):
        query = {"year": year, **({"as_of": as_of} if as_of else {})}
        everything = get(client, headers, SCORECARD, **query).get_json()
        rows, metas = walk(client, headers, SCORECARD, 4, **query)
        assert rows == everything["rows"]  # every field, the rank included, in the same order
        assert metas[0]["total"] == len(everything["rows"])
        last = get(client, headers, SCORECARD, page=metas[-1]["page"], page_size=4, **query).get_json()
        assert {k: v for k, v in last.items() if k != "rows"} == {k: v for k, v in everything.items() if k != "rows"}
    assert "X-Pagination" not in get(client, headers, SCORECARD, year=2026).headers


def test_exports_hold_every_row_whatever_the_page(client, auth):
    admin = auth("admin")
    for url, query in ((SCORECARD, {"year": 2026}), (SUMMARY, {"by": "organization"})):
        whole_file = client.get(url, headers=admin, query_string={**query, "format": "csv"}, buffered=True)
        paged_file = client.get(url, headers=admin, query_string={**query, "format": "csv", "page": 2, "page_size": 2}, buffered=True)
        assert paged_file.status_code == 200 and paged_file.data == whole_file.data
        assert "X-Pagination" not in paged_file.headers


# --- scope and bad input -----------------------------------------------------------------------


def test_a_level_outside_the_scope_is_404(client, auth, org, commune, sign_in):
    leader = sign_in(commune["leader"])
    for parent_id in (commune["id"], commune["party"], org["HU-KD"], org["PNV-KD"], 10**9):
        assert_problem(client.get(SUMMARY, headers=leader, query_string={"by": "organization", "parent_id": parent_id}),
                       404, "organization.not_found")
    own = level(client, leader, parent_id=commune["people"])
    assert own["rows"] == [] and own["parent"]["total"] == 6
    ubnd = auth("lanhdao.ubnd")
    for parent_id in (org["HU-KD"], org["MTTQ-KD"], org["TU-HY"]):
        assert_problem(client.get(SUMMARY, headers=ubnd, query_string={"by": "organization", "parent_id": parent_id}),
                       404, "organization.not_found")
    seen = level(client, ubnd, parent_id=org["UBND-KD"])
    assert {r["key"]["organization_code"] for r in seen["rows"]} >= {"PNV-KD", "CA-KD"}
    # An officer reads their own unit, none of its neighbours or parents.
    officer = auth("canbo.noivu")
    assert level(client, officer, parent_id=org["PNV-KD"])["rows"] == []
    for parent_id in (org["UBND-KD"], org["PVHKHTT-KD"]):
        assert_problem(client.get(SUMMARY, headers=officer, query_string={"by": "organization", "parent_id": parent_id}),
                       404, "organization.not_found")


def test_a_level_as_of_a_day_before_the_unit_existed_is_404(client, auth, session, org):
    late = Organization(code="LATE-UNIT", name="Đơn vị thành lập sau", kind="department", parent_id=org["UBND-KD"],
                        search_key="late-unit", valid_from=dt.date(2026, 1, 1))
    session.add(late)
    session.commit()
    admin = auth("admin")
    assert_problem(client.get(SUMMARY, headers=admin, query_string={"by": "organization", "parent_id": late.id, "as_of": "2025-12-31"}),
                   404, "organization.not_found")
    codes = [r["key"]["organization_code"] for r in level(client, admin, parent_id=org["UBND-KD"], as_of="2025-12-31")["rows"]]
    assert "LATE-UNIT" not in codes and "PNV-KD" in codes
    assert "LATE-UNIT" in [r["key"]["organization_code"] for r in level(client, admin, parent_id=org["UBND-KD"])["rows"]]


@pytest.mark.parametrize(("query", "field"), [
    ({"by": "group", "level": "children"}, "level"),
    ({"by": "plan", "parent_id": 3}, "parent_id"),
    ({"by": "organization", "level": "grandchildren"}, "level"),
    ({"by": "organization", "parent_id": 3, "organization_id": 3}, "organization_id"),
    ({"by": "organization", "level": "children", "format": "csv"}, "format"),
    ({"by": "organization", "parent_id": 3, "since_snapshot": 1}, "since_snapshot"),
    ({"by": "organization", "parent_id": 0}, "parent_id"),
    ({"by": "organization", "page": 0}, "page"),
    ({"by": "organization", "page_size": 201}, "page_size"),
    ({"by": "organization", "page_size": "x"}, "page_size"),
])
def test_bad_summary_parameters(client, auth, query, field):
    before = row_counts()
    body = assert_problem(client.get(SUMMARY, headers=auth("admin"), query_string=query), 422, "request.validation_failed")
    assert field in body["errors"]
    assert row_counts() == before


@pytest.mark.parametrize(("query", "field"), [({"year": 2026, "page": -1}, "page"), ({"year": 2026, "page_size": 0}, "page_size")])
def test_bad_scorecard_parameters(client, auth, query, field):
    body = assert_problem(client.get(SCORECARD, headers=auth("admin"), query_string=query), 422, "request.validation_failed")
    assert field in body["errors"]


def test_a_page_past_the_last_has_no_rows_as_in_the_lists(client, auth, org):
    admin = auth("admin")
    for url, query in ((SUMMARY, {"by": "organization"}), (SCORECARD, {"year": 2026}),
                       (SUMMARY, {"by": "organization", "parent_id": org["HU-KD"]})):
        first = get(client, admin, url, page=1, page_size=5, **query)
        meta = json.loads(first.headers["X-Pagination"])
        past = get(client, admin, url, page=meta["total_pages"] + 1, page_size=5, **query)
        assert past.get_json()["rows"] == []
        assert past.get_json().get("totals") == first.get_json().get("totals")  # the summary's count every row
        past_meta = json.loads(past.headers["X-Pagination"])
        assert (past_meta["total"], past_meta["total_pages"]) == (meta["total"], meta["total_pages"])
    # The paged lists answer the same way.
    listed = client.get("/api/v1/assignments", headers=admin, query_string={"page": 999})
    assert listed.status_code == 200 and listed.get_json() == []
    # A report with no rows has one, empty, page.
    empty = get(client, auth("canbo.noivu"), SCORECARD, year=2099, page=1)
    assert empty.get_json()["rows"] == [] and json.loads(empty.headers["X-Pagination"])["total"] == 0
    # A page number past any count (beyond the database's 64-bit integers) is an empty page with the total.
    everything = get(client, admin, SCORECARD, year=2026).get_json()["rows"]
    for year in (2026, 2013):
        far = get(client, admin, SCORECARD, year=year, page=355995508613380308992, page_size=4)
        assert far.get_json()["rows"] == []
        assert json.loads(far.headers["X-Pagination"])["total"] == (len(everything) if year == 2026 else 0)


# --- a fixed number of statements ----------------------------------------------------------------


def test_a_fixed_number_of_statements(app, client, auth, session, org, commune, make_assignment, sign_in):
    admin, leader = auth("admin"), sign_in(commune["leader"])
    requests = [
        ("level from the tallies", admin, SUMMARY, {"by": "organization", "parent_id": org["HU-KD"]}),
        ("level counted", admin, SUMMARY, {"by": "organization", "parent_id": org["HU-KD"], "as_of": PAST.isoformat()}),
        ("top, leader", leader, SUMMARY, {"by": "organization", "level": "children"}),
        ("summary page", admin, SUMMARY, {"by": "organization", "page": 2, "page_size": 3}),
        ("scorecard page", admin, SCORECARD, {"year": 2026, "page": 2, "page_size": 3}),
    ]

    def statements() -> dict[str, int]:
        counts = {}
        for label, headers, url, query in requests:
            with counting(app, ignore=TRANSACTION_CONTROL) as seen:
                assert client.get(url, headers=headers, query_string=query).status_code == 200
            counts[label] = len(seen)
        return counts

    before = statements()
    # Thirty more units, two levels deep, with work of their own.
    for n in range(10):
        unit = Organization(code=f"LVL-{n}", name=f"Đơn vị thêm {n}", kind="department", parent_id=org["UBND-KD"], search_key="")
        session.add(unit)
        session.flush()
        for m in range(2):
            session.add(Organization(code=f"LVL-{n}-{m}", name=f"Tổ {n}.{m}", kind="department", parent_id=unit.id, search_key=""))
    session.commit()
    for n in range(10):
        for code in (f"LVL-{n}", f"LVL-{n}-0", f"LVL-{n}-1"):
            make_assignment(code, today() + dt.timedelta(days=n))
    assert statements() == before
    assert before["level from the tallies"] <= 12 and before["level counted"] <= 10
