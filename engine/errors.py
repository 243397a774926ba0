"""Errors the engine raises; the web layer maps them to HTTP once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict


class Problem(TypedDict):
    """One row of a bundle or validation report: the file, line and element a problem is in."""

    file: str | None
    line: int | None
    element: str | None
    message: str


class EngineError(Exception):
    """The workflow engine reached a state it must not continue from."""


class BundleError(EngineError):
    """A process bundle cannot be parsed; `problems` lists what is wrong, file by file."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p['file']}: {p['message']}" for p in self.problems))


class TaskNotReady(EngineError):
    """The task does not exist in the instance or is no longer READY."""


class ScriptError(EngineError):
    """A BPMN script or expression failed or broke the sandbox rules; where known, `script` names
    the BPMN element, `line` the script's line and `error_type` the Python error's class."""

    def __init__(
        self,
        message: str,
        script: str | None = None,
        line: int | None = None,
        error_type: str | None = None,
        source_line: str | None = None,
    ) -> None:
        super().__init__(message)
        self.script, self.line, self.error_type, self.source_line = script, line, error_type, source_line
