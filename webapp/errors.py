"""Domain errors, defined once; webapp/http_errors.py maps them to HTTP once."""


class DomainError(Exception):
    """Base of every refusal a service can give; `status` is the HTTP status it maps to."""

    status = 400
    code = "error"

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(DomainError):
    """The request itself is malformed or names something that does not fit."""

    status, code = 400, "invalid_input"


class FormInvalid(DomainError):
    """Submitted task data violates the task's JSON Schema; `errors` maps field paths to messages."""

    status, code = 400, "form_invalid"


class AuthenticationFailed(DomainError):
    """Wrong credentials or no valid token."""

    status, code = 401, "unauthenticated"


class PermissionDenied(DomainError):
    """The caller is authenticated but may not do this."""

    status, code = 403, "forbidden"


class NotFound(DomainError):
    """The named record does not exist (or is not visible to the caller)."""

    status, code = 404, "not_found"


class Conflict(DomainError):
    """The record changed under the caller: completed, claimed or updated concurrently."""

    status, code = 409, "conflict"


class ProcessFailure(DomainError):
    """The engine failed while running the process; nothing was saved."""

    status, code = 500, "process_failure"


class DeploymentInvalid(DomainError):
    """A bundle did not validate; `errors` holds the report rows; nothing was deployed."""

    status, code = 422, "deployment_invalid"


class GuardRefused(DomainError):
    """A compliance rule (rules/erp_guards.json) refuses the operation; `rule` names it; nothing was saved."""

    status, code = 422, "guard_refused"

    def __init__(self, rule, message, errors=None):
        super().__init__(f"{rule}: {message}", {"rule": rule, **(errors or {})})
        self.rule = rule


class ImportRejected(DomainError):
    """A data import had row errors; `errors["rows"]` lists file, row, column and reason; nothing was saved."""

    status, code = 422, "import_rejected"


class UdiInvalid(DomainError):
    """A scanned or typed UDI (GS1 element string) cannot be used: bad syntax, check digit or unknown GTIN."""

    status, code = 400, "udi_invalid"


class IncidentRaised(DomainError):
    """A service task failed: nothing was saved, an incident records the error and can be retried."""

    status, code = 422, "incident"


class FileRefused(DomainError):
    """An upload whose content is not of an allowed type (or does not match its name); nothing was stored."""

    status, code = 422, "file_refused"


class FileTooLarge(FileRefused):
    """An upload over the configured size limit; nothing was stored."""

    status, code = 413, "file_too_large"


class TrainingRequired(GuardRefused):
    """The user has no completed training on the effective version of a document the task requires."""

    status, code = 403, "training_required"
