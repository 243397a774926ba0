"""Process packages: what one process needs beyond its BPMN, DMN and forms (processes/<key>/).

Each subpackage of webapp/processes holds one process's glue — its service-task operations, its
records (models and services), its pages, API routes and templates, checks of its task forms beyond
their JSON Schema (services/task_checks.py) — and exposes `PACKAGE`, a
ProcessPackage saying what to register. The app finds them by discovery: adding a process is
adding one package, with no edit to central files.

Layering: process packages use the core services (driver, audit, ERP services) and models; the
web layer (blueprints, CLI) uses them. A package's pages and routes are functions it registers on
the blueprint it is handed, so it imports no web-layer module.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class ProcessPackage:
    """What a process package contributes; every part is optional."""

    key: str
    models: ModuleType | None = None  # imported so its tables are part of the metadata
    register_operations: Callable[[Any], None] | None = None
    add_pages: Callable[[Any], None] | None = None  # called with the ERP blueprint (/erp)
    add_api: Callable[[Any], None] | None = None  # called with the API blueprint (/api/v1)
    openapi_paths: dict[str, Any] | None = None  # the OpenAPI path items of those routes
    templates: Path | None = None
    # {bpmn_id: check(submitted, task_data, instance) -> {field: message}}: record and time checks of
    # a task's form beyond its JSON Schema (services/task_checks.py), run at every completion
    task_checks: dict[str, Callable[..., dict[str, str]]] | None = None
    # Jobs of the scheduler's sweep and `traceflow timers notify` (e.g. overdue training reminders):
    # job(now=None) → how many notifications it queued.
    sweep_jobs: tuple[Callable[..., int], ...] = ()
    # Checks run before a task is claimed or completed: gate(actor, task properties, instance data)
    # raises a DomainError to refuse (e.g. training required on a document), else returns the
    # evidence to record with the completion (a list of dicts) or None.
    task_gates: tuple[Callable[[Any, dict[str, Any], dict[str, Any]], list[dict[str, Any]] | None], ...] = ()


@cache
def packages() -> tuple[ProcessPackage, ...]:
    """Every process package under webapp/processes, by name."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.ispkg:
            module = importlib.import_module(f"{__name__}.{info.name}")
            package = module.PACKAGE
            folder = Path(module.__file__).parent / "templates"
            if package.templates is None and folder.is_dir():
                package = ProcessPackage(**{**package.__dict__, "templates": folder})
            found.append(package)
    return tuple(found)


def task_gates() -> list[Callable[[Any, dict[str, Any], dict[str, Any]], list[dict[str, Any]] | None]]:
    """Every package's task gates (the app hands them to the task service)."""
    return [gate for p in packages() for gate in p.task_gates]


def sweep_jobs() -> list[Callable[..., int]]:
    """Every package's sweep jobs (the app hands them to the scheduler and the CLI)."""
    return [job for p in packages() for job in p.sweep_jobs]


def template_folders() -> list[Path]:
    """The template folders of the packages (for the app's Jinja loader)."""
    return [p.templates for p in packages() if p.templates is not None]
