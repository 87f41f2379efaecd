"""Query parameters as a client sends them: multi-value filters (the parameter repeated, values
separated by commas, or both) on the lists and reports, their validation, the exact totals of
lists filtered that way (from the maintained tallies or counted), the scope kept through them,
and unknown parameters refused with 400 `request.unknown_parameter`."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from urllib.parse import urlencode

import marshmallow as ma
import pytest
from sqlalchemy import select

from tests.helpers import assert_problem
from tracker.domain.classification import classify
from tracker.models import Action, Assignment, Organization, Plan, TaskGroup, User
from tracker.schemas.assignment import AssignmentQuerySchema
from tracker.services import clock, tallies
from tracker.services.access import principal_of

API = "/api/v1/assignments"
OVERDUE = "/api/v1/reports/overdue"
FILTERS = ("status", "classification", "role", "organization_id", "owner_id", "group", "plan_id", "action_id")


# --- helpers -------------------------------------------------------------------------------------


def url(path: str, params: list[tuple[str, object]]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def walk(client, headers, path: str, params: list[tuple[str, object]]) -> set[int]:
    """The ids of every row of a paged list; its announced total is the number of rows."""
    ids: list[int] = []
    page, total = 1, None
    while True:
        response = client.get(url(path, [*params, ("page", page), ("page_size", 200)]), headers=headers)
        assert response.status_code == 200, response.get_json()
        meta = json.loads(response.headers["X-Pagination"])
        total = meta["total"] if total is None else total
        assert meta["total"] == total
        # Report rows carry the assignment's id as `id` (the /assignments shape) or `assignment_id` (flat).
        ids += [row["id"] if "id" in row else row["assignment_id"] for row in response.get_json()]
        if "next_page" not in meta:
            break
        page += 1
    assert len(ids) == total == len(set(ids)), (path, params)
    return set(ids)


def attributes(session, ids: set[int], as_of: dt.date) -> dict[int, dict[str, object]]:
    """What each filter looks at, read from the database apart from the app's filters."""
    rows = session.execute(
        select(Assignment.id, Assignment.status, Assignment.due_date, Assignment.completed_on, Assignment.role,
               Assignment.organization_id, Assignment.owner_id, Action.plan_id, TaskGroup.number, Assignment.action_id,
               Action.parent_id)
        .join(Action, Action.id == Assignment.action_id).outerjoin(TaskGroup, TaskGroup.id == Action.group_id)
        .where(Assignment.id.in_(sorted(ids))))
    found = {}
    for id_, status, due, completed_on, role, org_id, owner_id, plan_id, group, action_id, parent_id in rows:
        task_class = classify(status, due, completed_on, as_of)
        found[id_] = {"status": status, "classification": task_class.value if task_class else None, "role": role,
                      "organization_id": org_id, "owner_id": owner_id, "plan_id": plan_id, "group": group, "action_id": action_id,
                      "parent_action_id": parent_id}
    return found


def matches(row: dict, name: str, values: list) -> bool:
    """The filter's rule, written apart from the app's: an action's filter takes the actions split from it too."""
    return row[name] in values or (name == "action_id" and row["parent_action_id"] in values)


def common_values(found: dict[int, dict], name: str, n: int = 3) -> list:
    """The `n` most frequent values of a filter among the rows (ties by value), for a query to pick several of."""
    counts = Counter(row[name] for row in found.values() if row[name] is not None)
    return [value for value, _ in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]]


def forms(name: str, values: list) -> dict[str, list[tuple[str, object]]]:
    """The same choice written three ways; the mixed one repeats a value too."""
    head, *rest = values
    return {
        "repeated": [(name, v) for v in values],
        "comma": [(name, ",".join(str(v) for v in values))],
        "mixed": [(name, f"{head},{rest[0]}"), *[(name, v) for v in rest[1:]], (name, head)],
    }


@pytest.fixture
def work(session, make_assignment):
    """Work in several states, with owners, beside the plan's (all not started, unowned)."""
    users = dict(session.execute(select(User.username, User.id)).all())
    make_assignment("PNV-KD", dt.date(2026, 1, 10), status="in_progress", owner_id=users["canbo.noivu"])
    make_assignment("PNV-KD", None, status="submitted", owner_id=users["canbo.noivu"])
    make_assignment("CA-KD", dt.date(2026, 3, 1), status="completed", completed_on=dt.date(2026, 2, 1), owner_id=users["canbo.congan"])
    make_assignment("PVHKHTT-KD", dt.date(2026, 3, 1), status="completed", completed_on=dt.date(2026, 4, 1),
                    owner_id=users["canbo.vhkhtt"])
    make_assignment("PVHKHTT-KD", dt.date(2025, 6, 1), status="blocked", owner_id=users["canbo.vhkhtt"])
    make_assignment("BTGDV-KD", dt.date(2025, 6, 1), status="in_progress", owner_id=users["canbo.tuyengiao"])
    # Overdue work of the province's plan too (the district's plan holds the rest).
    plan = session.scalar(select(Plan).where(Plan.code == "386-KH/TU"))
    holder = session.scalar(select(Organization.id).where(Organization.code == "PTP-KD"))
    action = Action(plan=plan, ref="III.9.9", section="III", position=9000, text="Việc kiểm thử của kế hoạch tỉnh",
                    requires_evidence=False, search_key="viec kiem thu cua ke hoach tinh")
    session.add_all([action, Assignment(action=action, organization_id=holder, role="coordinating", cycle=0, due_date=dt.date(2025, 12, 1),
                                        original_due_date=dt.date(2025, 12, 1), status="in_progress", progress=10, search_key="",
                                        assigned_on=dt.date(2025, 2, 25))])
    session.commit()
    return users


# --- several values ------------------------------------------------------------------------------


def app_today(app) -> dt.date:
    """The app's today (in the plan's zone), as the lists take it when `as_of` is left out."""
    with app.app_context():
        return clock.today()


@pytest.mark.parametrize("who", ["admin", "lanhdao.ubnd"])
@pytest.mark.parametrize("path", [API, OVERDUE])
def test_repeated_comma_separated_and_mixed_values_select_the_union(app, client, auth, session, work, who, path):
    headers = auth(who)
    everything = walk(client, headers, path, [])
    found = attributes(session, everything, app_today(app))
    tried = []
    for name in FILTERS:
        if path == OVERDUE and name == "classification":
            continue  # the overdue list is one class
        values = common_values(found, name)
        if len(values) < 2:
            continue  # one value in the caller's scope: nothing to combine
        singles = [walk(client, headers, path, [(name, v)]) for v in values]
        union = set().union(*singles)
        assert union == {i for i, row in found.items() if matches(row, name, values)}, name
        assert len(union) > max(len(s) for s in singles), name  # not the first value alone
        for form, params in forms(name, values).items():
            assert walk(client, headers, path, params) == union, (name, form)
        tried.append(name)
    assert set(tried) == set(FILTERS) - ({"classification"} if path == OVERDUE else set()), tried


def test_a_summary_counts_the_union(client, auth, org, work):
    admin = auth("admin")

    def summary(params: list[tuple[str, object]]) -> dict:
        response = client.get(url("/api/v1/reports/summary", [("by", "organization"), *params]), headers=admin)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    whole = summary([])["totals"]["counts"]
    late_or_overdue = summary([("classification", "completed_late,overdue")])["totals"]
    assert late_or_overdue["total"] == whole["completed_late"] + whole["overdue"] > whole["overdue"]
    ubnd, hu = org["UBND-KD"], org["HU-KD"]
    pnv, ca = org["PNV-KD"], org["CA-KD"]
    both = summary([("organization_id", f"{pnv},{ca}")])
    assert {row["key"]["organization_id"] for row in both["rows"]} == {pnv, ca}
    assert both["totals"]["total"] == sum(summary([("organization_id", o)])["totals"]["total"] for o in (pnv, ca))
    # Subtrees: a unit inside another's adds nothing to the union, and the rows stop at the outermost.
    nested = summary([("organization_id", ubnd), ("organization_id", pnv), ("include_descendants", "true")])
    alone = summary([("organization_id", ubnd), ("include_descendants", "true")])
    assert nested["totals"] == alone["totals"] and nested["rows"] == alone["rows"]
    assert hu not in {row["key"]["organization_id"] for row in nested["rows"]}


def test_other_lists_take_several_values(client, auth, org):
    admin = auth("admin")

    def ids(path: str, params: list[tuple[str, object]], key: str = "id") -> set:
        response = client.get(url(path, [*params, ("page_size", 200)]), headers=admin)
        assert response.status_code == 200, response.get_json()
        assert json.loads(response.headers["X-Pagination"])["total"] == len(response.get_json())
        return {item[key] for item in response.get_json()}

    ptckh, ca, pnv, vhkhtt = org["PTCKH-KD"], org["CA-KD"], org["PNV-KD"], org["PVHKHTT-KD"]
    indicators = "/api/v1/indicators"
    assert ids(indicators, [("organization_id", f"{ptckh},{ca}")], "code") == {"CT-02", "CT-03", "CT-04", "CT-06", "CT-10", "CT-14"}
    assert ids(indicators, [("status", "achieved"), ("status", "no_data")], "code") == ids(indicators, [], "code")
    assert ids(indicators, [("status", "achieved,on_track")]) == set()
    users = "/api/v1/users"
    members = [ids(users, [("organization_id", o)], "username") for o in (pnv, ca, vhkhtt)]
    assert ids(users, [("organization_id", f"{pnv},{ca}"), ("organization_id", vhkhtt)], "username") == set().union(*members)
    assert all(members) and len(set().union(*members)) > max(len(m) for m in members)
    organizations = "/api/v1/organizations"
    children = [ids(organizations, [("parent_id", p)]) for p in (org["UBND-KD"], org["HU-KD"])]
    assert ids(organizations, [("parent_id", f"{org['UBND-KD']},{org['HU-KD']}")]) == children[0] | children[1]
    kinds = ids(organizations, [("kind", "department,armed_force")], "kind")
    assert kinds == {"department", "armed_force"}


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [API, OVERDUE, "/api/v1/reports/summary?by=plan"])
@pytest.mark.parametrize(("name", "value", "named"), [
    ("status", "completed,done", "done"),
    ("role", "lead&role=owner", "owner"),
    ("organization_id", "1,KD", "KD"),
    ("group", "1,0", "0"),
    ("plan_id", "1,99999999999", "99999999999"),
    ("owner_id", "-5", None),
    ("status", "", None),
    ("status", ",,", None),
])
def test_a_bad_value_among_several_names_the_field(client, auth, path, name, value, named):
    separator = "&" if "?" in path else "?"
    body = assert_problem(client.get(f"{path}{separator}{name}={value}", headers=auth("admin")), 422, "request.validation_failed")
    assert list(body["errors"]) == [name]
    if named:
        assert any(message.startswith(f"`{named}`: ") for message in body["errors"][name]), body["errors"]


@pytest.mark.parametrize(("name", "value"), [("status", "done"), ("organization_id", "KD"), ("group", "0")])
def test_one_bad_value_keeps_the_message_it_had(name, value):
    """As before several values were taken: the field's own message, not prefixed by the value."""
    field = AssignmentQuerySchema().fields[name]
    with pytest.raises(ma.ValidationError) as single:
        field.inner.deserialize(value)
    with pytest.raises(ma.ValidationError) as caught:
        AssignmentQuerySchema().load({name: [value]})
    assert caught.value.messages == {name: single.value.messages}


@pytest.mark.parametrize("path", [API, OVERDUE])
def test_at_most_a_hundred_values(client, auth, path):
    admin = auth("admin")
    hundred = ",".join(str(n) for n in range(1, 101))
    assert client.get(f"{path}?organization_id={hundred}", headers=admin).status_code == 200
    body = assert_problem(client.get(f"{path}?organization_id={hundred}&organization_id=101", headers=admin), 422,
                          "request.validation_failed")
    assert list(body["errors"]) == ["organization_id"] and "100" in body["errors"]["organization_id"][0]
    # Counted as sent: repeating a value does not get past the limit.
    body = assert_problem(client.get(f"{path}?status=" + ",".join(["completed"] * 101), headers=admin), 422, "request.validation_failed")
    assert list(body["errors"]) == ["status"]


def test_empty_items_and_repeats_are_harmless(client, auth, work):
    admin = auth("admin")
    completed = walk(client, admin, API, [("status", "completed")])
    assert completed
    for params in ([("status", "completed,")], [("status", ",completed,,")], [("status", " completed ")],
                   [("status", "completed,completed"), ("status", "completed")]):
        assert walk(client, admin, API, params) == completed, params


# --- scope ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [API, OVERDUE])
def test_an_officer_naming_other_agencies_gets_only_their_own(app, client, auth, session, org, work, path):
    officer = auth("canbo.vhkhtt")  # PVHKHTT-KD
    own, other = org["PVHKHTT-KD"], org["PNV-KD"]
    mine = walk(client, officer, path, [])
    assert mine and {row["organization_id"] for row in attributes(session, mine, app_today(app)).values()} == {own}
    for params in ([("organization_id", f"{own},{other}")], [("organization_id", other), ("organization_id", own)],
                   [("organization_id", f"{own},{org['UBND-KD']}"), ("include_descendants", "true")]):
        assert walk(client, officer, path, params) == mine, params
    assert walk(client, officer, path, [("organization_id", f"{other},{org['CA-KD']}")]) == set()
    assert walk(client, officer, path, [("organization_id", org["UBND-KD"]), ("include_descendants", "true")]) == mine
    summary = client.get(url("/api/v1/reports/summary", [("by", "organization"), ("organization_id", f"{own},{other}")]),
                         headers=officer).get_json()
    assert {row["key"]["organization_id"] for row in summary["rows"]} == {own}


@pytest.mark.parametrize("path", [API, OVERDUE])
def test_a_leader_naming_units_outside_the_scope_gets_only_those_inside(client, auth, session, org, work, path):
    leader = auth("lanhdao.ubnd")  # UBND-KD and its departments
    inside = [org["PNV-KD"], org["CA-KD"]]
    outside = [org["BTGDV-KD"], org["VPHU-KD"]]
    expected = walk(client, leader, path, [("organization_id", ",".join(map(str, inside)))])
    assert expected
    assert walk(client, leader, path, [("organization_id", ",".join(map(str, inside + outside)))]) == expected
    assert walk(client, leader, path, [("organization_id", ",".join(map(str, outside)))]) == set()
    assert walk(client, auth("admin"), path, [("organization_id", ",".join(map(str, outside)))])  # there is work there


# --- totals --------------------------------------------------------------------------------------


def count(session, org_ids: set[int] | None, as_of: dt.date, classes: set[str] | None, statuses: set[str] | None = None) -> int:
    rows = session.execute(select(Assignment.organization_id, Assignment.status, Assignment.due_date, Assignment.completed_on))
    total = 0
    for org_id, status, due, completed_on in rows:
        task_class = classify(status, due, completed_on, as_of)
        total += ((org_ids is None or org_id in org_ids) and (statuses is None or status in statuses)
                  and (classes is None or (task_class is not None and task_class.value in classes)))
    return total


def subtree(session, *roots: int) -> set[int]:
    parents = dict(session.execute(select(Organization.id, Organization.parent_id)).all())
    found, frontier = set(roots), set(roots)
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.parametrize("who", ["admin", "lanhdao.ubnd", "canbo.noivu"])
def test_totals_of_multi_value_lists_are_exact(app, client, auth, session, org, work, who):
    headers = auth(who)
    today = app_today(app)
    scope = {"admin": None, "lanhdao.ubnd": subtree(session, org["UBND-KD"]), "canbo.noivu": {org["PNV-KD"]}}[who]

    def within(ids: set[int] | None) -> set[int] | None:
        if scope is None:
            return ids
        return scope if ids is None else ids & scope

    cases = [
        ([("classification", "overdue,completed_late")], None, {"overdue", "completed_late"}, None),
        ([("classification", "no_deadline"), ("classification", "in_progress_on_time,completed_on_time")], None,
         {"no_deadline", "in_progress_on_time", "completed_on_time"}, None),
        ([("status", "completed,in_progress")], None, None, {"completed", "in_progress"}),
        ([("organization_id", f"{org['UBND-KD']},{org['PNV-KD']}"), ("include_descendants", "true")],
         subtree(session, org["UBND-KD"]), None, None),  # nested subtrees
        ([("organization_id", f"{org['PNV-KD']},{org['BTGDV-KD']}"), ("include_descendants", "true"), ("classification", "overdue")],
         {org["PNV-KD"], org["BTGDV-KD"]}, {"overdue"}, None),  # apart
    ]
    for params, org_ids, classes, statuses in cases:
        expected = count(session, within(org_ids), today, classes, statuses)
        response = client.get(url(API, [*params, ("page_size", 1)]), headers=headers)
        assert response.status_code == 200, response.get_json()
        assert json.loads(response.headers["X-Pagination"])["total"] == expected, (who, params)
        assert len(walk(client, headers, API, params)) == expected, (who, params)


def test_the_tallies_answer_several_classes_and_subtrees(app, session, org, work):
    """The totals above came from the tallies where they can answer: several classes (disjoint, summed),
    several subtrees (the outermost, summed); several statuses they leave to a COUNT."""
    today = app_today(app)
    with app.app_context():
        admin = principal_of(session.scalar(select(User).where(User.username == "admin")))
        leader = principal_of(session.scalar(select(User).where(User.username == "lanhdao.ubnd")))
        ubnd, pnv, btgdv = org["UBND-KD"], org["PNV-KD"], org["BTGDV-KD"]
        classes = ["overdue", "completed_late", "no_deadline"]
        assert tallies.total(admin, as_of=today, classification=classes) == count(session, None, today, set(classes))
        assert tallies.total(leader, as_of=today, classification=classes) == count(session, subtree(session, ubnd), today, set(classes))
        assert tallies.total(admin, as_of=today, organization_id=[ubnd, pnv], include_descendants=True) == count(
            session, subtree(session, ubnd), today, None)
        assert tallies.total(admin, as_of=today, organization_id=[pnv, btgdv], include_descendants=True, classification=["overdue"]) == count(
            session, {pnv, btgdv}, today, {"overdue"})
        assert tallies.total(leader, as_of=today, organization_id=[pnv, org["CA-KD"]], include_descendants=True) == count(
            session, {pnv, org["CA-KD"]}, today, None)
        # Outside the leader's scope, or filters the tallies do not hold: counted instead.
        assert tallies.total(leader, as_of=today, organization_id=[pnv, btgdv], include_descendants=True) is None
        assert tallies.total(admin, as_of=today, status=["completed", "in_progress"]) is None
        assert tallies.total(admin, as_of=today, organization_id=[pnv, btgdv]) is None


# --- unknown parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"{API}?updated_since=2026-01-01"),  # a list
    ("GET", f"{API}?status=completed&updated_since=2026-01-01"),
    ("GET", "/api/v1/assignments/{id}?updated_since=2026-01-01"),  # a detail
    ("GET", f"{OVERDUE}?updated_since=2026-01-01"),  # a report
    ("GET", "/api/v1/reports/summary?by=plan&updated_since=2026-01-01"),
    ("GET", "/api/v1/auth/me?updated_since=2026-01-01"),  # no query schema at all
    ("GET", "/api/v1/plans?updated_since=2026-01-01"),  # paging only
    ("GET", "/api/v1/meta/labels?updated_since=2026-01-01"),
    ("HEAD", f"{API}?updated_since=2026-01-01"),
    ("POST", "/api/v1/assignments/{id}/transitions?updated_since=2026-01-01"),  # refused before the body is read
])
def test_an_unknown_parameter_is_a_400_naming_it(client, auth, session, make_assignment, method, path):
    assignment_id = make_assignment(due=dt.date(2026, 12, 31))
    before = session.scalar(select(Assignment.status).where(Assignment.id == assignment_id))
    response = client.open(path.format(id=assignment_id), method=method, headers=auth("admin"), json={"to": "in_progress"} if method == "POST" else None)
    if method == "HEAD":
        assert response.status_code == 400 and response.mimetype == "application/problem+json"
        return
    body = assert_problem(response, 400, "request.unknown_parameter")
    assert body["parameters"] == ["updated_since"]
    assert "updated_since" in body["detail"]
    session.expire_all()
    assert session.scalar(select(Assignment.status).where(Assignment.id == assignment_id)) == before  # nothing changed


def test_every_unknown_parameter_is_named_with_those_allowed(client, auth):
    response = client.get(f"{API}?status=completed&zeta=1&alpha=2&alpha=3&page=1", headers=auth("admin"))
    body = assert_problem(response, 400, "request.unknown_parameter")
    assert body["parameters"] == ["alpha", "zeta"]
    assert "`alpha`" in body["detail"] and "`zeta`" in body["detail"]
    assert {"status", "classification", "organization_id", "page", "page_size", "cursor", "as_of"} <= set(body["allowed"])
    # Before the sign-in check: the parameters are the same for everyone.
    assert_problem(client.get(f"{API}?zeta=1"), 400, "request.unknown_parameter")


def test_declared_parameters_pass(client, auth):
    admin = auth("admin")
    for path in (f"{API}?page=1&page_size=5&sort=id&as_of=2026-11-24&include_descendants=false", f"{OVERDUE}?format=json&page_size=1",
                 "/api/v1/reports/summary?by=plan&format=json&page=1&page_size=2", "/api/v1/reports/scorecard?year=2026&format=json",
                 "/api/v1/organizations?roots=true&page=1", f"{API}/999999?as_of=2026-11-24"):
        assert client.get(path, headers=admin).status_code in (200, 404), path
    first = client.get(f"{API}?page_size=5&status=not_started", headers=admin)
    cursor = json.loads(first.headers["X-Pagination"])["next_cursor"]
    following = client.get(url(API, [("cursor", cursor), ("page_size", 5), ("status", "not_started")]), headers=admin)
    assert following.status_code == 200 and following.get_json()


def test_routes_outside_the_api_and_preflights_are_left_alone(client, auth):
    assert client.get("/api/v1/openapi.json?updated_since=1").status_code == 200
    assert client.get("/docs?updated_since=1").status_code != 400
    assert client.get("/healthz?updated_since=1").status_code == 200
    preflight = client.options(f"{API}?updated_since=1", headers={"Origin": "https://app.example.gov.vn", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200
    # An unknown URL stays a 404, an unknown method a 405.
    assert_problem(client.get("/api/v1/nothing-here?updated_since=1"), 404, "request.not_found")
    assert_problem(client.put(f"{API}?updated_since=1", headers=auth("admin")), 405, "request.method_not_allowed")


# --- the document --------------------------------------------------------------------------------


def test_the_document_shows_the_array_parameters_and_the_400(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/assignments", "/api/v1/reports/overdue", "/api/v1/reports/summary"):
        parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
        for name in ("status", "organization_id", "role", "owner_id", "group", "plan_id", "action_id"):
            parameter = parameters[name]
            assert (parameter["style"], parameter["explode"], parameter["schema"]["type"]) == ("form", True, "array"), (path, name)
            assert parameter["schema"]["maxItems"] == 100
            assert f"`{name}=" in parameter["description"] and "commas" in parameter["description"]
        assert "enum" in parameters["status"]["schema"]["items"]
        assert parameters["include_descendants"]["schema"]["type"] == "boolean"  # single-valued parameters stay as they were
    assert document["paths"]["/api/v1/assignments"]["get"]["parameters"][0]["in"] == "query"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert "request.unknown_parameter" in operation["responses"]["400"]["description"], (method, path)
