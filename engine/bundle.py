"""A process bundle: the BPMN, DMN and form files that make up deployable processes."""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, Self

from .errors import BundleError, Problem

BPMN_SUFFIX, DMN_SUFFIX, FORM_SUFFIX = ".bpmn", ".dmn", ".json"
# Files SpiffArena exports next to the diagrams that carry nothing to deploy.
IGNORED_NAMES = {"process_model.json", "process_group.json"}
MAX_ZIP_FILES, MAX_UNPACKED_BYTES = 500, 50 * 1024 * 1024

FileKind = Literal["bpmn", "dmn", "form", "other"]


@dataclass(frozen=True)
class SourceFile:
    """One source file of a bundle: its name (no folders) and its text."""

    name: str
    text: str

    @property
    def kind(self) -> FileKind:
        """'bpmn', 'dmn' or 'form', from the file name."""
        if self.name.endswith(BPMN_SUFFIX):
            return "bpmn"
        if self.name.endswith(DMN_SUFFIX):
            return "dmn"
        if self.name.endswith(FORM_SUFFIX):
            return "form"
        return "other"


class ProcessBundle:
    """An immutable set of source files addressed by name."""

    def __init__(self, files: Iterable[SourceFile]) -> None:
        self.files: dict[str, SourceFile] = {f.name: f for f in files}

    @classmethod
    def from_paths(cls, *paths: str | os.PathLike[str]) -> Self:
        """Collect *.bpmn, *.dmn and *.json files from the given files and folders (not recursive)."""
        files: list[SourceFile] = []
        for given in map(Path, paths):
            for path in sorted(given.glob("*")) if given.is_dir() else [given]:
                if path.suffix in (BPMN_SUFFIX, DMN_SUFFIX, FORM_SUFFIX) and path.is_file():
                    files.append(SourceFile(path.name, path.read_text(encoding="utf-8")))
        return cls(files)

    from_directories = from_paths

    @classmethod
    def from_uploads(cls, uploads: Iterable[tuple[str, bytes]]) -> Self:
        """Build from uploaded (filename, bytes) pairs; .zip archives are unpacked (folders flattened).
        Raises BundleError for undecodable files, duplicate names, oversized or damaged archives and
        names that are not plain relative paths (absolute, `..`, backslashes, drive letters)."""
        files: dict[str, SourceFile] = {}
        problems: list[Problem] = []
        for filename, data in uploads:
            unsafe = unsafe_name(filename)
            if unsafe:
                problems.append(_problem(filename, f"unsafe file name: {unsafe}"))
                continue
            entries = _unzip(filename, data, problems) if filename.lower().endswith(".zip") else [(filename, data)]
            for name, content in entries:
                name = PurePosixPath(name).name
                if name in IGNORED_NAMES or Path(name).suffix not in (BPMN_SUFFIX, DMN_SUFFIX, FORM_SUFFIX):
                    continue
                try:
                    text = content.decode("utf-8-sig")
                except UnicodeDecodeError:
                    problems.append({"file": name, "line": None, "element": None, "message": "not UTF-8 text"})
                    continue
                if name in files:
                    problems.append(
                        {
                            "file": name,
                            "line": None,
                            "element": None,
                            "message": "two files in the upload have this name",
                        }
                    )
                files[name] = SourceFile(name, text)
        if problems:
            raise BundleError(problems)
        return cls(files.values())

    def of_kind(self, kind: FileKind) -> list[SourceFile]:
        """The files of one kind, sorted by name."""
        return [f for name, f in sorted(self.files.items()) if f.kind == kind]

    def get(self, name: str) -> SourceFile | None:
        """The file called `name`, or None."""
        return self.files.get(name)


def content_hash(files: Iterable[SourceFile]) -> str:
    """SHA-256 over the names and texts of `files`, independent of their order."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        digest.update(f.name.encode("utf-8") + b"\0" + f.text.encode("utf-8") + b"\0")
    return digest.hexdigest()


_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_name(name: str) -> str | None:
    """Why `name` (an uploaded file or zip member) is not a plain relative path, or None when it is."""
    if not name or any(ord(c) < 32 for c in name):
        return "empty or with control characters"
    if "\\" in name:
        return "backslashes are not allowed"
    if _DRIVE.match(name):
        return "a drive letter is not allowed"
    if name.startswith("/"):
        return "an absolute path is not allowed"
    if ".." in name.split("/"):
        return "a parent folder (..) is not allowed"
    return None


def _problem(file: str | None, message: str) -> Problem:
    return {"file": file, "line": None, "element": None, "message": message}


def _unzip(filename: str, data: bytes, problems: list[Problem]) -> list[tuple[str, bytes]]:
    """The members of a zip archive, refusing archives too large once unpacked (zip bombs), members
    named outside the archive's own folder and members whose data does not match their header."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        problems.append(_problem(filename, "not a valid zip archive"))
        return []
    unsafe = [(m.filename, unsafe_name(m.filename)) for m in archive.infolist()]
    unsafe = [(name, why) for name, why in unsafe if why]
    for name, why in unsafe:
        problems.append(_problem(name, f"unsafe member name in {filename}: {why}"))
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_ZIP_FILES or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        problems.append(_problem(filename, "archive too large"))
        return []
    if unsafe:
        return []
    entries: list[tuple[str, bytes]] = []
    for member in members:
        try:
            content = archive.read(member)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            problems.append(_problem(member.filename, f"damaged member of {filename}: {exc}"))
            continue
        if len(content) != member.file_size:
            problems.append(
                _problem(
                    member.filename,
                    f"damaged member of {filename}: {len(content)} bytes where its header says {member.file_size}",
                )
            )
            continue
        entries.append((member.filename, content))
    return entries
