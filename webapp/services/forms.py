"""Validating task data against a task's JSON-Schema form, with per-field messages."""

from jsonschema import Draft202012Validator, FormatChecker

from ..errors import FormInvalid

_FORMAT_CHECKER = FormatChecker()


def _field_path(error):
    """Dotted path of the field an error is about; `required` errors name the missing child."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        if missing:
            path.append(missing[0])
    return ".".join(path) or "_form"


def _message(error):
    messages = {
        "required": "required",
        "type": f"must be of type {error.validator_value}",
        "enum": "must be one of the listed values",
        "format": f"must be a valid {error.validator_value}",
        "minItems": f"needs at least {error.validator_value} item(s)",
        "minLength": "required" if error.validator_value == 1 else f"needs at least {error.validator_value} characters",
        "maxLength": f"at most {error.validator_value} characters",
        "minimum": f"must be at least {error.validator_value}",
        "maximum": f"must be at most {error.validator_value}",
    }
    return messages.get(error.validator, error.message)


def validation_errors(schema, data):
    """A mapping of field path → message for every violation of `schema` by `data` (empty when valid)."""
    validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
    errors = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        errors.setdefault(_field_path(error), _message(error))
    return errors


def validate(schema, data):
    """Raise FormInvalid with per-field errors when `data` does not satisfy `schema`."""
    if not isinstance(data, dict):
        raise FormInvalid("task data must be an object", {"_form": "must be an object"})
    if schema is None:
        return
    errors = validation_errors(schema, data)
    if errors:
        raise FormInvalid("the submitted data is invalid", errors)
