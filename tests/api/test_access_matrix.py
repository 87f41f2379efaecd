"""Every endpoint, every role, inside and outside the caller's scope: the expected status.

Roles (demo users): admin; lanhdao.huyen, leader of the district party committee (HU-KD, whose
subtree is the whole district); lanhdao.ubnd, leader of the People's Committee (UBND-KD: the
departments); canbo.vhkhtt and canbo.noivu, officers of two departments; giamsat.tgdv, viewer of
HU-KD (the monitoring board); and an anonymous caller.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import evidence_files as files

from tracker.cli import bundled_plan
from tracker.domain.access import can_see_work_of
from tracker.domain.webhooks import new_message_id, new_secret
from tracker.extensions import db
from tracker.models import Action, Assignment, Indicator, IndicatorUnit, Organization, Plan, User, WebhookDelivery, WebhookEndpoint
from tracker.services.access import ancestor_ids, principal_of, visible_organizations

ROLES = ["anonymous", "admin", "lanhdao.huyen", "lanhdao.ubnd", "canbo.vhkhtt", "canbo.noivu", "giamsat.tgdv"]
SIGNED_IN = ROLES[1:]
SOME_DAY = dt.date(2026, 1, 1)  # whose memberships are closed depends on the day; none is in the baseline
NON_ADMINS = ROLES[2:]


@pytest.fixture(scope="module")
def ids(app):
    with app.app_context():
        orgs = dict(db.session.execute(select(Organization.code, Organization.id)).all())

        def assignment_of(code):
            return db.session.scalar(select(Assignment.id).where(Assignment.organization_id == orgs[code]).order_by(Assignment.id).limit(1))

        users = dict(db.session.execute(select(User.username, User.id)).all())
        return {
            "org": orgs,
            "user": users,
            "a_vhkhtt": assignment_of("PVHKHTT-KD"),  # a department: under UBND-KD and HU-KD
            "a_tgdv": assignment_of("BTGDV-KD"),  # a party board: under HU-KD, not UBND-KD
            "plan": db.session.scalar(select(Plan.id).where(Plan.code == "KH-NQ57/HU")),
            "indicator": dict(db.session.execute(select(Indicator.code, Indicator.id).join(Plan).where(Plan.code == "KH-NQ57/HU")).all()),
            "action": {ref: db.session.scalar(select(Action.id).where(Action.ref == ref)) for ref in ("III.1.1", "III.6.1", "IV.4.2")},
        }


def expect(table: dict[str, int], default: int | None = None) -> dict[str, int]:
    return {role: table.get(role, default) for role in ROLES}


READ_ALL = expect({"anonymous": 401}, 200)
ADMIN_ONLY_OK = lambda ok: expect({"anonymous": 401, "admin": ok}, 403)  # noqa: E731

# (method, path template, body, expected status per role)
MATRIX = [
    ("GET", "/api/v1/auth/me", None, READ_ALL),
    ("POST", "/api/v1/auth/logout", None, expect({"anonymous": 401}, 204)),
    ("POST", "/api/v1/auth/refresh", None, expect({"anonymous": 401}, 401)),  # access token given: wrong type
    # Everyone signed in may change their own password (the demo users share one).
    ("POST", "/api/v1/auth/password", {"current_password": "KimDong@2025", "new_password": "MatKhauMoi@2026"},
     expect({"anonymous": 401}, 200)),
    ("GET", "/api/v1/auth/sign-ins", None, ADMIN_ONLY_OK(200)),
    ("GET", "/api/v1/plans", None, READ_ALL),
    ("GET", "/api/v1/plans/{plan}", None, READ_ALL),
    ("POST", "/api/v1/plans/import", "plan-file", ADMIN_ONLY_OK(200)),
    ("GET", "/api/v1/organizations", None, READ_ALL),
    ("GET", "/api/v1/organizations/{org:PNV-KD}", None, READ_ALL),
    ("GET", "/api/v1/organizations/{org:PNV-KD}/members", None, expect({"anonymous": 401, "canbo.vhkhtt": 404}, 200)),
    ("GET", "/api/v1/organizations/{org:BTGDV-KD}/members", None,
     expect({"anonymous": 401, "admin": 200, "lanhdao.huyen": 200, "giamsat.tgdv": 200}, 404)),
    ("POST", "/api/v1/organizations", {"code": "NEW-UNIT", "name": "Đơn vị mới", "kind": "department"}, ADMIN_ONLY_OK(201)),
    ("PATCH", "/api/v1/organizations/{org:PNV-KD}", {"short_name": "Nội vụ"}, ADMIN_ONLY_OK(200)),
    ("POST", "/api/v1/organizations/{org:PTP-KD}/close", {"valid_to": "2025-07-01", "cancel_open_work": True}, ADMIN_ONLY_OK(200)),
    ("GET", "/api/v1/organizations/{org:PNV-KD}/lineage", None, READ_ALL),
    ("GET", "/api/v1/organizations/reorganizations", None, READ_ALL),
    ("GET", "/api/v1/organizations/reorganizations/{987654}", None, expect({"anonymous": 401}, 404)),  # readable by all; scenario tests read real ones
    ("POST", "/api/v1/organizations/reorganizations",
     {"kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": ["{org:PTP-KD}"], "successor_id": "{org:PNV-KD}"},
     ADMIN_ONLY_OK(201)),
    ("GET", "/api/v1/users", None, ADMIN_ONLY_OK(200)),
    ("POST", "/api/v1/users", {"username": "moi.tao", "password": "mat-khau-du-dai", "full_name": "Người mới"}, ADMIN_ONLY_OK(201)),
    ("GET", "/api/v1/users/{user:canbo.congan}", None, ADMIN_ONLY_OK(200)),
    ("PATCH", "/api/v1/users/{user:canbo.congan}", {"phone": "0912 345 678"}, ADMIN_ONLY_OK(200)),
    ("DELETE", "/api/v1/users/{user:canbo.congan}", None, ADMIN_ONLY_OK(204)),
    ("GET", "/api/v1/assignments", None, READ_ALL),
    # An officer of another agency, or a leader of another branch, gets 404: existence does not leak.
    ("GET", "/api/v1/assignments/{a_vhkhtt}", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("GET", "/api/v1/assignments/{a_tgdv}", None, expect({"anonymous": 401, "admin": 200, "lanhdao.huyen": 200, "giamsat.tgdv": 200}, 404)),
    ("GET", "/api/v1/assignments/{a_vhkhtt}/evidence", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("POST", "/api/v1/assignments/{a_vhkhtt}/evidence", "evidence-file",
     expect({"anonymous": 401, "canbo.noivu": 404, "giamsat.tgdv": 403}, 201)),
    ("POST", "/api/v1/assignments/{a_tgdv}/evidence", "evidence-file",
     expect({"anonymous": 401, "admin": 201, "lanhdao.huyen": 201, "giamsat.tgdv": 403}, 404)),
    ("GET", "/api/v1/evidence/{evidence}", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("GET", "/api/v1/evidence/{evidence}/content", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("GET", "/api/v1/evidence/{evidence}/link", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    # No bearer token: the signature is the credential, and an altered one is refused for everyone.
    ("GET", "/api/v1/evidence/{evidence}/signed-content?sig=altered", None, expect({}, 403)),
    # Only the uploader (canbo.vhkhtt) or an admin may withdraw.
    ("POST", "/api/v1/evidence/{evidence}/withdraw", {"reason": "Tải nhầm tệp"},
     expect({"anonymous": 401, "admin": 200, "canbo.vhkhtt": 200, "canbo.noivu": 404}, 403)),
    ("POST", "/api/v1/assignments", {"action_id": "{action:III.6.1}", "organization_id": "{org:PVHKHTT-KD}", "role": "coordinating"},
     expect({"anonymous": 401, "admin": 201, "lanhdao.huyen": 201, "lanhdao.ubnd": 201}, 403)),
    ("POST", "/api/v1/assignments/bulk", {"action_id": "{action:III.6.1}", "organization_ids": ["{org:PNV-KD}"], "role": "coordinating"},
     expect({"anonymous": 401}, 200)),  # per-item results: a refused organisation is reported inside
    ("POST", "/api/v1/assignments/transitions", {"items": [{"assignment_id": "{a_vhkhtt}", "to": "in_progress"}]},
     expect({"anonymous": 401}, 200)),
    ("POST", "/api/v1/assignments/urge", {"assignment_ids": ["{a_vhkhtt}"]},
     expect({"anonymous": 401}, 200)),  # per-item results (tests/api/test_urging.py: who may urge what)
    ("GET", "/api/v1/me/notifications", None, READ_ALL),
    ("POST", "/api/v1/me/notifications/read", {"all": True}, expect({"anonymous": 401}, 200)),
    ("GET", "/api/v1/me/preferences", None, READ_ALL),
    ("PATCH", "/api/v1/me/preferences", {"email_preferences": {"overdue": True}}, expect({"anonymous": 401}, 200)),
    # The change feed: each caller's own scope (its own tests check which items).
    ("GET", "/api/v1/changes?limit=5", None, READ_ALL),
    ("PATCH", "/api/v1/assignments/{a_vhkhtt}", {"progress": 10}, expect({"anonymous": 401, "canbo.noivu": 404, "giamsat.tgdv": 403}, 200)),
    ("POST", "/api/v1/assignments/{a_vhkhtt}/transitions", {"to": "in_progress"},
     expect({"anonymous": 401, "canbo.noivu": 404, "giamsat.tgdv": 403}, 200)),
    ("GET", "/api/v1/assignments/{a_vhkhtt}/history", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("GET", "/api/v1/assignments/{a_vhkhtt}/extensions", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("GET", "/api/v1/assignments/{a_vhkhtt}/extensions/{extension}", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("POST", "/api/v1/assignments/{a_tgdv}/extensions", {"new_due_date": "2031-01-01", "reason": "Chờ hướng dẫn của tỉnh"},
     expect({"anonymous": 401, "admin": 201, "lanhdao.huyen": 201, "giamsat.tgdv": 403}, 404)),
    ("POST", "/api/v1/assignments/{a_vhkhtt}/extensions/{extension}/decision", {"decision": "grant"},
     expect({"anonymous": 401, "admin": 200, "lanhdao.huyen": 200, "lanhdao.ubnd": 200, "canbo.noivu": 404}, 403)),
    ("POST", "/api/v1/plans/{plan}/actions", {"parent_id": "{action:III.1.1}", "text": "Tổ chức hội nghị quán triệt"},
     expect({"anonymous": 401, "admin": 201, "lanhdao.huyen": 201}, 403)),
    ("GET", "/api/v1/actions/{action:III.1.1}", None, READ_ALL),
    ("PATCH", "/api/v1/actions/{action:III.1.1}", {"title": "Quán triệt Nghị quyết"}, expect({"anonymous": 401, "admin": 200, "lanhdao.huyen": 200}, 403)),
    ("POST", "/api/v1/actions/{action:IV.4.2}/generate-assignments", None, expect({"anonymous": 401, "admin": 200, "lanhdao.huyen": 200}, 403)),
    ("GET", "/api/v1/meta/labels", None, expect({}, 200)),
    ("GET", "/api/v1", None, expect({}, 200)),  # what this is, with links: public
    ("GET", "/api/v1/reports/overdue", None, READ_ALL),
    ("GET", "/api/v1/reports/summary?by=organization", None, READ_ALL),
    ("GET", "/api/v1/reports/scorecard?year=2026", None, READ_ALL),
    ("GET", "/api/v1/reports/attention", None, READ_ALL),
    ("GET", "/api/v1/reports/periodic?organization_id={org:PVHKHTT-KD}&period=2026-H1", None,
     expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("GET", "/api/v1/reports/periodic?organization_id={org:BTGDV-KD}&period=2026", None,
     expect({"anonymous": 401, "admin": 200, "lanhdao.huyen": 200, "giamsat.tgdv": 200}, 404)),
    ("GET", "/api/v1/reports/indicators", None, READ_ALL),
    # Everyone signed in; each sees the rows that involve their scope (tests/api/test_responsibility.py).
    ("GET", "/api/v1/reports/responsibility?plan_id={plan}", None, READ_ALL),
    ("GET", "/api/v1/reports/responsibility?plan_id={plan}&format=docx", None, READ_ALL),
    ("GET", "/api/v1/indicators", None, READ_ALL),
    # CT-05 is reported by PVHKHTT-KD (a department under UBND-KD); CT-15 by the communes' party bodies (under HU-KD only).
    ("GET", "/api/v1/indicators/{indicator:CT-05}", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("GET", "/api/v1/indicators/{indicator:CT-15}", None,
     expect({"anonymous": 401, "admin": 200, "lanhdao.huyen": 200, "giamsat.tgdv": 200}, 404)),
    # Measurements of indicators made in `scoped_ids`: m_ind reported by PVHKHTT-KD, m_ind_tgdv by BTGDV-KD.
    ("GET", "/api/v1/indicators/{m_ind}/measurements", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("GET", "/api/v1/indicators/{m_ind_tgdv}/measurements", None,
     expect({"anonymous": 401, "admin": 200, "lanhdao.huyen": 200, "giamsat.tgdv": 200}, 404)),
    ("POST", "/api/v1/indicators/{m_ind}/measurements", {"measured_on": "2025-06-30", "value": 50, "source": "Báo cáo thống kê"},
     expect({"anonymous": 401, "canbo.noivu": 404, "giamsat.tgdv": 403}, 201)),
    ("POST", "/api/v1/indicators/{m_ind_tgdv}/measurements", {"measured_on": "2025-06-30", "value": 50, "source": "Báo cáo thống kê"},
     expect({"anonymous": 401, "admin": 201, "lanhdao.huyen": 201, "giamsat.tgdv": 403}, 404)),
    ("GET", "/api/v1/indicators/{m_ind}/measurements/{measurement}", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("POST", "/api/v1/indicators/{m_ind}/measurements/{measurement}/decision", {"decision": "accept"},
     expect({"anonymous": 401, "admin": 200, "lanhdao.huyen": 200, "lanhdao.ubnd": 200, "canbo.noivu": 404}, 403)),
    ("POST", "/api/v1/indicators/{m_ind}/measurements/{measurement}/evidence", "evidence-file",
     expect({"anonymous": 401, "canbo.noivu": 404, "giamsat.tgdv": 403}, 201)),
    ("GET", "/api/v1/measurement-evidence/{m_evidence}/content", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("GET", "/api/v1/reports/snapshots", None, READ_ALL),
    ("POST", "/api/v1/reports/snapshots", {"kind": "periodic", "organization_id": "{org:PVHKHTT-KD}", "period": "2026-H1"},
     expect({"anonymous": 401, "admin": 201, "lanhdao.huyen": 201, "lanhdao.ubnd": 201, "canbo.noivu": 404}, 403)),
    ("GET", "/api/v1/reports/snapshots/{snapshot}", None, expect({"anonymous": 401, "canbo.noivu": 404}, 200)),
    ("GET", "/api/v1/webhooks", None, ADMIN_ONLY_OK(200)),
    ("POST", "/api/v1/webhooks", {"url": "https://hooks.example.org/tracker", "event_types": ["urge.sent"]}, ADMIN_ONLY_OK(201)),
    ("GET", "/api/v1/webhooks/{webhook}", None, ADMIN_ONLY_OK(200)),
    ("PATCH", "/api/v1/webhooks/{webhook}", {"active": False}, ADMIN_ONLY_OK(200)),
    ("DELETE", "/api/v1/webhooks/{webhook}", None, ADMIN_ONLY_OK(204)),
    ("GET", "/api/v1/webhooks/{webhook}/deliveries", None, ADMIN_ONLY_OK(200)),
    ("POST", "/api/v1/webhooks/deliveries/{delivery}/redeliver", None, ADMIN_ONLY_OK(200)),  # a failed one, made in `scoped_ids`
    ("GET", "/api/v1/healthz", None, expect({}, 200)),
    ("GET", "/api/v1/readyz", None, expect({}, 200)),
]
# Sign-in is public and has its own tests; the document is public.
NOT_IN_MATRIX = {("POST", "/api/v1/auth/login"), ("GET", "/api/v1/openapi.json")}


def resolve(path: str, ids: dict) -> str:
    def substitute(token: str) -> str:
        if ":" in token:
            kind, key = token.split(":", 1)
            return str(ids[kind][key])
        return token if token.isdigit() else str(ids[token])

    out, rest = "", path
    while "{" in rest:
        before, _, after = rest.partition("{")
        token, _, rest = after.partition("}")
        out += before + substitute(token)
    return out + rest


def evidence_upload() -> dict:
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(files.pdf()), filename="Biên bản.pdf")}))
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture
def scoped_ids(client, auth, ids, session):
    """`ids`, plus evidence uploaded in this test by canbo.vhkhtt to its agency's assignment, and
    two indicators of this test's own (one measurement of the first, with evidence)."""
    response = client.post(f"/api/v1/assignments/{ids['a_vhkhtt']}/evidence", headers=auth("canbo.vhkhtt"), **evidence_upload())
    assert response.status_code == 201, response.get_data(as_text=True)
    extension = client.post(f"/api/v1/assignments/{ids['a_vhkhtt']}/extensions", headers=auth("canbo.vhkhtt"),
                            json={"new_due_date": "2031-06-30", "reason": "Chờ kinh phí năm sau"})
    assert extension.status_code == 201, extension.get_data(as_text=True)
    snapshot = client.post("/api/v1/reports/snapshots", headers=auth("admin"),
                           json={"kind": "periodic", "organization_id": ids["org"]["PVHKHTT-KD"], "period": "2026"})
    assert snapshot.status_code == 201, snapshot.get_data(as_text=True)
    indicators = {}
    for key, unit in (("m_ind", "PVHKHTT-KD"), ("m_ind_tgdv", "BTGDV-KD")):
        indicator = Indicator(plan_id=ids["plan"], code=f"T-MATRIX-{unit}", name="Chỉ tiêu kiểm thử", unit="%", kind="numeric",
                              direction="at_least", source_ref="II.1", rollup="none")
        indicator.units.append(IndicatorUnit(organization_id=ids["org"][unit]))
        session.add(indicator)
        session.commit()
        indicators[key] = indicator.id
    measurement = client.post(f"/api/v1/indicators/{indicators['m_ind']}/measurements", headers=auth("canbo.vhkhtt"),
                              json={"measured_on": "2025-06-30", "value": 40, "source": "Báo cáo thống kê"})
    assert measurement.status_code == 201, measurement.get_data(as_text=True)
    m_evidence = client.post(f"/api/v1/indicators/{indicators['m_ind']}/measurements/{measurement.get_json()['id']}/evidence",
                             headers=auth("canbo.vhkhtt"), **evidence_upload())
    assert m_evidence.status_code == 201, m_evidence.get_data(as_text=True)
    now = dt.datetime.now(dt.UTC)
    webhook = WebhookEndpoint(url="https://hooks.example.org/matrix", secret=new_secret(), event_types=["report.published"])
    session.add(webhook)
    session.flush()
    delivery = WebhookDelivery(endpoint_id=webhook.id, message_id=new_message_id(), event_type="report.published",
                               payload={"type": "report.published", "data": {}}, status="failed", attempts=30, expires_at=now)
    session.add(delivery)
    session.commit()
    return {**ids, "webhook": webhook.id, "delivery": delivery.id, "evidence": response.get_json()["id"], "extension": extension.get_json()["id"], "snapshot": snapshot.get_json()["id"],
            **indicators, "measurement": measurement.get_json()["id"], "m_evidence": m_evidence.get_json()["id"]}


def resolve_body(body, ids):
    """Placeholders such as "{org:PNV-KD}" inside a JSON body become ids."""
    if isinstance(body, dict):
        return {key: resolve_body(value, ids) for key, value in body.items()}
    if isinstance(body, list):
        return [resolve_body(value, ids) for value in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return int(resolve(body, ids))
    return body


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_matrix(client, auth, scoped_ids, role, method, path, body, expected):
    ids = scoped_ids
    headers = {} if role == "anonymous" else auth(role)
    if method == "PATCH" and "/assignments/" in path:
        headers["If-Match"] = "*"  # required there; any current version
    kwargs = {"headers": headers, "buffered": True}
    if body == "plan-file":
        kwargs.update(data=bundled_plan(), content_type="application/yaml")
    elif body == "evidence-file":
        kwargs.update(evidence_upload())
    elif body is not None:
        kwargs["json"] = resolve_body(body, ids)
    response = client.open(resolve(path, ids), method=method, **kwargs)
    assert response.status_code == expected[role], response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


def test_matrix_covers_every_endpoint(app):
    def shape(path: str) -> str:
        return re.sub(r"\{[^}]*\}|<[^>]*>", "{}", path)

    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(m, shape(p.split("?")[0])) for m, p, _, _ in MATRIX}
    missing = {(m, p) for m, p in routes - NOT_IN_MATRIX if (m, shape(p)) not in covered}
    assert not missing, f"endpoints without an access-matrix row: {sorted(missing)}"


@pytest.mark.parametrize("role", SIGNED_IN)
def test_lists_are_limited_to_scope(client, auth, ids, session, role):
    principal = principal_of(session.scalar(select(User).where(User.username == role)), SOME_DAY)
    seen: set[int] = set()
    page = 1
    while True:
        response = client.get(f"/api/v1/assignments?page_size=200&page={page}", headers=auth(role))
        assert response.status_code == 200
        seen |= {item["organization"]["id"] for item in response.get_json()}
        if "next" not in response.headers.get("Link", ""):
            break
        page += 1
    expected = {
        org_id for org_id in session.scalars(select(Assignment.organization_id).distinct())
        if can_see_work_of(principal, org_id, ancestor_ids(org_id))
    }
    assert seen == expected
    if role == "canbo.vhkhtt":
        assert seen == {ids["org"]["PVHKHTT-KD"]}
    if role == "lanhdao.ubnd":
        assert ids["org"]["BTGDV-KD"] not in seen and ids["org"]["PNV-KD"] in seen


def test_sql_scope_agrees_with_python_predicate(session):
    """The scope rule in SQL and in Python, over every demo user and every organisation."""
    orgs = list(session.scalars(select(Organization.id)))
    for user in session.scalars(select(User)):
        principal = principal_of(user, SOME_DAY)
        in_sql = set(session.scalars(select(Organization.id).where(visible_organizations(principal, Organization.id))))
        in_python = {org_id for org_id in orgs if can_see_work_of(principal, org_id, ancestor_ids(org_id))}
        assert in_sql == in_python, user.username


def test_officer_cannot_filter_into_another_agency(client, auth, ids):
    response = client.get(f"/api/v1/assignments?organization_id={ids['org']['PNV-KD']}", headers=auth("canbo.vhkhtt"))
    assert response.status_code == 200 and response.get_json() == []
