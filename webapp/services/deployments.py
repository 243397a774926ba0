"""Deploying process bundles as new immutable versions, with QA approval when configured.

A deployment validates the whole bundle (engine.validate_bundle) against what is already deployed;
any error deploys nothing. New content becomes a new version per process key; identical content
creates none. With DEPLOYMENT_APPROVAL on, new versions wait as `pending` until QA signs the
deployment (approved, by someone other than the deployer); only `active` versions start instances.
"""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from engine import BundleError, ProcessBundle, SourceFile, VersionRef, validate_bundle

from ..errors import Conflict, DeploymentInvalid, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..models import Deployment, ProcessFile, ProcessVersion, Role
from ..models._types import utcnow
from . import audit, signatures
from .uow import transaction
from .users import ensure_roles


@dataclass(frozen=True)
class DeployResult:
    """What one process of a deployment became: its key, version and whether it is new."""

    key: str
    version: int
    content_hash: str
    created: bool


@dataclass(frozen=True)
class DeploymentOutcome:
    """A stored deployment: its id, status, per-process results and validation warnings."""

    id: int
    status: str
    results: tuple
    warnings: tuple

    def __iter__(self):
        return iter(self.results)

    def __len__(self):
        return len(self.results)

    def __getitem__(self, index):
        return self.results[index]


def deployed_library():
    """The files of the newest active version of every process: what references may resolve to."""
    files = {}
    for version in db.session.scalars(
        select(ProcessVersion)
        .where(ProcessVersion.status == "active")
        .order_by(ProcessVersion.key, ProcessVersion.version)
    ):
        for f in version.files:
            files[f.name] = SourceFile(f.name, f.text)
    return ProcessBundle(files.values())


def validate(bundle):
    """The full validation report of `bundle` against the deployed library, operations and roles."""
    roles = set(db.session.scalars(select(Role.name)))
    registry = current_app.extensions.get("traceflow_operations")
    return validate_bundle(bundle, deployed_library(), registry.definitions() if registry else {}, roles)


def deploy_bundle(bundle, actor=None, comment=""):
    """Validate `bundle` and store a new version of each process whose content changed."""
    report = validate(bundle)
    if report.errors:
        raise DeploymentInvalid(
            "the bundle is invalid; nothing was deployed",
            {"errors": list(report.errors), "warnings": list(report.warnings)},
        )
    approval = current_app.config.get("DEPLOYMENT_APPROVAL", False)
    with transaction() as session:
        deployment = Deployment(
            comment=comment or "",
            deployed_by_id=getattr(actor, "id", None),
            status="active",
            warnings=list(report.warnings),
        )
        session.add(deployment)
        session.flush()
        results = [_store(session, deployment, p, actor, comment, approval) for p in report.processes]
        if approval and any(r.created for r in results):
            deployment.status = "pending"
        audit.record(
            actor,
            "process.deploy",
            "deployment",
            deployment.id,
            reason=comment or None,
            after={
                "status": deployment.status,
                "warnings": len(report.warnings),
                "processes": [{"key": r.key, "version": r.version, "new": r.created} for r in results],
            },
        )
    return DeploymentOutcome(deployment.id, deployment.status, tuple(results), tuple(report.warnings))


def deploy_uploads(uploads, actor, comment=""):
    """Deploy uploaded files or zip archives (see ProcessBundle.from_uploads)."""
    try:
        bundle = ProcessBundle.from_uploads(uploads)
    except BundleError as exc:
        raise DeploymentInvalid("the upload is invalid; nothing was deployed", {"errors": exc.problems}) from None
    return deploy_bundle(bundle, actor, comment)


def _store(session, deployment, process, actor, comment, approval):
    same = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.key == process.key, ProcessVersion.content_hash == process.content_hash
        )
    )
    if same is not None:
        return DeployResult(process.key, same.version, same.content_hash, False)
    latest = session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.key == process.key))
    ensure_roles(set(process.roles) | set(process.start_roles))
    version = ProcessVersion(
        key=process.key,
        version=(latest or 0) + 1,
        name=process.name,
        content_hash=process.content_hash,
        spec_json=process.spec_json,
        start_roles=list(process.start_roles),
        business_key_prefix=process.business_key_prefix,
        start_messages=list(process.start_messages),
        comment=comment or "",
        deployed_by_id=getattr(actor, "id", None),
        deployment_id=deployment.id,
        status="pending" if approval else "active",
        files=[ProcessFile(name=f.name, kind=f.kind, text=f.text) for f in process.files],
    )
    session.add(version)
    session.flush()
    audit.record(
        actor,
        "process.version_create",
        "process_version",
        version.id,
        after={
            "key": version.key,
            "version": version.version,
            "content_hash": version.content_hash,
            "status": version.status,
            "files": [f.name for f in process.files],
        },
        reason=comment or None,
    )
    return DeployResult(process.key, version.version, version.content_hash, True)


def get_deployment(deployment_id):
    """The deployment with `deployment_id`; NotFound otherwise."""
    deployment = db.session.get(Deployment, deployment_id)
    if deployment is None:
        raise NotFound(f"no deployment {deployment_id}")
    return deployment


def approval_content(deployment):
    """What a deployment approval signs: the deployment and the hash of every version it activates."""
    return {
        "deployment": deployment.id,
        "comment": deployment.comment,
        "versions": [{"key": v.key, "version": v.version, "content_hash": v.content_hash} for v in deployment.versions],
    }


def decide_deployment(actor, deployment_id, approve, signature=None, reason=""):
    """QA approves (signed, 'approved') or rejects (with a reason) a pending deployment."""
    from .users import reauthenticate

    deployment = get_deployment(deployment_id)
    if deployment.status != "pending":
        raise Conflict(f"the deployment is {deployment.status}")
    if deployment.deployed_by_id == actor.id:
        raise PermissionDenied("segregation of duties: the deployer may not approve their own deployment")
    if approve:
        signatures.check_request(signatures.Requirement("approved"), signature)
        reauthenticate(actor, signature["password"], signature.get("username"))
    elif not (reason or "").strip():
        raise InvalidInput("a reason is required to reject a deployment", {"reason": "required"})
    with transaction() as session:
        deployment = session.get(Deployment, deployment_id)
        status = "active" if approve else "rejected"
        deployment.status, deployment.decided_by_id, deployment.decided_at = status, actor.id, utcnow()
        for version in deployment.versions:
            version.status = status
        if approve:
            signatures.sign_record(
                session, actor, "deployment", deployment.id, "approved", approval_content(deployment)
            )
        audit.record(
            actor,
            "process.deploy_approved" if approve else "process.deploy_rejected",
            "deployment",
            deployment.id,
            before={"status": "pending"},
            after={"status": status},
            reason=reason.strip() or None,
        )
    return deployment


def latest_version(key):
    """The newest active version of process `key`; NotFound if there is none."""
    version = db.session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.key == key, ProcessVersion.status == "active")
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(f"no active process {key}")
    return version


def get_version(key, number):
    """Version `number` of process `key`; NotFound otherwise."""
    version = db.session.scalar(
        select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.version == number)
    )
    if version is None:
        raise NotFound(f"no version {number} of {key}")
    return version


_REFS = {}


def version_ref(version):
    """The engine's view of a stored version; versions are immutable, so it is built once per
    (id, content hash) and process, without reloading the spec and files on every task."""
    key = (version.id, version.content_hash)
    ref = _REFS.get(key)
    if ref is None:
        ref = _REFS[key] = VersionRef(version.content_hash, version.spec_json, version.file_texts)
    return ref


_MESSAGE_USE = {}


def uses_messages(version):
    """True when the version's process (or a called one) has message or signal events; instances of
    other processes skip message bookkeeping entirely."""
    key = (version.id, version.content_hash)
    if key not in _MESSAGE_USE:
        spec = version_ref(version).spec_json
        _MESSAGE_USE[key] = "MessageEventDefinition" in spec or "SignalEventDefinition" in spec
    return _MESSAGE_USE[key]
