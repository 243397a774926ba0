"""Errors the engine raises; the web layer maps them to HTTP once."""


class EngineError(Exception):
    """The workflow engine reached a state it must not continue from."""


class BundleError(EngineError):
    """A process bundle cannot be parsed; `problems` lists what is wrong, file by file."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(f"{p['file']}: {p['message']}" for p in self.problems))


class TaskNotReady(EngineError):
    """The task does not exist in the instance or is no longer READY."""


class ScriptError(EngineError):
    """A BPMN script or expression failed or broke the sandbox rules; where known, `script` names
    the BPMN element, `line` the script's line and `error_type` the Python error's class."""

    def __init__(self, message, script=None, line=None, error_type=None, source_line=None):
        super().__init__(message)
        self.script, self.line, self.error_type, self.source_line = script, line, error_type, source_line
