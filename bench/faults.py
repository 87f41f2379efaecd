"""The load run of bench/load.py against gunicorn on a PostgreSQL cluster of its own, which is
restarted (`pg_ctl restart -m fast`) and then killed (`kill -9` of the postmaster, then started
again) while the clients work.

    python bench/faults.py --clients 100 --seconds 60 [--workers 4]

Prints the load summary (requests, answers by status, 5xx other than 503, HTML bodies, lost and
doubled acknowledged writes) and, for each fault, the seconds from the database accepting
connections again to the API answering `/readyz` with 200. tests/test_database_faults.py runs a
short version in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load  # noqa: E402
from bench.pgcluster import Cluster, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def prepare_database(url: str, clients: int) -> None:
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.cli import bundled_plan
    from tracker.extensions import db
    from tracker.services import demo, plan_import

    app = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1)})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        plan_import.import_plan(plan_import.validate_plan_file(plan_import.parse_plan_file(bundled_plan(), "yaml")))
        demo.ensure_demo_users()
        db.session.commit()
        db.engine.dispose()
    load.setup(url.replace("postgresql://", "postgresql+psycopg://", 1), clients)


def start_server(url: str, workers: int, evidence_dir: Path, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "TRACKER_ENV": "development", "EVIDENCE_DIR": str(evidence_dir),
           "LOG_LEVEL": "WARNING", "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(base + "/api/v1/readyz", timeout=1).status_code == 200:
                return server, base
        except requests.RequestException:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {Path(log.name).read_text()[-3000:]}")
        time.sleep(0.1)
    server.terminate()
    raise RuntimeError("gunicorn did not become ready")


def recovery_seconds(cluster: Cluster, base: str, limit: float = 60) -> float:
    """From the database accepting connections to the API answering readiness with 200."""
    while not cluster.accepting():
        time.sleep(0.01)
    accepted = time.monotonic()
    while time.monotonic() - accepted < limit:
        try:
            if requests.get(base + "/api/v1/readyz", timeout=2).status_code == 200:
                return time.monotonic() - accepted
        except requests.RequestException:
            pass
        time.sleep(0.01)
    return float("inf")


def fault_run(clients: int, seconds: float, *, workers: int = 4, faults: tuple[str, ...] = ("restart", "kill"),
              retry_seconds: float = 30, think: float = 0.5) -> dict:
    cluster = Cluster()
    server = log = None
    try:
        cluster.init()
        prepare_database(cluster.url, clients)
        log_path = Path(os.environ.get("FAULTS_SERVER_LOG") or cluster.root / "gunicorn.log")
        log = open(log_path, "w")  # noqa: SIM115 - closed in the finally below
        server, base = start_server(cluster.url, workers, cluster.root / "evidence", log)
        outcome: dict = {}
        begun = threading.Event()
        worker = threading.Thread(target=lambda: outcome.update(
            tally=load.run(base, clients, seconds, retry_seconds=retry_seconds, think=think, started=begun)))
        worker.start()
        if not begun.wait(timeout=600):
            raise RuntimeError("the clients did not sign in")
        started = time.monotonic()
        recoveries = {}
        for index, fault in enumerate(faults, start=1):
            time.sleep(max(0.0, started + seconds * index / (len(faults) + 1) - time.monotonic()))
            getattr(cluster, fault)()
            recoveries[fault] = round(recovery_seconds(cluster, base), 3)
        worker.join()
        tally = outcome["tally"]
        result = load.summary(tally, load.verify(cluster.url, tally), seconds)
        result["recovery_seconds"] = recoveries
        errors = [line for line in log_path.read_text(errors="replace").splitlines() if " ERROR " in line or "CRITICAL" in line]
        result["server_log_errors"] = {"count": len(errors), "first": errors[:5]}
        result["clients"], result["seconds"], result["workers"] = clients, seconds, workers
        return result
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if log is not None:
            log.close()
        cluster.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--faults", default="restart,kill", help="comma-separated: restart, kill (empty: none)")
    parser.add_argument("--think", type=float, default=0.5, help="mean pause between a client's steps, seconds")
    args = parser.parse_args()
    faults = tuple(f for f in args.faults.split(",") if f)
    result = fault_run(args.clients, args.seconds, workers=args.workers, faults=faults, think=args.think)
    result["think_seconds"] = args.think
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
