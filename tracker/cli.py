"""`flask tracker ...` commands."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import inspect, select

from tracker.domain.access import MemberRole
from tracker.errors import AppError, flatten_errors
from tracker.extensions import db
from tracker.models import Organization, User
from tracker.schemas.user import UserSchema
from tracker.jobs import reminders, webhooks, worker
from tracker.services import admin_units, auth, clock, demo, demo_reform, evidence, plan_import, tallies, users

DEMO_PLAN = "kim-dong-nq57.yaml"


def bundled_plan() -> bytes:
    return resources.files("tracker").joinpath("data", "plans", DEMO_PLAN).read_bytes()


def _run_import(raw: bytes, fmt: str, source: str) -> plan_import.ImportResult:
    try:
        doc = plan_import.validate_plan_file(plan_import.parse_plan_file(raw, fmt))
        result = plan_import.import_plan(doc)
        db.session.commit()
    except AppError as exc:
        db.session.rollback()
        lines = [f"{source}: {exc.detail} [{exc.code}]"]
        for path, messages in (exc.errors or {}).items():
            lines.extend(f"  {path}: {message}" for message in messages)
        raise click.ClickException("\n".join(lines)) from None
    except Exception:
        db.session.rollback()
        raise
    return result


@contextmanager
def _committing():
    """Commit what the block wrote; on a refusal roll back and say why in one line, without a traceback."""
    try:
        yield
        db.session.commit()
    except (AppError, admin_units.UnknownProvince) as exc:
        db.session.rollback()
        message = f"{exc.detail or exc.code} [{exc.code}]" if isinstance(exc, AppError) else str(exc)
        raise click.ClickException(message) from None
    except Exception:
        db.session.rollback()
        raise


def _report(result: plan_import.ImportResult) -> None:
    plan = result.plan
    click.echo(f"Kế hoạch {plan.code} ({plan.issue_date:%d/%m/%Y}) id={plan.id}: {result.plan_outcome}")
    for name in ("organizations", "groups", "actions", "indicators"):
        tally = getattr(result, name)
        click.echo(f"  {name}: {tally.created} created, {tally.updated} updated, {tally.unchanged} unchanged")
    click.echo(f"  assignments: {result.assignments['created']} created, {result.assignments['kept']} kept")
    if result.actions_not_in_file:
        click.echo(f"  kept, not in file: {', '.join(result.actions_not_in_file)}")
    if result.indicators_not_in_file:
        click.echo(f"  indicators kept, not in file: {', '.join(result.indicators_not_in_file)}")


def _require_schema() -> None:
    if not inspect(db.session.connection()).has_table("plan"):
        raise click.ClickException("The database has no tables yet: run `flask --app wsgi db upgrade` first.")


@click.group("tracker", cls=AppGroup, help="Tracker administration commands.")
def tracker_cli() -> None:
    pass


@tracker_cli.command("import-plan")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "yaml", "json"]), default="auto", show_default=True)
def import_plan_command(path: Path, fmt: str) -> None:
    """Import or update a plan from a tracker-plan/1 YAML or JSON file (all-or-nothing)."""
    _require_schema()
    if fmt == "auto":
        fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    _report(_run_import(path.read_bytes(), fmt, str(path)))


@tracker_cli.command("seed-demo")
@click.option("--demo-users/--no-demo-users", default=None, help="Create the demo users (default: yes, except in production).")
@click.option("--reform", is_flag=True, help="Then record the 1 July 2025 reform in the demo tree (as `demo-reform`).")
def seed_demo_command(demo_users: bool | None, reform: bool) -> None:
    """Load the Kim Động plan and demo data. Running it again changes nothing."""
    _require_schema()
    _report(_run_import(bundled_plan(), "yaml", DEMO_PLAN))
    if demo_users is None:
        demo_users = current_app.config["TRACKER_ENV"] != "production"
    if demo_users:
        created = demo.ensure_demo_users()
        db.session.commit()
        click.echo(f"  demo users: {created} created (password in README)")
    else:
        click.echo("  demo users: skipped in production (pass --demo-users to create them)")
    if reform:
        _run_reform(None)


@tracker_cli.command("create-user")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--org", "org_code", required=True, help="Organisation code, e.g. UBND-KD")
@click.option("--role", type=click.Choice([r.value for r in MemberRole]), required=True)
@click.option("--full-name", default=None)
@click.option("--phone", default=None)
@click.option("--email", default=None)
def create_user_command(username, password, org_code, role, full_name, phone, email) -> None:
    """Create a user with one membership."""
    _require_schema()
    org_id = db.session.scalar(select(Organization.id).where(Organization.code == org_code))
    if org_id is None:
        raise click.ClickException(f"No organisation with code {org_code}.")
    payload = {
        "username": username, "password": password, "full_name": full_name or username, "phone": phone, "email": email,
        "memberships": [{"organization_id": org_id, "role": role}],
    }
    errors = UserSchema().validate(payload)
    if errors:
        raise click.ClickException("\n".join(f"{path}: {'; '.join(msgs)}" for path, msgs in flatten_errors(errors).items()))
    try:
        user = users.create_user(payload)
        db.session.commit()
    except AppError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.detail} [{exc.code}]") from None
    click.echo(f"User {user.username} (id={user.id}) created: {role} of {org_code}")


@tracker_cli.command("purge-sessions")
@click.option("--older-than-days", type=click.IntRange(min=1), default=90, show_default=True)
def purge_sessions_command(older_than_days: int) -> None:
    """Delete sessions that are over, and sign-in records, older than this many days."""
    removed_sessions, removed_records = auth.purge(dt.timedelta(days=older_than_days))
    db.session.commit()
    click.echo(f"{removed_sessions} sessions and {removed_records} sign-in records removed")


@tracker_cli.command("evidence-check")
@click.option("--verify-hashes", is_flag=True, help="Re-read every stored blob and compare its SHA-256.")
@click.option("--repair", is_flag=True, help="Delete orphaned blobs and stale staging files.")
def evidence_check_command(verify_hashes: bool, repair: bool) -> None:
    """Compare evidence records with the store: missing objects, orphans, bad hashes."""
    report = evidence.check_store(verify_hashes=verify_hashes, repair=repair)
    for label, items in (("missing object (record without its file)", report.missing),
                         ("orphaned object (no record)", report.orphans),
                         ("bad hash", report.bad_hashes),
                         ("stale staging file", report.stale_staging),
                         ("repaired", report.repaired)):
        for item in items:
            click.echo(f"{label}: {item}")
    if not report.clean:
        raise click.ClickException("evidence store has problems" + ("" if repair else "; run with --repair to remove orphans"))
    click.echo("evidence store is consistent")


@tracker_cli.command("evidence-purge")
@click.option("--older-than-days", default=0, show_default=True, type=click.IntRange(min=0))
def evidence_purge_command(older_than_days: int) -> None:
    """Remove the content of withdrawn evidence (records and history stay)."""
    removed = evidence.purge_withdrawn(older_than_days)
    click.echo(f"{len(removed)} blobs removed")


@tracker_cli.command("recount")
@click.option("--check", is_flag=True, help="Only compare the tallies with a full count; exit 1 when they differ.")
def recount_command(check: bool) -> None:
    """Count the maintained assignment tallies again from the assignments (after writing to the
    database past the app, e.g. a bulk load in SQL), or check them."""
    _require_schema()
    if check:
        stored, counted = tallies.stored(), tallies.recount()
        wrong = {key for key in stored.keys() | counted.keys() if stored.get(key, 0) != counted.get(key, 0)}
        for key in sorted(wrong)[:20]:
            click.echo(f"{' '.join(map(str, key))}: stored {stored.get(key, 0)}, counted {counted.get(key, 0)}")
        if wrong:
            raise click.ClickException(f"{len(wrong)} tallies differ from a full count; run `flask tracker recount`")
        click.echo(f"tallies exact: {len(stored)} rows")
        return
    with _committing():
        tallies.rebuild()
    click.echo(f"tallies counted again: {len(tallies.stored())} rows")


@tracker_cli.command("worker")
@click.option("--once", is_flag=True, help="Run one round and stop.")
@click.option("--until-idle", is_flag=True, help="Run rounds until one finds nothing to do, then stop.")
@click.option("--poll-seconds", type=click.FloatRange(min=0.05), default=None,
              help="How long an idle worker waits (default: WORKER_POLL_SECONDS).")
def worker_command(once: bool, until_idle: bool, poll_seconds: float | None) -> None:
    """Run the worker: the daily reminders at REMINDER_TIME, mails and webhook deliveries from the
    outbox. Stops cleanly on SIGTERM or Ctrl-C after the round in hand."""
    _require_schema()
    mail_note = "" if current_app.config.get("SMTP_HOST") else " (SMTP_HOST is not set, so no mail is made or sent)"
    rounds = worker.run(poll_seconds if poll_seconds is not None else current_app.config["WORKER_POLL_SECONDS"],
                        once=once, until_idle=until_idle, on_start=lambda: click.echo(f"worker started{mail_note}", err=True))
    click.echo(f"worker stopped after {rounds} round(s)")


@tracker_cli.command("send-reminders")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"]), default=None,
              help="The day whose digests to make (default: today); made once per day.")
def send_reminders_command(day: dt.datetime | None) -> None:
    """Make a day's reminder digests now (the worker does it daily at REMINDER_TIME); the worker sends them."""
    _require_schema()
    with _committing():
        made = reminders.make_digests(day.date() if day else clock.today())
    click.echo(f"{made} digest(s) written to the outbox")


@tracker_cli.command("import-admin-units")
@click.option("--province", "province_name", required=True, help='A province since 1 July 2025, e.g. "Hưng Yên".')
@click.option("--parent", "parent_code", default=None, help="Organisation code to put the province under (default: a root).")
@click.option("--show-former", is_flag=True, help="List, for each commune, the pre-2025 units it was formed from.")
def import_admin_units_command(province_name: str, parent_code: str | None, show_former: bool) -> None:
    """Import a province and its communes and wards (official list since 1 July 2025). Running it again changes nothing."""
    _require_schema()
    with _committing():
        result = admin_units.import_admin_units(province_name, parent_code=parent_code)
    province = result.province
    kinds = {kind: sum(1 for u in result.units[1:] if u.kind == kind) for kind in ("commune", "ward", "special_zone")}
    click.echo(f"{province.name} (mã {province.code}, {admin_units.org_code(province)}): {result.total} units "
               f"(1 province, {kinds['commune']} xã, {kinds['ward']} phường, {kinds['special_zone']} đặc khu)")
    click.echo(f"  {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
               + (f", {result.reorganised} kept as reorganised" if result.reorganised else ""))
    if show_former:
        for unit in result.units[1:]:
            org = result.organizations[unit.code]
            click.echo(f"  {org.code} {unit.name} [{result.outcomes[unit.code]}] <- formed from:")
            for old in result.former.get(unit.code, []):
                click.echo(f"      {admin_units.describe_former(old)}")


def _run_reform(actor_username: str | None) -> None:
    actor_id = None
    if actor_username is not None:
        actor_id = db.session.scalar(select(User.id).where(User.username == actor_username))
        if actor_id is None:
            raise click.ClickException(f"No user {actor_username}.")
    with _committing():
        outcome = demo_reform.apply_kim_dong_reform(actor_id)
    if not outcome["applied"]:
        click.echo(f"  reform: already recorded ({outcome['district']} closed on {outcome['closed_on']:%d/%m/%Y}); nothing changed")
        return
    units = outcome["admin_units"]
    click.echo(f"  reform effective {outcome['effective_on']:%d/%m/%Y} ({outcome['decision']})")
    click.echo(f"    {units['province']['name']}: {units['total']} administrative units "
               f"({units['created']} created, {units['updated']} updated, {units['unchanged']} unchanged)")
    click.echo(f"    new units of the former district: {', '.join(u['code'] + ' ' + u['name'] for u in outcome['new_units'])}")
    for item in outcome["merged"]:
        click.echo(f"    merged: {item['code']} -> {item['into']}")
    for item in outcome["split"]:
        click.echo(f"    closed 30/06/2025, split: {item['code']} -> {len(item['into'])} units, open work to {item['open_work_to']}")
    click.echo(f"    {len(outcome['reorganization_ids'])} reorganisations; assignments: {outcome['transferred']} transferred, "
               f"{outcome['superseded']} superseded (successor already has that year's duty), {outcome['cancelled']} cancelled; "
               f"{outcome['memberships_moved']} memberships moved")


@tracker_cli.command("demo-reform")
@click.option("--actor", "actor_username", default=None, help="Record the reorganisations as done by this user (default: none, the system).")
def demo_reform_command(actor_username: str | None) -> None:
    """Record the 1 July 2025 reform in the Kim Động demo: district bodies close, work passes to the new communes."""
    _require_schema()
    _run_reform(actor_username)


@tracker_cli.command("deliver-webhooks")
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=50, show_default=True, help="At most this many deliveries.")
def deliver_webhooks_command(limit: int) -> None:
    """Send the webhook deliveries that are due, once (the worker does it in its loop)."""
    _require_schema()
    click.echo(f"{webhooks.deliver_due(limit=limit)} webhook deliveries attempted")


def init_app(app: Flask) -> None:
    app.cli.add_command(tracker_cli)
