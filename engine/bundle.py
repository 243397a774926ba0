"""A process bundle: the BPMN, DMN and form files that make up deployable processes."""

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import BundleError

BPMN_SUFFIX, DMN_SUFFIX, FORM_SUFFIX = ".bpmn", ".dmn", ".json"
# Files SpiffArena exports next to the diagrams that carry nothing to deploy.
IGNORED_NAMES = {"process_model.json", "process_group.json"}
MAX_ZIP_FILES, MAX_UNPACKED_BYTES = 500, 50 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    """One source file of a bundle: its name (no folders) and its text."""

    name: str
    text: str

    @property
    def kind(self):
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

    def __init__(self, files):
        self.files = {f.name: f for f in files}

    @classmethod
    def from_paths(cls, *paths):
        """Collect *.bpmn, *.dmn and *.json files from the given files and folders (not recursive)."""
        files = []
        for given in map(Path, paths):
            for path in sorted(given.glob("*")) if given.is_dir() else [given]:
                if path.suffix in (BPMN_SUFFIX, DMN_SUFFIX, FORM_SUFFIX) and path.is_file():
                    files.append(SourceFile(path.name, path.read_text(encoding="utf-8")))
        return cls(files)

    from_directories = from_paths

    @classmethod
    def from_uploads(cls, uploads):
        """Build from uploaded (filename, bytes) pairs; .zip archives are unpacked (folders flattened).
        Raises BundleError for undecodable files, duplicate names and oversized archives."""
        files, problems = {}, []
        for filename, data in uploads:
            entries = _unzip(filename, data, problems) if filename.lower().endswith(".zip") else [(filename, data)]
            for name, content in entries:
                name = PurePosixPath(name.replace("\\", "/")).name
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

    def of_kind(self, kind):
        """The files of one kind, sorted by name."""
        return [f for name, f in sorted(self.files.items()) if f.kind == kind]

    def get(self, name):
        """The file called `name`, or None."""
        return self.files.get(name)


def content_hash(files):
    """SHA-256 over the names and texts of `files`, independent of their order."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        digest.update(f.name.encode("utf-8") + b"\0" + f.text.encode("utf-8") + b"\0")
    return digest.hexdigest()


def _unzip(filename, data, problems):
    """The members of a zip archive, refusing archives too large once unpacked (zip bombs)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        problems.append({"file": filename, "line": None, "element": None, "message": "not a valid zip archive"})
        return []
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_ZIP_FILES or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        problems.append({"file": filename, "line": None, "element": None, "message": "archive too large"})
        return []
    return [(m.filename, archive.read(m)) for m in members]
