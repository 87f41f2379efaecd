"""Load and fault run: N clients for T seconds against a running server, then a check that every
acknowledged write is in the database exactly once.

    python bench/load.py --url http://127.0.0.1:8000 --database-url postgresql://postgres@127.0.0.1/tracker \
        --clients 100 --seconds 60

Each client is an officer of an agency of its own (created by `--setup`, the default, under
UBND-KD with four assignments each). A client loops over mixed requests: reads (its assignments,
one assignment, the overdue list) with a pause between steps (`--think`, as a person reading
the answer), progress notes by PATCH with If-Match (re-read and retried on
412), status moves (start, block, resume), and evidence uploads. Every write carries an
`Idempotency-Key` and a unique token (in the note, or the file's content); a write is
acknowledged when the server answered 2xx. On 503, 5xx or a broken connection the client retries
the same request with the same key until it is answered (at most `--retry-seconds`).

Afterwards the database is read directly: each acknowledged note, move and upload must be present
exactly once (0 lost, 0 doubled). The summary counts requests, answers by status, 5xx other than
503, HTML bodies, and p50/p95 latency. It is information, and (with --check) an exit status.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PASSWORD = "Load@2025-test"
PREFIX = "LOAD"


@dataclasses.dataclass
class Tally:
    requests: int = 0
    statuses: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    server_errors: int = 0  # 5xx other than 503
    html: int = 0
    connection_errors: int = 0
    latencies: list[float] = dataclasses.field(default_factory=list)
    acknowledged: dict[str, list[str]] = dataclasses.field(default_factory=lambda: collections.defaultdict(list))
    unanswered: int = 0  # writes given up after --retry-seconds
    last_error: str = ""
    sign_in_requests: int = 0  # made before the timed part (sign-in and first listing)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def record(self, response: requests.Response | None, elapsed: float) -> None:
        with self.lock:
            self.requests += 1
            if response is None:
                self.connection_errors += 1
                return
            self.latencies.append(elapsed)
            self.statuses[response.status_code] += 1
            if response.status_code >= 500 and response.status_code != 503:
                self.server_errors += 1
            if "html" in response.headers.get("Content-Type", "").lower():
                self.html += 1

    def ack(self, kind: str, token: str) -> None:
        with self.lock:
            self.acknowledged[kind].append(token)


def setup(database_url: str, clients: int) -> None:
    """Agencies LOAD-1…N under UBND-KD, an officer in each, four assignments each (idempotent)."""
    import datetime as dt

    from sqlalchemy import select

    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import Action, Assignment, Membership, Organization, Plan, TaskGroup, User
    from tracker.services.auth import hash_password

    app = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        parent = db.session.scalar(select(Organization).where(Organization.code == "UBND-KD"))
        plan = db.session.scalar(select(Plan).where(Plan.code == "KH-NQ57/HU"))
        group = db.session.scalar(select(TaskGroup).where(TaskGroup.plan_id == plan.id, TaskGroup.number == 2))
        password = hash_password(PASSWORD)
        actions = []
        for n in range(1, 5):
            ref = f"III.2.{90 + n}"
            action = db.session.scalar(select(Action).where(Action.plan_id == plan.id, Action.ref == ref))
            if action is None:
                action = Action(plan=plan, group=group, ref=ref, section="III", position=9000 + n, requires_evidence=False,
                                text=f"Nhiệm vụ thử tải {n}", title=f"Thử tải {n}", search_key=f"thu tai {n}")
                db.session.add(action)
            actions.append(action)
        for i in range(1, clients + 1):
            code = f"{PREFIX}-{i}"
            org = db.session.scalar(select(Organization).where(Organization.code == code))
            if org is None:
                org = Organization(code=code, name=f"Đơn vị thử tải {i}", kind="department", parent=parent, search_key=code.lower())
                db.session.add(org)
            username = f"load.officer.{i}"
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                user = User(username=username, password_hash=password, full_name=f"Cán bộ thử tải {i}", search_key=username)
                db.session.add_all([user, Membership(user=user, organization=org, role="officer")])
            db.session.flush()
            existing = set(db.session.scalars(select(Assignment.action_id).where(Assignment.organization_id == org.id)))
            for action in actions:
                if action.id not in existing:
                    db.session.add(Assignment(action=action, organization=org, role="lead", cycle=0, status="not_started",
                                              progress=0, due_date=dt.date(2027, 6, 30), original_due_date=dt.date(2027, 6, 30),
                                              assigned_on=dt.date(2025, 2, 25), search_key=""))
        db.session.commit()
        db.engine.dispose()


class Client:
    def __init__(self, url: str, number: int, tally: Tally, deadline: float, retry_seconds: float, seed: int, think: float = 0.0):
        self.url, self.number, self.tally, self.deadline, self.retry_seconds = url.rstrip("/"), number, tally, deadline, retry_seconds
        self.think = think
        self.random = random.Random(seed * 1000 + number)
        self.http = requests.Session()
        self.assignments: list[int] = []

    def call(self, method: str, path: str, *, retry: bool = False, **kwargs) -> requests.Response | None:
        """One request; a write (retry=True) is repeated, same key, until it is answered other than 5xx."""
        give_up = time.monotonic() + self.retry_seconds
        delay = 0.05
        while True:
            started = time.monotonic()
            try:
                response = self.http.request(method, self.url + path, timeout=30, **kwargs)
            except requests.RequestException as error:
                response = None
                with self.tally.lock:
                    self.tally.last_error = f"{type(error).__name__}: {error}"
            self.tally.record(response, time.monotonic() - started)
            if not retry or (response is not None and response.status_code < 500):
                return response
            if time.monotonic() > give_up:
                with self.tally.lock:
                    self.tally.unanswered += 1
                return response
            # Back off as the server asks (Retry-After), at most a second, with jitter so that the
            # clients do not all come back at once.
            retry_after = response.headers.get("Retry-After") if response is not None else None
            wait = min(float(retry_after), 1.0) if retry_after and retry_after.isdigit() else delay
            time.sleep(wait * self.random.uniform(0.5, 1.0))
            delay = min(delay * 2, 1.0)

    def sign_in(self) -> None:
        response = self.call("POST", "/api/v1/auth/login", retry=True,
                             json={"username": f"load.officer.{self.number}", "password": PASSWORD})
        if response is None or response.status_code != 200:
            raise RuntimeError(f"client {self.number} could not sign in: {response.status_code if response is not None else self.tally.last_error}")
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        listed = self.call("GET", "/api/v1/assignments?page_size=50", retry=True)
        self.assignments = [item["id"] for item in listed.json()]

    def write_headers(self, extra: dict | None = None) -> dict:
        return {"Idempotency-Key": str(uuid.uuid4()), **(extra or {})}

    def read(self) -> None:
        choice = self.random.random()
        if choice < 0.4:
            self.call("GET", "/api/v1/assignments?page_size=20")
        elif choice < 0.8:
            self.call("GET", f"/api/v1/assignments/{self.random.choice(self.assignments)}")
        else:
            self.call("GET", "/api/v1/reports/overdue?page_size=20")

    def note(self) -> None:
        target = self.random.choice(self.assignments)
        token = f"load-note-{uuid.uuid4().hex}"
        for _ in range(5):
            current = self.call("GET", f"/api/v1/assignments/{target}", retry=True)
            if current is None or current.status_code != 200:
                return
            response = self.call("PATCH", f"/api/v1/assignments/{target}", retry=True, json={"note": token},
                                 headers=self.write_headers({"If-Match": current.headers["ETag"]}))
            if response is not None and response.status_code == 200:
                self.tally.ack("note", token)
                return
            if response is None or response.status_code not in (412, 409):
                return

    def move(self) -> None:
        target = self.random.choice(self.assignments)
        current = self.call("GET", f"/api/v1/assignments/{target}", retry=True)
        if current is None or current.status_code != 200:
            return
        status = current.json()["status"]
        to = {"not_started": "in_progress", "in_progress": "blocked", "blocked": "in_progress"}.get(status)
        if to is None:
            return
        token = f"load-move-{uuid.uuid4().hex}"
        response = self.call("POST", f"/api/v1/assignments/{target}/transitions", retry=True, json={"to": to, "note": token},
                             headers=self.write_headers())
        if response is not None and response.status_code == 200:
            self.tally.ack("move", token)

    def upload(self) -> None:
        target = self.random.choice(self.assignments)
        content = f"Biên bản thử tải {uuid.uuid4().hex}\n".encode() * self.random.randint(1, 50)
        response = self.call("POST", f"/api/v1/assignments/{target}/evidence", retry=True, headers=self.write_headers(),
                             files={"file": ("bien-ban.txt", content, "text/plain")})
        if response is not None and response.status_code == 201:
            self.tally.ack("upload", hashlib.sha256(content).hexdigest())

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            choice = self.random.random()
            if choice < 0.55:
                self.read()
            elif choice < 0.75:
                self.note()
            elif choice < 0.92:
                self.move()
            else:
                self.upload()
            if self.think:
                time.sleep(self.random.uniform(0, 2 * self.think))  # a person reads the answer before the next step


def verify(database_url: str, tally: Tally) -> dict:
    """Each acknowledged write, looked up in the database: present exactly once?"""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        notes = collections.Counter(
            json.loads(value)["note"] if isinstance(value, str) else value["note"]
            for (value,) in connection.execute(text("SELECT new_value FROM assignment_event WHERE kind = 'note_changed'"))
        )
        moves = collections.Counter(note for (note,) in connection.execute(
            text("SELECT note FROM assignment_event WHERE kind = 'status_changed' AND note LIKE 'load-move-%'")))
        uploads = collections.Counter(sha for (sha,) in connection.execute(text("SELECT sha256 FROM evidence")))
    engine.dispose()
    found = {"note": notes, "move": moves, "upload": uploads}
    result = {}
    for kind, tokens in tally.acknowledged.items():
        counts = [found[kind][token] for token in tokens]
        result[kind] = {"acknowledged": len(tokens), "lost": sum(1 for c in counts if c == 0),
                        "doubled": sum(1 for c in counts if c > 1)}
    return result


def run(url: str, clients: int, seconds: float, *, retry_seconds: float = 30, seed: int = 1, think: float = 0.0,
        started: threading.Event | None = None) -> Tally:
    """Sign every client in first (argon2 makes sign-in deliberately slow), then run them all for
    `seconds`; `started` is set when the timed part begins."""
    tally = Tally()
    crew = [Client(url, n, tally, 0.0, retry_seconds, seed, think) for n in range(1, clients + 1)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(client.sign_in) for client in crew]:
            future.result()
        signed_in = tally.requests
        deadline = time.monotonic() + seconds
        for client in crew:
            client.deadline = deadline
        if started is not None:
            started.set()
        for future in [pool.submit(client.run) for client in crew]:
            future.result()
    tally.sign_in_requests = signed_in
    return tally


def summary(tally: Tally, writes: dict, seconds: float) -> dict:
    latencies = sorted(tally.latencies) or [0.0]
    return {
        "requests": tally.requests, "per_second": round((tally.requests - tally.sign_in_requests) / seconds, 1),
        "statuses": dict(sorted(tally.statuses.items())), "server_errors_not_503": tally.server_errors,
        "html_bodies": tally.html, "connection_errors": tally.connection_errors, "unanswered_writes": tally.unanswered, "last_connection_error": tally.last_error,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1 if len(latencies) > 1 else 0] * 1000, 1),
        "writes": writes,
        "lost": sum(w["lost"] for w in writes.values()), "doubled": sum(w["doubled"] for w in writes.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--retry-seconds", type=float, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--think", type=float, default=0.5, help="mean pause between a client's steps, seconds (0: none)")
    parser.add_argument("--no-setup", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 unless 0 non-503 5xx, 0 HTML, 0 lost, 0 doubled")
    args = parser.parse_args()
    if not args.no_setup:
        setup(args.database_url, args.clients)
    tally = run(args.url, args.clients, args.seconds, retry_seconds=args.retry_seconds, seed=args.seed, think=args.think)
    result = summary(tally, verify(args.database_url, tally), args.seconds)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    ok = result["server_errors_not_503"] == 0 and result["html_bodies"] == 0 and result["lost"] == 0 and result["doubled"] == 0
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
