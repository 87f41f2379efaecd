"""Webhooks: admins register endpoints; the changes they subscribe to are written as deliveries in
the change's own transaction; a receiver on loopback checks each signature with an independent
implementation (the `standardwebhooks` package) while the clock is moved past each backoff."""

from __future__ import annotations

import datetime as dt
import io
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook, WebhookVerificationError
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import evidence_files as files
from tests.api.conftest import FakeClock
from tests.helpers import TODAY, assert_problem
from tracker.domain import webhooks as rules
from tracker.models import WebhookDelivery
from tracker.jobs import webhooks as delivery

URL = "/api/v1/webhooks"


class Receiver:
    """An HTTP server on loopback that checks each request's Standard Webhooks signature and answers
    the statuses it is given in turn (then 200)."""

    def __init__(self, port: int = 0):
        self.secret: str | None = None
        self.answers: list[int] = []
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                    verified = True
                except WebhookVerificationError:
                    payload, verified = None, False
                status = (receiver.answers.pop(0) if receiver.answers else 200) if verified else 400
                receiver.received.append({"headers": headers, "body": body, "payload": payload, "verified": verified,
                                          "answered": status, "path": self.path})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tracker?source=kim-dong"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def loopback_allowed(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", True)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def register(client, auth, url: str, event_types: list[str], **extra) -> dict:
    response = client.post(URL, headers=auth("admin"), json={"url": url, "event_types": event_types, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def deliveries(client, auth, endpoint_id: int, **query) -> list[dict]:
    response = client.get(f"{URL}/{endpoint_id}/deliveries", headers=auth("admin"), query_string={"page_size": 200, **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def deliver(app, now: dt.datetime | None = None) -> int:
    with app.app_context():
        return delivery.deliver_due(now=now)


def create_assignment(client, auth, org, action_ref) -> int:
    response = client.post("/api/v1/assignments", headers=auth("admin"),
                           json={"action_id": action_ref("III.6.1"), "organization_id": org["PVHKHTT-KD"], "role": "coordinating"})
    assert response.status_code == 201, response.get_json()
    [created] = response.get_json()  # a one-off action: one assignment
    return created["id"]


def test_a_receiver_fails_twice_and_gets_the_third_attempt(app, client, auth, org, action_ref, receiver, loopback_allowed, clock):
    endpoint = register(client, auth, receiver.url, ["assignment.created"], description="Hệ thống điều hành tỉnh")
    assert endpoint["secret"].startswith("whsec_") and rules.secret_key(endpoint["secret"]) is not None
    receiver.secret, receiver.answers = endpoint["secret"], [500, 503]
    t0 = clock.moment
    assignment_id = create_assignment(client, auth, org, action_ref)

    assert deliver(app, t0) == 1
    assert deliver(app, t0 + dt.timedelta(seconds=29)) == 0  # the first backoff is 30 s
    assert deliver(app, t0 + dt.timedelta(seconds=30)) == 1
    assert deliver(app, t0 + dt.timedelta(seconds=89)) == 0  # then 60 s
    assert deliver(app, t0 + dt.timedelta(seconds=90)) == 1
    assert deliver(app, t0 + dt.timedelta(hours=2)) == 0  # delivered: never sent again

    assert [r["answered"] for r in receiver.received] == [500, 503, 200]
    assert all(r["verified"] for r in receiver.received)
    assert {r["headers"]["webhook-id"] for r in receiver.received} == {receiver.received[0]["headers"]["webhook-id"]}
    assert [int(r["headers"]["webhook-timestamp"]) for r in receiver.received] == [
        int((t0 + dt.timedelta(seconds=s)).timestamp()) for s in (0, 30, 90)]
    assert {r["body"] for r in receiver.received} == {receiver.received[0]["body"]}  # the same bytes each time
    assert receiver.received[0]["path"] == "/hooks/tracker?source=kim-dong"
    payload = receiver.received[0]["payload"]
    assert payload["type"] == "assignment.created"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"]["assignment_id"] == assignment_id
    assert payload["data"]["organization_code"] == "PVHKHTT-KD"
    assert payload["data"]["status"] == "not_started"

    [delivery] = deliveries(client, auth, endpoint["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert delivery["message_id"] == receiver.received[0]["headers"]["webhook-id"]
    assert delivery["next_attempt_at"] is None and delivery["last_status_code"] == 200
    assert [(a["status_code"], a["error"]) for a in delivery["attempt_log"]] == [(500, "HTTP 500"), (503, "HTTP 503"), (200, None)]
    assert [a["attempted_at"] for a in delivery["attempt_log"]] == [
        (t0 + dt.timedelta(seconds=s)).isoformat().replace("+00:00", "Z") for s in (0, 30, 90)]


def test_a_receiver_down_for_the_whole_window_leaves_it_failed_and_redeliverable(app, client, auth, org, action_ref,
                                                                                 loopback_allowed, monkeypatch):
    # The clock starts a day back, so that the window ends about now and the redelivery's
    # timestamp is one the receiver accepts (Standard Webhooks allows five minutes either way).
    clock = FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0) - rules.RETRY_WINDOW)
    monkeypatch.setitem(app.config, "CLOCK", clock)
    port = closed_port()
    endpoint = register(client, auth, f"http://127.0.0.1:{port}/hook", ["assignment.created"])
    create_assignment(client, auth, org, action_ref)
    created = clock.moment

    attempts_made = 0
    while True:
        [delivery] = deliveries(client, auth, endpoint["id"])
        if delivery["status"] != "pending":
            break
        clock.moment = dt.datetime.fromisoformat(delivery["next_attempt_at"])
        assert deliver(app, clock.moment) == 1
        attempts_made += 1
        assert attempts_made < 60, "never gave up"
    assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None
    assert delivery["delivered_at"] is None and delivery["last_status_code"] is None
    assert "ConnectionRefused" in delivery["last_error"]
    moments = [dt.datetime.fromisoformat(a["attempted_at"]) for a in delivery["attempt_log"]]
    assert len(moments) == attempts_made == delivery["attempts"]
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(moments, moments[1:])]
    assert gaps[:8] == [30, 60, 120, 240, 480, 960, 1920, 3600]  # doubling, then at most an hour
    assert max(gaps) == 3600
    assert moments[0] == created and moments[-1] == created + rules.RETRY_WINDOW  # the last on the window's end
    assert deliver(app, clock.moment + dt.timedelta(days=2)) == 0  # failed stays failed

    # The receiver comes up; an admin sends the delivery again.
    receiver = Receiver(port)
    try:
        receiver.secret = endpoint["secret"]
        clock.moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
        response = client.post(f"{URL}/deliveries/{delivery['id']}/redeliver", headers=auth("admin"))
        assert response.status_code == 200, response.get_json()
        again = response.get_json()
        assert (again["status"], again["attempts"]) == ("pending", 0)
        assert dt.datetime.fromisoformat(again["expires_at"]) == clock.moment + rules.RETRY_WINDOW
        assert dt.datetime.fromisoformat(again["next_attempt_at"]) == clock.moment
        assert_problem(client.post(f"{URL}/deliveries/{delivery['id']}/redeliver", headers=auth("admin")),
                       409, "webhook.delivery_pending")
        assert deliver(app) == 1
    finally:
        receiver.stop()
    assert [r["verified"] for r in receiver.received] == [True]
    assert receiver.received[0]["headers"]["webhook-id"] == delivery["message_id"]
    [done] = deliveries(client, auth, endpoint["id"])
    assert done["status"] == "delivered" and len(done["attempt_log"]) == attempts_made + 1
    # A delivered one may be sent again too.
    assert client.post(f"{URL}/deliveries/{delivery['id']}/redeliver", headers=auth("admin")).status_code == 200


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://api.localhost/hook", "http://10.1.2.3/hook",
    "http://192.168.1.10/hook", "http://172.16.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://[fd00::1]/hook", "http://0.0.0.0/hook", "http://100.64.0.1/hook",
])
def test_private_addresses_are_refused_without_the_setting(client, auth, session, url):
    before = session.scalar(select(func.count()).select_from(WebhookDelivery))
    body = assert_problem(client.post(URL, headers=auth("admin"), json={"url": url, "event_types": ["urge.sent"]}),
                          422, "webhook.private_address")
    assert "url" in body["errors"]
    assert client.get(URL, headers=auth("admin")).get_json() == []
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == before


@pytest.mark.parametrize(("url", "code"), [
    ("ftp://example.org/hook", "request.validation_failed"), ("example.org/hook", "request.validation_failed"),
    ("http://user:pass@example.org/hook", "webhook.invalid_url"), ("http://example.org:99999/hook", "webhook.invalid_url"),
])
def test_only_plain_http_urls(client, auth, url, code):
    assert_problem(client.post(URL, headers=auth("admin"), json={"url": url, "event_types": ["urge.sent"]}), 422, code)


def test_a_public_url_and_the_setting(client, auth, loopback_allowed):
    public = register(client, auth, "https://hooks.example.org/tracker", ["report.published"])
    assert public["url"] == "https://hooks.example.org/tracker"
    assert register(client, auth, "http://127.0.0.1:9/hook", ["report.published"])["url"] == "http://127.0.0.1:9/hook"


def test_an_address_allowed_at_registration_is_refused_at_delivery_when_the_setting_is_off(
        app, client, auth, org, action_ref, receiver, loopback_allowed, clock, monkeypatch):
    endpoint = register(client, auth, receiver.url, ["assignment.created"])
    receiver.secret = endpoint["secret"]
    create_assignment(client, auth, org, action_ref)
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)
    assert deliver(app, clock.moment) == 1
    assert receiver.received == []
    [delivery] = deliveries(client, auth, endpoint["id"])
    assert delivery["status"] == "pending" and "address not allowed: 127.0.0.1" in delivery["last_error"]


def test_the_secret_is_shown_once_and_a_given_one_is_checked(client, auth):
    chosen = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes
    created = register(client, auth, "https://hooks.example.org/a", ["urge.sent"], secret=chosen)
    assert created["secret"] == chosen
    shown = client.get(f"{URL}/{created['id']}", headers=auth("admin")).get_json()
    assert "secret" not in shown and all("secret" not in item for item in client.get(URL, headers=auth("admin")).get_json())
    for bad in ("whsec_" + "A" * 32 + "!", "sk_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" * 2, "whsec_" + "QUJD" * 8):  # 24 bytes: ok
        response = client.post(URL, headers=auth("admin"), json={"url": "https://hooks.example.org/b", "event_types": ["urge.sent"],
                                                                 "secret": bad})
        if bad.endswith("QUJD"):
            assert response.status_code == 201
        else:
            assert_problem(response, 422, "webhook.invalid_secret")


def test_only_admins(client, auth):
    assert client.get(URL).status_code == 401
    for user in ("lanhdao.huyen", "lanhdao.ubnd", "canbo.noivu", "giamsat.tgdv"):
        assert_problem(client.get(URL, headers=auth(user)), 403, "auth.admin_only")
        assert_problem(client.post(URL, headers=auth(user), json={"url": "https://hooks.example.org/x", "event_types": ["urge.sent"]}),
                       403, "auth.admin_only")
    assert client.get(URL, headers=auth("admin")).get_json() == []


def test_edit_and_delete(client, auth, session, org, action_ref, make_assignment, loopback_allowed):
    endpoint = register(client, auth, "http://127.0.0.1:9/hook", ["assignment.created", "assignment.created", "urge.sent"])
    assert endpoint["event_types"] == ["assignment.created", "urge.sent"]
    url = f"{URL}/{endpoint['id']}"
    assert_problem(client.patch(url, headers=auth("admin"), json={}), 422, "request.empty_patch")
    changed = client.patch(url, headers=auth("admin"), json={"active": False, "description": "Tạm dừng"}).get_json()
    assert (changed["active"], changed["description"]) == (False, "Tạm dừng")
    create_assignment(client, auth, org, action_ref)
    assert deliveries(client, auth, endpoint["id"]) == []  # inactive: nothing written
    client.patch(url, headers=auth("admin"), json={"active": True})
    make_assignment("PNV-KD")
    assert len(deliveries(client, auth, endpoint["id"])) == 1
    assert client.delete(url, headers=auth("admin")).status_code == 204
    assert_problem(client.get(url, headers=auth("admin")), 404, "webhook.not_found")
    assert_problem(client.get(f"{url}/deliveries", headers=auth("admin")), 404, "webhook.not_found")
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0  # its log went with it
    assert_problem(client.post(f"{URL}/deliveries/987654/redeliver", headers=auth("admin")), 404, "webhook.delivery_not_found")


def upload(client, headers, assignment_id: int):
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(files.pdf()), filename="Biên bản họp.pdf")}))
    response = client.post(f"/api/v1/assignments/{assignment_id}/evidence", headers=headers, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_each_kind_of_event_through_the_api(app, client, auth, org, action_ref, make_assignment, loopback_allowed):
    everything = register(client, auth, "http://127.0.0.1:9/all", list(rules.EVENT_TYPES))
    urgings = register(client, auth, "http://127.0.0.1:9/urgings", ["urge.sent"])
    officer, leader, admin = auth("canbo.vhkhtt"), auth("lanhdao.ubnd"), auth("admin")

    def ok(response, status=200):
        assert response.status_code == status, response.get_json()
        return response.get_json()

    assignment_id = create_assignment(client, auth, org, action_ref)
    base = f"/api/v1/assignments/{assignment_id}"
    ok(client.patch(base, headers={**officer, "If-Match": "*"}, json={"progress": 20}))
    ok(client.post(f"{base}/transitions", headers=officer, json={"to": "in_progress"}))
    # A move the rules refuse is rolled back, and with it anything it would have sent.
    assert client.post(f"{base}/transitions", headers=officer, json={"to": "completed"}).status_code == 409
    evidence_id = upload(client, officer, assignment_id)
    ok(client.post(f"/api/v1/evidence/{evidence_id}/withdraw", headers=officer, json={"reason": "Tải nhầm tệp"}))
    extension = ok(client.post(f"{base}/extensions", headers=officer, json={"new_due_date": "2031-06-30", "reason": "Chờ kinh phí"}), 201)
    ok(client.post(f"{base}/extensions/{extension['id']}/decision", headers=leader, json={"decision": "grant"}))
    overdue = make_assignment("PVHKHTT-KD", TODAY - dt.timedelta(days=5), status="in_progress")
    ok(client.post("/api/v1/assignments/urge", headers=leader, json={"assignment_ids": [overdue]}))
    snapshot = ok(client.post("/api/v1/reports/snapshots", headers=admin,
                              json={"kind": "periodic", "organization_id": org["PVHKHTT-KD"], "period": "2026"}), 201)

    log = list(reversed(deliveries(client, auth, everything["id"])))  # oldest first
    kinds = [d["event_type"] for d in log]
    assert kinds == [
        "assignment.created", "assignment.changed", "assignment.transitioned", "evidence.added", "evidence.withdrawn",
        "extension.requested", "assignment.changed", "extension.decided",  # one flush: changes of the work first
        "assignment.created",  # the overdue one, made directly in the database: captured all the same
        "urge.sent", "report.published",
    ]
    data = [d["payload"]["data"] for d in log]
    assert all(d["payload"]["type"] == d["event_type"] for d in log)
    assert all(d["status"] == "pending" and d["message_id"].startswith("msg_") for d in log)
    assert data[1]["changed"] == ["progress"] and data[1]["progress"] == 20
    assert (data[2]["from_status"], data[2]["to_status"], data[2]["status"]) == ("not_started", "in_progress", "in_progress")
    assert data[3]["evidence_id"] == evidence_id == data[4]["evidence_id"] and data[4]["withdrawn_at"].endswith("Z")
    assert data[5]["extension_id"] == extension["id"] and data[5]["status"] == "pending" and data[5]["new_due_date"] == "2031-06-30"
    assert data[6]["changed"] == ["due_date"] and data[6]["due_date"] == "2031-06-30"
    assert data[7]["status"] == "granted" and data[7]["decided_at"].endswith("Z")
    assert data[9]["assignment_id"] == overdue and data[9]["urge_count"] == 1
    assert data[10]["snapshot_id"] == snapshot["id"] and data[10]["kind"] == "periodic"
    assert {d["organization_code"] for d in data} == {"PVHKHTT-KD"}
    assert all(d["organization_id"] == org["PVHKHTT-KD"] for d in data)
    # Only what each endpoint subscribed to; one message id per endpoint and event.
    [urged] = deliveries(client, auth, urgings["id"])
    assert urged["event_type"] == "urge.sent" and urged["payload"] == log[9]["payload"]
    assert urged["message_id"] != log[9]["message_id"]
    assert [d["event_type"] for d in deliveries(client, auth, everything["id"], status="pending")] == list(reversed(kinds))
    assert deliveries(client, auth, everything["id"], status="delivered") == []


def test_the_command_sends_what_is_due(app, client, auth, org, action_ref, receiver, runner, loopback_allowed, clock):
    endpoint = register(client, auth, receiver.url, ["assignment.created"])
    receiver.secret = endpoint["secret"]
    create_assignment(client, auth, org, action_ref)
    result = runner.invoke(args=["tracker", "deliver-webhooks"])
    assert result.exit_code == 0, result.output
    assert "1 webhook deliveries attempted" in result.output
    assert [r["verified"] for r in receiver.received] == [True]
    assert runner.invoke(args=["tracker", "deliver-webhooks"]).output.startswith("0 ")
    assert deliveries(client, auth, endpoint["id"])[0]["status"] == "delivered"


def test_an_item_undone_in_a_bulk_move_sends_nothing(client, auth, make_assignment, loopback_allowed):
    endpoint = register(client, auth, "http://127.0.0.1:9/hook", ["assignment.transitioned"])
    moved, refused = make_assignment("PVHKHTT-KD"), make_assignment("PVHKHTT-KD", status="completed")
    response = client.post("/api/v1/assignments/transitions", headers=auth("canbo.vhkhtt"),
                           json={"items": [{"assignment_id": moved, "to": "in_progress"}, {"assignment_id": refused, "to": "in_progress"}]})
    assert response.status_code == 200, response.get_json()
    assert [item["status"] for item in response.get_json()["results"]] == [200, 409]
    assert [d["payload"]["data"]["assignment_id"] for d in deliveries(client, auth, endpoint["id"])] == [moved]
