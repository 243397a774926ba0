"""The Traceflow web application: create_app wires settings, extensions and blueprints."""

from pathlib import Path

from flask import Flask

from engine import Engine, OperationRegistry

from . import config as settings
from .extensions import csrf, db, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def create_app(config=None):
    """Build the app; `config` (a dict) overrides settings read from the environment."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    if "SQLALCHEMY_ENGINE_OPTIONS" not in app.config:  # for the database finally configured
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = settings.engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    from . import bounds

    bounds.init_app(app)  # the bounded `<int:…>` converter, before any route is added
    operations = OperationRegistry()
    from .operations import register as register_operations

    register_operations(operations)
    app.extensions["traceflow_operations"] = operations
    app.extensions["traceflow_engine"] = Engine(operations=operations)
    from .processes import packages, sweep_jobs, task_gates
    from .services import task_checks

    for package in packages():  # the process packages' checks of their task forms
        task_checks.register(app, package.key, package.task_checks or {})

    app.extensions["traceflow_task_gates"] = task_gates()  # checked by services/tasks before claim and completion
    app.extensions["traceflow_sweep_jobs"] = sweep_jobs()  # run by the scheduler's sweep and `timers notify`

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    from . import cli, http_errors, i18n, ops, security, templating
    from .services import messages  # noqa: F401 - registers message delivery after each committed step

    i18n.init_app(app)
    templating.init_app(app)
    security.init_app(app)
    ops.init_app(app)
    http_errors.init_app(app)
    cli.init_app(app)

    from .admin.routes import bp as admin_bp
    from .api import bp as api_bp
    from .audit_views.routes import bp as audit_bp
    from .auth.routes import bp as auth_bp
    from .main.routes import bp as main_bp
    from .processes_views.routes import bp as processes_bp

    app.register_blueprint(processes_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_bp)
    from .erp import bp as erp_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(erp_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    return app
