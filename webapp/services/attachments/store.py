"""The file store: bytes kept under their SHA-256, behind one small interface.

`LocalFileStore` keeps them in a folder (instance/files by default), two levels of directories by
the hash's first characters. Another store (S3-compatible object storage) only has to offer the
same three methods; `store()` returns the app's (config `FILE_STORE`, else a local one at
`FILE_STORE_DIR`). A file is written before the database row that names it commits, so a rolled-back
upload leaves at most an unreferenced blob, never a row without bytes.
"""

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class FileStore(Protocol):
    """Content-addressed bytes."""

    def put(self, sha256: str, data: bytes) -> None:
        """Keep `data` under `sha256` (a no-op when it is there already)."""

    def get(self, sha256: str) -> bytes:
        """The bytes kept under `sha256`; FileNotFoundError when there are none."""

    def exists(self, sha256: str) -> bool:
        """True when bytes are kept under `sha256`."""


class LocalFileStore:
    """A folder of files named by their SHA-256: <root>/ab/cd/abcd…"""

    def __init__(self, root):
        self.root = Path(root)

    def _path(self, sha256):
        if not _HEX64.match(sha256 or ""):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256, data):
        """Write atomically (a temporary file renamed into place)."""
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, sha256):
        """The bytes, read back whole."""
        return self._path(sha256).read_bytes()

    def exists(self, sha256):
        """True when the file is there."""
        return self._path(sha256).is_file()


def store() -> FileStore:
    """The app's file store."""
    configured = current_app.config.get("FILE_STORE")
    if configured is not None:
        return configured
    return LocalFileStore(current_app.config["FILE_STORE_DIR"])
