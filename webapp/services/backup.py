"""Backup and restore of the whole record: the database and the file store, in one archive.

An archive (`.tar.gz`) holds `manifest.json` (when, which backend, the schema revision, the number
of rows per table, the audit chain's head, a SHA-256 per member), the database — SQLite copied with
its online backup API (consistent while the app runs), PostgreSQL as `pg_dump --format=custom` (one
snapshot) — and `files/`, the content-addressed file store, when there is one.

`restore` checks every member's hash before it touches anything, replaces the database (SQLite:
the backup API writes into the target file, WAL included; PostgreSQL: `pg_restore --clean`),
copies the files back, and then proves the result: every table holds the rows the manifest counted
and the audit chain verifies against its checkpoint. A restore that cannot prove that reports it.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import column, func, inspect, select, table
from sqlalchemy.engine import make_url

from ..errors import InvalidInput
from ..extensions import db
from .audit import checkpoint, verify_chain

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass
class RestoreReport:
    """What a restore found: the manifest it restored and whether the result matches it."""

    manifest: dict[str, Any]
    counts: dict[str, int]
    audit_intact: bool
    mismatched: dict[str, tuple[int, int]] = field(default_factory=dict)  # table: (expected, found)

    @property
    def ok(self) -> bool:
        return self.audit_intact and not self.mismatched


def record_counts() -> dict[str, int]:
    """Rows per table of the app's database (alembic's own table left out)."""
    names = sorted(n for n in inspect(db.engine).get_table_names() if n != "alembic_version")
    return {n: int(db.session.scalar(select(func.count()).select_from(table(n))) or 0) for n in names}


def _revision() -> list[str]:
    return sorted(db.session.execute(select(table("alembic_version", column("version_num")))).scalars())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq_url(uri: str) -> str:
    return make_url(uri).set(drivername="postgresql").render_as_string(hide_password=False)


def _dump_database(uri: str, target: Path) -> str:
    """Write the database to `target`; its name inside the archive."""
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        db.session.remove()
        source = sqlite3.connect(url.database or "")
        copy = sqlite3.connect(target / "database.sqlite")
        with copy:
            source.backup(copy)
        copy.close()
        source.close()
        return "database.sqlite"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(target / "database.dump"), _libpq_url(uri)],
        check=True,
        capture_output=True,
    )
    return "database.dump"


def backup(uri: str, archive: Path, files_dir: Path | None = None) -> dict[str, Any]:
    """Back up the database at `uri` (and `files_dir`) into `archive`; the manifest written."""
    archive = Path(archive)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # Counted before the copy: a write that lands between the two is in the copy and not counted,
        # which restore reports; the app is normally quiet (or stopped) while a backup is taken.
        counts, head, revision = record_counts(), checkpoint(), _revision()
        database = _dump_database(uri, work)
        members = {database: _sha256(work / database)}
        if files_dir is not None and Path(files_dir).is_dir():
            shutil.copytree(files_dir, work / "files")
            for path in sorted((work / "files").rglob("*")):
                if path.is_file():
                    members[str(path.relative_to(work))] = _sha256(path)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "backend": make_url(uri).get_backend_name(),
            "revision": revision,
            "counts": counts,
            "audit_checkpoint": head,
            "members": members,
        }
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2, sort_keys=True, default=str).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
            for name in members:
                tar.add(work / name, arcname=name)
        os.replace(partial, archive)  # never a half-written archive under the real name
    return manifest


def _unpack(archive: Path, work: Path) -> dict[str, Any]:
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(work, filter="data")  # no absolute paths, no "..", no devices or links out
    try:
        manifest: dict[str, Any] = json.loads((work / MANIFEST).read_text())
    except (OSError, ValueError):
        raise InvalidInput("not a Traceflow backup: no readable manifest.json") from None
    bad = [n for n, digest in manifest["members"].items() if not (work / n).is_file() or _sha256(work / n) != digest]
    if bad:
        raise InvalidInput(f"the backup is damaged: {', '.join(sorted(bad))} do not match the manifest")
    return manifest


def _restore_database(uri: str, work: Path, manifest: dict[str, Any]) -> None:
    url = make_url(uri)
    if manifest["backend"] != url.get_backend_name():
        raise InvalidInput(f"a {manifest['backend']} backup cannot be restored into {url.get_backend_name()}")
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old database open
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(work / "database.sqlite")
        target = sqlite3.connect(url.database or "")
        with target:
            source.backup(target)
        target.close()
        source.close()
        return
    subprocess.run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
         "--dbname", _libpq_url(uri), str(work / "database.dump")],
        check=True,
        capture_output=True,
    )  # fmt: skip


def restore(uri: str, archive: Path, files_dir: Path | None = None) -> RestoreReport:
    """Restore `archive` into the database at `uri` (and `files_dir`); what it proves afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        manifest = _unpack(Path(archive), work)
        _restore_database(uri, work, manifest)
        if files_dir is not None and (work / "files").is_dir():
            shutil.copytree(work / "files", files_dir, dirs_exist_ok=True)  # content-addressed: merge
    counts = record_counts()
    expected: dict[str, int] = manifest["counts"]
    mismatched = {
        name: (expected.get(name, 0), counts.get(name, 0))
        for name in sorted(set(expected) | set(counts))
        if expected.get(name, 0) != counts.get(name, 0)
    }
    return RestoreReport(manifest, counts, verify_chain().intact, mismatched)
