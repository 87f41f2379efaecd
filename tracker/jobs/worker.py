"""The worker (`flask tracker worker`): work done outside requests, from the outbox in the database.

Each round makes the day's digests once it is time (tracker.jobs.reminders.run_daily) and
sends what is due (mails; webhook deliveries). Several workers may run against PostgreSQL: each
claims its rows with FOR UPDATE SKIP LOCKED and the daily job has a unique row per day, so nothing
is done twice. On SQLite run one worker."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable

from sqlalchemy.exc import OperationalError

from tracker.extensions import db
from tracker.jobs import mail, reminders, webhooks
from tracker.services import clock

log = logging.getLogger("tracker.worker")


def run_once(now: dt.datetime | None = None) -> dict[str, int]:
    """One round; what it did, by kind."""
    now = now or clock.now()
    done = {"digests": reminders.run_daily(now) or 0}
    done.update({f"mail_{key}": value for key, value in mail.send_due(now).items()})
    done["webhooks"] = webhooks.deliver_due(now)
    return done


def busy(done: dict[str, int]) -> bool:
    """Whether a round did anything that may leave more to do at once."""
    return any(value for key, value in done.items() if key in ("mail_sent", "digests", "webhooks"))


def run(poll_seconds: float, *, once: bool = False, until_idle: bool = False,
        stop: threading.Event | None = None, round_: Callable[[], dict[str, int]] = run_once,
        on_start: Callable[[], None] | None = None) -> int:
    """Run rounds until stopped (SIGTERM, SIGINT, `stop`), after one round (`once`), or after the
    first round with nothing to do (`until_idle`); how many rounds ran. `on_start` is called once
    the signals are handled. A round that fails (the
    database restarting, say) is logged, and the next one comes after the usual wait."""
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    if on_start is not None:
        on_start()  # the signals are ours from here on
    try:
        return _rounds(poll_seconds, once, until_idle, stop, round_)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _rounds(poll_seconds: float, once: bool, until_idle: bool, stop: threading.Event,
            round_: Callable[[], dict[str, int]]) -> int:
    rounds = 0
    while not stop.is_set():
        rounds += 1
        try:
            done = round_()
        except OperationalError as exc:
            db.session.rollback()
            log.warning("worker round failed, the database is unavailable: %s", exc.orig if hasattr(exc, "orig") else exc)
            done = {}
        finally:
            db.session.remove()
        if done and busy(done):
            log.info("worker round: %s", done)
        if once or (until_idle and not busy(done)):
            break
        if not busy(done):
            stop.wait(poll_seconds)
    return rounds
