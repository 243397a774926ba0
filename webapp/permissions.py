"""Role-based access, decided in one place: every endpoint names one permission here, and the
policy in rules/access_policy.json says which roles hold it. security.py checks it before any view
runs. An endpoint missing from ENDPOINT_PERMISSIONS is refused to everyone (fail closed).
"""
from functools import lru_cache
from pathlib import Path
import json

from flask import current_app

ANY_USER = "*"

ENDPOINT_PERMISSIONS = {
    "auth.logout": "session.use",
    "auth.change_password": "session.use",
    "api.revoke_token": "session.use",
    "api.audit_verify": "audit.view",
    "main.cancel": "instance.cancel",
    "processes.definition": "process.view",
    "processes.version_diagram": "process.view",
    "processes.version_file": "process.view",
    "processes.version_diff": "process.view",
    "processes.diff_svg": "process.view",
    "processes.instance_diagram": "workflow.use",
    "processes.deployment_list": "process.view",
    "processes.upload": "process.deploy",
    "processes.decide": "process.approve",
    "processes.migration_list": "process.migrate",
    "processes.migrate": "process.migrate",
    "api.create_deployment": "process.deploy",
    "api.decide_deployment": "process.approve",
    "api.migrate_instance": "process.migrate",
    "api.cancel_instance": "instance.cancel",
    "audit.events": "audit.view",
    "audit.record": "audit.view",
    "audit.export_csv": "audit.view",
    "audit.export_pdf": "audit.view",
    "audit.instance_pdf": "workflow.use",
    "admin.user_list": "admin.users",
    "admin.user_new": "admin.users",
    "admin.user_edit": "admin.users",
    "main.inbox": "workflow.use",
    "main.processes": "workflow.use",
    "main.start": "workflow.use",
    "main.task": "workflow.use",
    "main.claim": "workflow.use",
    "main.unclaim": "workflow.use",
    "main.instance_list": "workflow.use",
    "main.instance": "workflow.use",
    "api.process_definitions": "workflow.use",
    "api.start_instance": "workflow.use",
    "api.get_instance": "workflow.use",
    "api.list_tasks": "workflow.use",
    "api.get_task": "workflow.use",
    "api.claim_task": "workflow.use",
    "api.unclaim_task": "workflow.use",
    "api.complete_task": "workflow.use",
}


@lru_cache(maxsize=8)
def _policy(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def policy():
    """The access policy of the running app (rules/access_policy.json)."""
    return _policy(str(Path(current_app.config["RULES_DIR"]) / "access_policy.json"))


def permission_for(endpoint):
    """The permission an endpoint requires, or None when it has none declared."""
    return ENDPOINT_PERMISSIONS.get(endpoint)


def has_permission(user, permission):
    """True when one of `user`'s roles holds `permission` (or the permission is open to all)."""
    roles = policy()["permissions"].get(permission) if permission else None
    if not roles:
        return False
    return ANY_USER in roles or bool(user.role_names & set(roles))


def may(permission):
    """Template helper: may the current user use `permission`?"""
    from flask import g
    user = getattr(g, "user", None)
    return user is not None and has_permission(user, permission)
