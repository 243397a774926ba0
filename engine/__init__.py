"""SpiffWorkflow integration: parse, run and serialize BPMN processes.

Nothing here knows Flask or SQL. Callers hand in source files and plain data and get plain data
(dicts, frozen dataclasses) back; the parser, serializer and script environment are built here and
passed to the workflow explicitly.
"""

from .bundle import ProcessBundle, SourceFile
from .deployment import CompiledProcess, ValidationReport, compile_bundle, validate_bundle
from .errors import BundleError, EngineError, ScriptError, TaskNotReady
from .operations import Operation, OperationRegistry, ServiceError
from .roles import lane_to_role
from .runtime import Engine, InstanceSnapshot, VersionRef, check_consistent
from .tasks import HumanTask
from .validation import SIGNATURE_MEANINGS

__all__ = [
    "SIGNATURE_MEANINGS",
    "BundleError",
    "CompiledProcess",
    "Engine",
    "EngineError",
    "HumanTask",
    "InstanceSnapshot",
    "Operation",
    "OperationRegistry",
    "ProcessBundle",
    "ScriptError",
    "ServiceError",
    "SourceFile",
    "TaskNotReady",
    "ValidationReport",
    "VersionRef",
    "check_consistent",
    "compile_bundle",
    "lane_to_role",
    "validate_bundle",
]
