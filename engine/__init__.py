"""SpiffWorkflow integration: parse, run and serialize BPMN processes.

Nothing here knows Flask or SQL. Callers hand in source files and plain data and get plain data
(dicts, frozen dataclasses) back; the parser, serializer and script environment are built here and
passed to the workflow explicitly.
"""
from .bundle import ProcessBundle, SourceFile
from .errors import EngineError, BundleError, TaskNotReady, ScriptError
from .roles import lane_to_role
from .deployment import CompiledProcess, ValidationReport, compile_bundle, validate_bundle
from .validation import Operation, SIGNATURE_MEANINGS
from .operations import OperationRegistry, ServiceError
from .runtime import Engine, InstanceSnapshot, VersionRef, check_consistent
from .tasks import HumanTask

__all__ = [
    "ProcessBundle", "SourceFile", "EngineError", "BundleError", "TaskNotReady", "ScriptError",
    "lane_to_role", "CompiledProcess", "compile_bundle", "Engine", "HumanTask", "InstanceSnapshot",
    "VersionRef", "check_consistent", "ValidationReport", "validate_bundle", "Operation", "SIGNATURE_MEANINGS",
    "OperationRegistry", "ServiceError",
]
