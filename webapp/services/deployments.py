"""Deploying process bundles as new immutable versions."""
from dataclasses import dataclass

from sqlalchemy import func, select

from engine import BundleError, VersionRef, compile_bundle
from ..errors import DeploymentInvalid, NotFound
from ..extensions import db
from ..models import ProcessFile, ProcessVersion
from . import audit
from .uow import transaction
from .users import ensure_roles


@dataclass(frozen=True)
class DeployResult:
    """What one process of a deployment became: its key, version and whether it is new."""
    key: str
    version: int
    content_hash: str
    created: bool


def deploy_bundle(bundle, actor=None, comment=""):
    """Validate `bundle` and store a new version of each process whose content changed."""
    try:
        compiled = compile_bundle(bundle)
    except BundleError as exc:
        raise DeploymentInvalid("the bundle is invalid; nothing was deployed", {"errors": exc.problems}) from None
    results = []
    with transaction() as session:
        for process in compiled:
            results.append(_store(session, process, actor, comment))
    return results


def _store(session, process, actor, comment):
    same = session.scalar(select(ProcessVersion).where(ProcessVersion.key == process.key,
                                                       ProcessVersion.content_hash == process.content_hash))
    if same is not None:
        return DeployResult(process.key, same.version, same.content_hash, False)
    latest = session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.key == process.key))
    ensure_roles(set(process.roles) | set(process.start_roles))
    version = ProcessVersion(
        key=process.key, version=(latest or 0) + 1, name=process.name, content_hash=process.content_hash,
        spec_json=process.spec_json, start_roles=list(process.start_roles),
        business_key_prefix=process.business_key_prefix, comment=comment or "",
        deployed_by_id=getattr(actor, "id", None),
        files=[ProcessFile(name=f.name, kind=f.kind, text=f.text) for f in process.files])
    session.add(version)
    session.flush()
    audit.record(actor, "process.deploy", "process_version", version.id,
                 after={"key": version.key, "version": version.version, "content_hash": version.content_hash,
                        "files": [f.name for f in process.files]}, reason=comment or None)
    return DeployResult(process.key, version.version, version.content_hash, True)


def latest_version(key):
    """The newest version of process `key`; NotFound if it was never deployed."""
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.key == key)
                                .order_by(ProcessVersion.version.desc()).limit(1))
    if version is None:
        raise NotFound(f"no process {key}")
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
