"""The `traceflow` command: a Flask CLI group (init, deploy, create-user, demo, serve, trace, import)."""

import getpass
import json
import os
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from engine import ProcessBundle


def init_app(app):
    """Register the commands on the app's CLI."""
    for command in (
        init_command,
        deploy_command,
        create_user_command,
        demo_command,
        serve_command,
        worker_command,
        backup_command,
        restore_command,
        audit_group,
        validation_report_command,
        validate_command,
        trace_command,
        import_command,
        timers_group,
    ):
        app.cli.add_command(command)


def upgrade_schema():
    """Create or upgrade the database schema through the migrations."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)


@click.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the database schema and the access policy's roles."""
    from .permissions import policy
    from .services.users import create_policy_roles

    upgrade_schema()
    created = create_policy_roles(policy()["roles"])
    click.echo(f"schema ready: {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    if created:
        click.echo(f"roles created: {', '.join(created)}")


def shipped_folders(processes_dir, rules_dir, forms_dir):
    """The folders of the shipped processes: one per process under `processes_dir` (its BPMN, DMN and
    forms), then the shared rules and forms."""
    own = sorted(p for p in Path(processes_dir).iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    return [*own, Path(rules_dir), Path(forms_dir)]


def _bundle(paths):
    """The bundle in `paths` (folders, files or zip archives), or the configured process folders."""
    config = current_app.config
    folders = [Path(p) for p in paths] or shipped_folders(
        config["PROCESSES_DIR"], config["RULES_DIR"], config["FORMS_DIR"]
    )
    uploads = []
    for folder in folders:
        for path in sorted(folder.glob("*")) if folder.is_dir() else [folder]:
            if path.is_file():
                uploads.append((path.name, path.read_bytes()))
    return ProcessBundle.from_uploads(uploads)


def deploy_paths(paths, comment=""):
    """Deploy the BPMN/DMN/form files in `paths` (folders, files or zips); return the outcome."""
    from .services.deployments import deploy_bundle

    return deploy_bundle(_bundle(paths), comment=comment)


def _print_rows(rows, prefix, err=True):
    for row in rows:
        where = ":".join(str(x) for x in (row.get("file") or "-", row.get("line") or "") if x != "")
        click.echo(f"{prefix} {where} {row.get('element') or ''} {row['message']}".replace("  ", " "), err=err)


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@with_appcontext
def validate_command(paths):
    """Validate BPMN/DMN/form files (or zips) as a deployment would; exit 1 on errors."""
    from engine import BundleError

    from .services.deployments import validate

    try:
        report = validate(_bundle(paths))
    except BundleError as exc:
        _print_rows(exc.problems, "error")
        raise SystemExit(1) from None
    _print_rows(report.errors, "error")
    _print_rows(report.warnings, "warning")
    for process in report.processes:
        click.echo(f"ok {process.key} {process.content_hash[:12]}")
    if report.errors:
        raise SystemExit(1)


@click.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--comment", default="", help="Why this version is deployed.")
@with_appcontext
def deploy_command(paths, comment):
    """Deploy processes/, rules/ and forms/ (or PATHS): new versions only where content changed."""
    from engine import BundleError

    from .errors import DeploymentInvalid

    try:
        outcome = deploy_paths(paths, comment)
    except BundleError as exc:
        _print_rows(exc.problems, "error")
        raise click.ClickException("the bundle is invalid; nothing was deployed") from None
    except DeploymentInvalid as exc:
        _print_rows(exc.errors["errors"], "error")
        raise click.ClickException(exc.message) from None
    _print_rows(outcome.warnings, "warning")
    for r in outcome:
        click.echo(
            f"{r.key} v{r.version} {'deployed' if r.created else 'unchanged'} {r.content_hash[:12]}"
            f"{' (pending QA approval)' if r.created and outcome.status == 'pending' else ''}"
        )


@click.command("create-user")
@click.argument("username")
@click.option("--password", required=True, help="At least 10 characters, hard to guess, not containing the username.")
@click.option("--role", "roles", multiple=True, help="A role name; repeat for several.")
@click.option("--name", "full_name", default="", help="The full (printed) name.")
@with_appcontext
def create_user_command(username, password, roles, full_name):
    """Create a user with roles (any role name; new roles are created)."""
    from .errors import InvalidInput
    from .services.users import create_user

    try:
        user = create_user(username, password, roles, full_name)
    except InvalidInput as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created {user.username} ({', '.join(sorted(user.role_names)) or 'no roles'})")


@click.command("demo")
@with_appcontext
def demo_command():
    """Load demo users (one per role) and a few change-control instances; print the logins."""
    from .demo import load_demo

    for username, password, roles in load_demo():
        click.echo(f"  {username:<12} {password:<16} {', '.join(roles)}")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="worker processes (default: CPU count)")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="threads per worker")
@click.option(
    "--server",
    type=click.Choice(["auto", "gunicorn", "waitress"]),
    default="auto",
    show_default=True,
    help="gunicorn (N processes, Linux/macOS); waitress (one process, threads) where gunicorn cannot run",
)
@click.option("--scheduler/--no-scheduler", default=True, help="run the background sweep in the app processes")
@click.option("--scheduler-seconds", type=click.FloatRange(0.2, 3600), default=30, show_default=True)
@with_appcontext
def serve_command(host, port, workers, threads, server, scheduler, scheduler_seconds):
    """Serve the app: N stateless worker processes (gunicorn), or one waitress process."""
    from .serving import ServeOptions, serve

    options = ServeOptions(host, port, workers, threads, server, scheduler, scheduler_seconds)
    serve(current_app._get_current_object(), options, echo=click.echo)


@click.command("worker")
@click.option("--scheduler-seconds", type=click.FloatRange(0.2, 3600), default=30, show_default=True)
@with_appcontext
def worker_command(scheduler_seconds):
    """Run only the background work (timers, messages, reminders, mail, certificate check), no HTTP:
    as many as you like, on any machine sharing the database; each job runs once."""
    from .ops import logs
    from .services.scheduler import run_worker

    logs.configure(os.environ.get("TRACEFLOW_LOG_FORMAT", "json"))
    click.echo(f"Traceflow worker: background sweep every {scheduler_seconds:g} s")
    run_worker(current_app._get_current_object(), seconds=scheduler_seconds)


def _file_store(app):
    """The attachment store folder (content-addressed files), part of every backup."""
    return Path(app.config.get("FILE_STORE_DIR") or Path(app.instance_path) / "files")


@click.command("backup")
@click.argument("archive", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(archive):
    """Back up the database and the file store into one .tar.gz (default: instance/backups/…);
    safe while the app runs (SQLite online backup, pg_dump snapshot)."""
    from datetime import datetime

    from .services.backup import backup

    app = current_app._get_current_object()
    archive = archive or Path(app.instance_path) / "backups" / f"traceflow-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar.gz"
    manifest = backup(app.config["SQLALCHEMY_DATABASE_URI"], archive, _file_store(app))
    rows = sum(manifest["counts"].values())
    click.echo(
        f"backup written: {archive} ({manifest['backend']}, {rows} rows, revision {','.join(manifest['revision'])})"
    )


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="replace the current database without asking")
@with_appcontext
def restore_command(archive, yes):
    """Replace the database (and merge the file store) with a backup, then prove the result: the same
    rows per table as when it was taken and an intact audit chain; exit code 1 when not. Stop the app
    processes first."""
    from .errors import InvalidInput
    from .services.backup import restore

    app = current_app._get_current_object()
    if not yes:
        click.confirm(f"Replace the database {app.config['SQLALCHEMY_DATABASE_URI']} with {archive}?", abort=True)
    try:
        report = restore(app.config["SQLALCHEMY_DATABASE_URI"], archive, _file_store(app))
    except InvalidInput as exc:
        raise click.ClickException(exc.message) from None
    taken = report.manifest["created_at"]
    click.echo(f"restored the backup of {taken}: {sum(report.counts.values())} rows in {len(report.counts)} tables")
    for name, (expected, found) in report.mismatched.items():
        click.echo(f"  {name}: {found} rows, the backup counted {expected}", err=True)
    click.echo("audit trail intact" if report.audit_intact else "AUDIT TRAIL NOT INTACT: run traceflow audit verify")
    if not report.ok:
        raise SystemExit(1)


@click.group("audit")
def audit_group():
    """The audit trail."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command():
    """Verify the hash chain of the audit trail against its checkpoint; exit code 1 when it was
    tampered with (events edited, removed, reordered or cut off the end)."""
    from .services.audit import verify_chain

    report = verify_chain()
    anchor = report.checkpoint
    if report.intact:
        click.echo(
            f"audit trail intact: {report.events} events; checkpoint seq {anchor['seq']}, "
            f"{anchor['events']} events, hash {anchor['hash']}, at {anchor['at']}"
        )
        return
    where = f" at event seq {report.first_bad_seq}" if report.first_bad_seq is not None else ""
    which = f" (id {report.first_bad_id})" if report.first_bad_id is not None else ""
    click.echo(f"audit trail TAMPERED{where}{which}: {report.problem}", err=True)
    raise SystemExit(1)


@click.command("validation-report")
@click.option("--output", default=None, help="HTML file to write (default instance/validation-report.html).")
@click.option("--results", default=None, help="JUnit XML of the last test run (default instance/test-results.xml).")
@with_appcontext
def validation_report_command(output, results):
    """Write the traceability matrix: Part 11 / GSP requirement → features → tests and their last result."""
    from .models._types import utcnow
    from .reports.validation import build_rows, render_html

    instance = Path(current_app.instance_path)
    results = results or str(instance / "test-results.xml")
    output = Path(output or instance / "validation-report.html")
    rows = build_rows(Path(current_app.config["RULES_DIR"]) / "validation_matrix.json", results)
    output.write_text(render_html(rows, utcnow(), results), encoding="utf-8")
    summary = ", ".join(
        f"{s}: {sum(r.status == s for r in rows)}" for s in ("passed", "failed", "incomplete", "not covered")
    )
    click.echo(f"validation report written to {output} ({summary})")


@dataclass(frozen=True)
class CliActor:
    """Who acts from the command line: no account, the operating-system user is recorded."""

    id: None = None
    username: str = ""


def cli_actor():
    """The actor recorded in the audit trail for a CLI command."""
    return CliActor(username=f"cli:{getpass.getuser()}")


@click.command("trace")
@click.argument("material")
@click.argument("lot")
@click.option("--direction", type=click.Choice(["forward", "backward"]), default="forward", show_default=True)
@click.option("--format", "output", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@with_appcontext
def trace_command(material, lot, direction, output):
    """Trace LOT of MATERIAL: lots, shipments, customers, stock and suppliers."""
    from .errors import DomainError
    from .services.erp import trace, trace_export

    try:
        result = trace.trace(material, lot, direction)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    if output == "json":
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    elif output == "csv":
        click.echo(trace_export.to_csv(result).lstrip("\ufeff"), nl=False)
    else:
        click.echo(trace_export.to_tables(result))


@click.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@with_appcontext
def import_command(folder):
    """Import the CSV files in FOLDER (materials, suppliers, customers, locations, lots, movements), all or nothing."""
    from .errors import ImportRejected
    from .services.erp.imports import import_files

    files = {path.name: path.read_bytes() for path in sorted(Path(folder).glob("*.csv"))}
    if not files:
        raise click.ClickException(f"no CSV files in {folder}")
    try:
        counts = import_files(cli_actor(), files)
    except ImportRejected as exc:
        for row in exc.errors["rows"]:
            click.echo(f"{row['file']}:{row['row']}:{row['column']}: {row['reason']}", err=True)
        raise click.ClickException(exc.message) from None
    for name, count in counts.items():
        click.echo(f"{name}: {count} rows imported")


@click.group("timers")
def timers_group():
    """BPMN timers."""


@timers_group.command("run-due")
@click.option("--now", "now_text", default=None, help="Fire everything due at this ISO-8601 instant (default: now).")
@with_appcontext
def timers_run_due_command(now_text):
    """Fire the timers that are due (for cron, catching up after an outage, drills)."""
    from datetime import datetime

    from .services.timers import run_due

    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter("use ISO 8601, e.g. 2027-02-20T08:00:00+08:00", param_hint="--now") from None
        now = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)
    woken = run_due(now)
    click.echo(f"woke {len(woken)} instance(s){': ' + ', '.join(map(str, woken)) if woken else ''}")


@timers_group.command("notify")
@with_appcontext
def timers_notify_command():
    """Queue due-soon/overdue reminders and send pending notifications (SMTP or log)."""
    from .services.notifications import remind_due, send_pending

    queued = remind_due()
    for job in current_app.extensions.get("traceflow_sweep_jobs", ()):  # e.g. overdue training
        queued += job()
    click.echo(f"queued {queued} reminder(s), sent {send_pending()} notification(s)")


@timers_group.command("certificates")
@click.option("--today", default=None, help="Check as of this date (YYYY-MM-DD; default: today).")
@with_appcontext
def timers_certificates_command(today):
    """The daily supplier-certificate check: warnings at 90/60/30 days, block and re-qualify on expiry."""
    from datetime import date

    from .services.certificates import check_certificates

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--today") from None
    result = check_certificates(day)
    requalified = ", ".join(
        f"{code} {outcome} {detail}" for code, (outcome, detail) in result["requalification"].items()
    )
    click.echo(
        f"warned: {', '.join(result['warned']) or '-'}; blocked: {', '.join(result['blocked']) or '-'}; "
        f"re-qualification: {requalified or '-'}"
    )
