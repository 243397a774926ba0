"""The `traceflow` command: the app's CLI group. Its commands live in webapp/cli.py, which
create_app registers; this module only builds the app for the command line."""

import click
from flask.cli import FlaskGroup

from . import create_app


def _create_app():
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main():
    """Traceflow: compliance processes on BPMN."""
