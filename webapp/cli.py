"""The `traceflow` command: a Flask CLI group (init, deploy, create-user, demo, serve, trace, import)."""
from dataclasses import dataclass
from pathlib import Path
import getpass
import json

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from engine import ProcessBundle


def init_app(app):
    """Register the commands on the app's CLI."""
    for command in (init_command, deploy_command, create_user_command, demo_command, serve_command, trace_command,
                    import_command):
        app.cli.add_command(command)


def _create_app():
    from . import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main():
    """Traceflow: compliance processes on BPMN."""


def upgrade_schema():
    """Create or upgrade the database schema through the migrations."""
    from flask_migrate import upgrade
    upgrade(directory=current_app.extensions["migrate"].directory)


@click.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the database schema."""
    upgrade_schema()
    click.echo(f"schema ready: {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")


def deploy_paths(paths, comment=""):
    """Deploy the BPMN/DMN/form files in `paths` (folders or files); return the results."""
    from .services.deployments import deploy_bundle
    folders = [Path(p) for p in paths] or [Path(current_app.config[k]) for k in ("PROCESSES_DIR", "RULES_DIR",
                                                                                 "FORMS_DIR")]
    return deploy_bundle(ProcessBundle.from_paths(*folders), comment=comment)


@click.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--comment", default="", help="Why this version is deployed.")
@with_appcontext
def deploy_command(paths, comment):
    """Deploy processes/, rules/ and forms/ (or PATHS): new versions only where content changed."""
    from .errors import DeploymentInvalid
    try:
        results = deploy_paths(paths, comment)
    except DeploymentInvalid as exc:
        for row in exc.errors["errors"]:
            click.echo(f"{row['file']}:{row.get('line') or ''} {row.get('element') or ''} {row['message']}", err=True)
        raise click.ClickException(exc.message)
    for r in results:
        click.echo(f"{r.key} v{r.version} {'deployed' if r.created else 'unchanged'} {r.content_hash[:12]}")


@click.command("create-user")
@click.argument("username")
@click.option("--password", required=True, help="At least 10 characters.")
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
        raise click.ClickException(exc.message)
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
@with_appcontext
def serve_command(host, port):
    """Serve the app with waitress."""
    from waitress import serve
    click.echo(f"Traceflow on http://{host}:{port}/")
    serve(current_app._get_current_object(), host=host, port=port, threads=8)


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
        raise click.ClickException(exc.message)
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
        raise click.ClickException(exc.message)
    for name, count in counts.items():
        click.echo(f"{name}: {count} rows imported")
