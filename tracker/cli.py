"""`flask tracker ...` commands."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import inspect

from tracker.errors import AppError
from tracker.extensions import db
from tracker.services import plan_import

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


def _report(result: plan_import.ImportResult) -> None:
    plan = result.plan
    click.echo(f"Kế hoạch {plan.code} ({plan.issue_date:%d/%m/%Y}) id={plan.id}: {result.plan_outcome}")
    for name in ("organizations", "groups", "actions"):
        tally = getattr(result, name)
        click.echo(f"  {name}: {tally.created} created, {tally.updated} updated, {tally.unchanged} unchanged")
    click.echo(f"  assignments: {result.assignments['created']} created, {result.assignments['kept']} kept")
    if result.actions_not_in_file:
        click.echo(f"  kept, not in file: {', '.join(result.actions_not_in_file)}")


def _require_schema() -> None:
    if not inspect(db.engine).has_table("plan"):
        raise click.ClickException("The database has no tables yet: run `flask --app wsgi db upgrade` first.")


@click.group("tracker", help="Tracker administration commands.")
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
def seed_demo_command() -> None:
    """Load the Kim Động plan and demo data. Running it again changes nothing."""
    _require_schema()
    _report(_run_import(bundled_plan(), "yaml", DEMO_PLAN))


def init_app(app: Flask) -> None:
    app.cli.add_command(tracker_cli)
