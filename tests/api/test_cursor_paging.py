"""Keyset ("cursor") paging of the two big lists, /assignments and /reports/overdue: a walk by
cursor gives every row once, in the order of the page-number pages, for every sort (NULL due
dates and ties included); the total stays exact; a cursor page costs the statements of a
page-number page at any depth; bad cursors are refused with stable codes; and the caller's
scope holds whatever the cursor."""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import insert, select

from tests.api.test_assignment_listing import count, counting_statements, ids_where, queries
from tests.helpers import assert_problem, row_counts
from tracker.models import Action, Assignment, Organization
from tracker.services import tallies
from tracker.services.assignments import SORTS
from tracker.services.pagination import encode_cursor

API = "/api/v1/assignments"
OVERDUE = "/api/v1/reports/overdue"
AS_OF = "2026-11-24"


# --- helpers -------------------------------------------------------------------------------


def get_page(client, headers, url, **params):
    response = client.get(url, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    meta = json.loads(response.headers["X-Pagination"])
    # The next page's cursor, the same in the header and in X-Pagination (or in neither).
    assert response.headers.get("X-Next-Cursor") == meta.get("next_cursor")
    return response, response.get_json(), meta


def links(response) -> dict[str, str]:
    """rel -> URL of the Link header."""
    found = {}
    for part in response.headers.get("Link", "").split(","):
        if part.strip():
            url, rel = part.split(";")
            found[rel.strip().removeprefix('rel="').removesuffix('"')] = url.strip(" <>")
    return found


def walk_by_cursor(client, headers, url, *, page_size, **params):
    """Every item, following cursors from the first page (by number) to the end; the totals the
    pages announced, and the number of pages."""
    items, totals, pages = [], set(), 0
    _, batch, meta = get_page(client, headers, url, page_size=page_size, **params)
    while True:
        pages += 1
        items.extend(batch)
        totals.add(meta["total"])
        assert len(batch) <= page_size
        if "next_cursor" not in meta:
            return items, totals, pages
        assert len(batch) == page_size  # only the last page is short
        response, batch, meta = get_page(client, headers, url, page_size=page_size, cursor=meta["next_cursor"], **params)
        # A page read by cursor has no number, and says so; its total and last page are exact.
        assert "page" not in meta and "next_page" not in meta and "previous_page" not in meta
        assert meta["total_pages"] == meta["last_page"] == -(-meta["total"] // page_size)
        next_link = links(response).get("next")
        assert (next_link is None) == ("next_cursor" not in meta)
        if next_link:
            query = parse_qs(urlsplit(next_link).query)
            assert query["cursor"] == [meta["next_cursor"]] and "page" not in query


def walk_by_page(client, headers, url, *, page_size, **params):
    items, page = [], 1
    while True:
        _, batch, meta = get_page(client, headers, url, page=page, page_size=page_size, **params)
        items.extend(batch)
        if "next_page" not in meta:
            assert "next_cursor" not in meta
            return items, meta["total"]
        assert "next_cursor" in meta  # page-number pages give the cursor of the next page too
        page = meta["next_page"]


def add_tied_assignments(session, n: int) -> None:
    """`n` assignments in one bulk INSERT, made to tie: nine due dates (in 2025, so overdue as of
    AS_OF) and none for every fifth, three update times, a few organisations and actions."""
    actions = list(session.scalars(select(Action.id).order_by(Action.id)))[:5]
    orgs = list(session.scalars(select(Organization.id).order_by(Organization.id)))[:7]
    moments = [dt.datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=dt.UTC) + dt.timedelta(minutes=m) for m in range(3)]
    rows = []
    for i in range(n):
        due = None if i % 5 == 0 else dt.date(2025, 1, 1) + dt.timedelta(days=i % 9)
        rows.append({
            "action_id": actions[i % len(actions)], "organization_id": orgs[i % len(orgs)],
            "origin_organization_id": orgs[i % len(orgs)], "role": "lead", "cycle": 7000 + i, "due_date": due,
            "original_due_date": due, "status": "not_started", "progress": 0, "version": 1, "search_key": "",
            "created_at": moments[0], "updated_at": moments[i % 3],
        })
    session.execute(insert(Assignment), rows)
    tallies.rebuild()  # bulk SQL bypasses the session hook that keeps them
    session.commit()


def org_id(session, index: int) -> int:
    return list(session.scalars(select(Organization.id).order_by(Organization.id)))[index]


def statements_of(client, session, headers, url, **params) -> int:
    session.close()  # so that the request opens its own (savepoint) transaction, as every request does
    with counting_statements(session) as statements:
        response = client.get(url, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return len(queries(statements))


def tampered(cursor: str) -> str:
    """The cursor with one character of its JSON part changed."""
    index = len(cursor) // 4
    return cursor[:index] + ("A" if cursor[index] != "A" else "B") + cursor[index + 1:]


@pytest.fixture
def admin(auth):
    return auth("admin")


@pytest.fixture
def ties(session):
    add_tied_assignments(session, 600)


# --- walking -------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", list(SORTS))
def test_cursor_walk_matches_page_walk_for_every_sort(client, admin, session, ties, sort):
    by_page, total = walk_by_page(client, admin, API, page_size=200, sort=sort)
    by_cursor, totals, pages = walk_by_cursor(client, admin, API, page_size=37, sort=sort)
    ids = [i["id"] for i in by_cursor]
    assert ids == [i["id"] for i in by_page]  # the same rows, in the same order
    assert len(ids) == len(set(ids)) == total == count(session) and set(ids) == ids_where(session)
    assert totals == {total} and pages == -(-total // 37)
    assert any(i["due_date"] is None for i in by_cursor)


@pytest.mark.parametrize(("sort", "params"), [
    ("due_date", {"role": "lead", "q": "a"}),
    ("-due_date", {"role": "lead", "q": "a"}),
    ("organization", {"role": "lead", "q": "a"}),
    # Filters that keep only dated work: the keyset then needs no branch for undated rows.
    ("due_date", {"due_to": "2025-01-06"}),
    ("due_date", {"classification": "overdue", "as_of": AS_OF}),
])
def test_cursor_walk_with_a_filter(client, admin, session, ties, sort, params):
    by_page, total = walk_by_page(client, admin, API, page_size=50, sort=sort, **params)
    by_cursor, totals, _ = walk_by_cursor(client, admin, API, page_size=11, sort=sort, **params)
    assert [i["id"] for i in by_cursor] == [i["id"] for i in by_page] and totals == {total}
    assert total > 100


def test_overdue_cursor_walk_matches_page_walk(client, admin, session, ties):
    by_page, total = walk_by_page(client, admin, OVERDUE, page_size=200, as_of=AS_OF)
    by_cursor, totals, _ = walk_by_cursor(client, admin, OVERDUE, page_size=29, as_of=AS_OF)
    ids = [r["id"] for r in by_cursor]
    assert ids == [r["id"] for r in by_page] and len(ids) == len(set(ids)) == total
    assert totals == {total} and total > 480  # the 480 tied ones with a due date, and the plan's own
    assert [r["days_overdue"] for r in by_cursor] == sorted((r["days_overdue"] for r in by_cursor), reverse=True)
    # The same with a filter, and with the total from the tallies (as of today, not a past day).
    params = {"organization_id": org_id(session, 0)}
    by_page, total = walk_by_page(client, admin, OVERDUE, page_size=200, **params)
    by_cursor, totals, _ = walk_by_cursor(client, admin, OVERDUE, page_size=13, **params)
    assert [r["id"] for r in by_cursor] == [r["id"] for r in by_page] and totals == {total} and total


def test_links_and_headers_of_cursor_pages(client, admin, ties):
    first, _, meta = get_page(client, admin, API, role="lead", page_size=40)
    assert meta["page"] == 1 and meta["next_page"] == 2 and meta["next_cursor"]
    assert "cursor=" not in first.headers["Link"]  # page-number pages link by number, as before

    second, batch, meta2 = get_page(client, admin, API, role="lead", page_size=40, cursor=meta["next_cursor"])
    found = links(second)
    assert set(found) == {"first", "next", "last"}
    for rel in ("first", "last"):
        query = parse_qs(urlsplit(found[rel]).query)
        assert "cursor" not in query and query["role"] == ["lead"] and query["page_size"] == ["40"]
    assert parse_qs(urlsplit(found["last"]).query)["page"] == [str(meta2["last_page"])]
    # Following the links: the next one continues the walk, and is the page-number page 3.
    third = client.get(found["next"], headers=admin)
    by_number = client.get(API, query_string={"role": "lead", "page_size": 40, "page": 3}, headers=admin)
    assert third.status_code == by_number.status_code == 200
    assert [i["id"] for i in third.get_json()] == [i["id"] for i in by_number.get_json()]
    assert [i["id"] for i in batch] == [i["id"] for i in get_page(client, admin, API, role="lead", page_size=40, page=2)[1]]


def test_past_the_last_row_is_an_empty_page_with_the_total(client, admin, app, session):
    last_id = max(ids_where(session))
    with app.app_context():
        cursor = encode_cursor("id", (last_id,))
    _, batch, meta = get_page(client, admin, API, sort="id", cursor=cursor)
    assert batch == [] and meta["total"] == count(session) and "next_cursor" not in meta
    with app.app_context():
        cursor = encode_cursor("id", (last_id - 1,))
    _, batch, meta = get_page(client, admin, API, sort="id", cursor=cursor)
    assert [i["id"] for i in batch] == [last_id] and "next_cursor" not in meta


# --- statements ----------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["due_date", "-updated_at", "organization"])
def test_a_cursor_page_costs_what_a_page_number_page_costs_at_any_depth(client, admin, session, ties, sort):
    total = count(session)
    size = 50
    pages = -(-total // size)
    observed = {}
    for label, page in (("shallow", 2), ("middle", pages // 2), ("deep", pages - 1)):
        cursor = get_page(client, admin, API, sort=sort, page=page - 1, page_size=size)[2]["next_cursor"]
        observed[f"cursor {label}"] = statements_of(client, session, admin, API, sort=sort, cursor=cursor, page_size=size)
        observed[f"page {label}"] = statements_of(client, session, admin, API, sort=sort, page=page, page_size=size)
    if sort == "due_date":
        # The page that crosses from the last due dates into the undated work (one statement still).
        dated = count(session, Assignment.due_date.is_not(None))
        assert dated % size
        cursor = get_page(client, admin, API, sort=sort, page=dated // size, page_size=size)[2]["next_cursor"]
        _, batch, _ = get_page(client, admin, API, sort=sort, cursor=cursor, page_size=size)
        assert batch[0]["due_date"] is not None and batch[-1]["due_date"] is None
        observed["cursor crossing"] = statements_of(client, session, admin, API, sort=sort, cursor=cursor, page_size=size)
    assert min(observed.values()) > 0 and len(set(observed.values())) == 1, observed


def test_an_overdue_cursor_page_costs_what_a_page_number_page_costs(client, admin, session, ties):
    meta = get_page(client, admin, OVERDUE, as_of=AS_OF, page_size=20)[2]
    deep = get_page(client, admin, OVERDUE, as_of=AS_OF, page_size=20, page=meta["last_page"] - 1)[2]
    observed = {
        "page": statements_of(client, session, admin, OVERDUE, as_of=AS_OF, page_size=20, page=2),
        "cursor": statements_of(client, session, admin, OVERDUE, as_of=AS_OF, page_size=20, cursor=meta["next_cursor"]),
        "cursor, last page": statements_of(client, session, admin, OVERDUE, as_of=AS_OF, page_size=20, cursor=deep["next_cursor"]),
    }
    assert min(observed.values()) > 0 and len(set(observed.values())) == 1, observed


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [API, OVERDUE])
def test_cursor_with_page_is_refused(client, admin, url):
    cursor = get_page(client, admin, url, page_size=5, as_of=AS_OF)[2]["next_cursor"]
    for page in ("1", "2"):
        body = assert_problem(client.get(url, query_string={"cursor": cursor, "page": page, "as_of": AS_OF}, headers=admin),
                              400, "pagination.cursor_with_page")
        assert "cursor" in body["detail"] and "page" in body["detail"]


def forged(payload: dict, mac: bytes = b"\0" * 16) -> str:
    encode = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    return f"{encode(json.dumps(payload).encode())}.{encode(mac)}"


def test_bad_cursors_are_refused_and_change_nothing(client, admin, app, session):
    before = row_counts()
    good = get_page(client, admin, API, page_size=5)[2]["next_cursor"]
    by_id = get_page(client, admin, API, page_size=5, sort="id")[2]["next_cursor"]
    overdue = get_page(client, admin, OVERDUE, page_size=5, as_of=AS_OF)[2]["next_cursor"]
    cases = [
        (API, {}, ""), (API, {}, "abc"), (API, {}, "abc.def"), (API, {}, good + "x"), (API, {}, tampered(good)),
        (API, {}, good.split(".")[0] + "." + by_id.split(".")[1]),  # one cursor's data with another's signature
        (API, {}, forged({"s": "due_date", "k": ["2026-01-01", 5]})),  # unsigned
        (API, {}, "é" * 20 + "." + "x" * 22), (API, {}, good * 20),
        (API, {"sort": "id"}, good),  # made for another sort
        (API, {}, by_id),
        (API, {}, overdue), (OVERDUE, {"as_of": AS_OF}, good),  # made for another list
    ]
    for url, params, cursor in cases:
        response = client.get(url, query_string={**params, "cursor": cursor}, headers=admin)
        assert_problem(response, 400, "pagination.invalid_cursor")
    # Signed here, for the right sort, but not holding what the sort's keys hold: refused all the same.
    for sort, values in (("due_date", ("soon", 5)), ("due_date", ("2026-01-01", "5")), ("due_date", ("2026-01-01",)),
                         ("id", (None,)), ("id", (True,)), ("id", (2**40,)), ("-updated_at", ("2026-03-01T08:00:00", 5)),
                         ("organization", ("x" * 65, "2026-01-01", 5)), ("organization", ("PNV-KD", "2026-01-01", None))):
        with app.app_context():
            cursor = encode_cursor(sort, values)
        response = client.get(API, query_string={"sort": sort, "cursor": cursor}, headers=admin)
        assert_problem(response, 400, "pagination.invalid_cursor")
    assert row_counts() == before


# --- scope ---------------------------------------------------------------------------------


def test_an_officer_walking_by_cursor_sees_only_their_organisation(client, auth, admin, session, org, ties):
    officer = auth("canbo.vhkhtt")
    own = count(session, Assignment.organization_id == org["PVHKHTT-KD"])
    for sort in ("due_date", "organization", "-updated_at"):
        items, totals, _ = walk_by_cursor(client, officer, API, page_size=3, sort=sort)
        assert {i["organization"]["code"] for i in items} == {"PVHKHTT-KD"}
        assert totals == {own} == {len(items)}

    # A cursor taken from the admin's list only says where to start: the officer's page holds their own work.
    cursor = get_page(client, admin, API, page_size=5, sort="id")[2]["next_cursor"]
    _, batch, meta = get_page(client, officer, API, page_size=200, sort="id", cursor=cursor)
    assert batch and {i["organization"]["code"] for i in batch} == {"PVHKHTT-KD"} and meta["total"] == own

    rows, totals, _ = walk_by_cursor(client, officer, OVERDUE, page_size=2, as_of=AS_OF)
    assert rows and {r["organization"]["code"] for r in rows} == {"PVHKHTT-KD"}
    admin_rows, _ = walk_by_page(client, admin, OVERDUE, page_size=200, as_of=AS_OF, organization_id=org["PVHKHTT-KD"])
    assert [r["id"] for r in rows] == [r["id"] for r in admin_rows] and totals == {len(rows)}
