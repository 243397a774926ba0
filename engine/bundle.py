"""A process bundle: the BPMN, DMN and form files that make up deployable processes."""
from dataclasses import dataclass
from pathlib import Path
import hashlib

BPMN_SUFFIX, DMN_SUFFIX, FORM_SUFFIX = ".bpmn", ".dmn", ".json"


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
